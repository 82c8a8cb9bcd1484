"""Which failures the actor and the learner wait out: outages, not bugs or bad input."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from generals_rl.services.common.errors import InvalidArgument, RemoteError, Unavailable
from generals_rl.training.remote import CORE_INTERNAL, Backoff, retry, retryable


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Unavailable("connection refused"), True),
        (RemoteError(grpc.StatusCode.CANCELLED, "server shutting down"), True),
        # the client's core breaks a stream whose server died (a killed Replay Service): an outage
        (RemoteError(grpc.StatusCode.INTERNAL, CORE_INTERNAL), True),
        # a servicer's own INTERNAL is a bug: retrying would hide it
        (RemoteError(grpc.StatusCode.INTERNAL, "the table's sum tree is corrupt"), False),
        (InvalidArgument("actions: expected int64"), False),
        (ValueError("not a service error"), False),
    ],
)
def test_only_outages_are_retried(error: BaseException, expected: bool) -> None:
    assert retryable(error) is expected


def test_retry_waits_out_a_broken_stream_then_succeeds() -> None:
    failures = [RemoteError(grpc.StatusCode.INTERNAL, CORE_INTERNAL), Unavailable("restarting")]

    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return "acknowledged"

    backoff = Backoff(initial_s=0.001, max_s=0.002)
    assert asyncio.run(retry(call, "record", backoff, asyncio.Event())) == "acknowledged"
    assert not failures
