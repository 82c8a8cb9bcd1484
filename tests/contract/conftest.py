"""Helpers for the contract suites (the servers and storage fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def concurrently() -> Callable[..., list[Any]]:
    """``concurrently(f, g, ...)`` runs the calls in threads, all started together; their results in order.
    The first exception a call raised is raised again."""

    def run(*calls: Callable[[], Any]) -> list[Any]:
        results: list[Any] = [None] * len(calls)
        failures: list[BaseException] = []
        start = threading.Barrier(len(calls))

        def worker(index: int, call: Callable[[], Any]) -> None:
            start.wait()
            try:
                results[index] = call()
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        if failures:
            raise failures[0]
        return results

    return run
