"""The services and the gateway in a background thread, for tests, notebooks and browsers driven
from synchronous code (``httpx.Client``, ``websockets.sync``, Playwright):

    with gateway_in_thread(Settings(data_dir=tmp, ports={name: 0 for name in ...})) as gw:
        httpx.get(gw.url + "/healthz")
        gw.call(some_coroutine())    # run it on the event loop of the services and the gateway

The thread runs ``run_services`` and ``serve_gateway`` on its own event loop (their gRPC
channels belong to it); leaving the context stops both gracefully and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from generals_rl.services.common.wiring import Stores
from generals_rl.services.gateway.config import GatewayConfig
from generals_rl.services.gateway.server import serve_gateway
from generals_rl.services.runner import RunningServices, run_services
from generals_rl.settings import Settings

T = TypeVar("T")

SERVICES = ("game", "matchmaker", "model", "elo")
"""What the gateway talks to (the Replay Service is the learners', not the browser's)."""


@dataclass
class ThreadedGateway:
    """A gateway serving from a background thread: its URL, admin token, stores and services."""

    url: str
    admin_token: str
    stores: Stores
    services: RunningServices
    loop: asyncio.AbstractEventLoop

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def call(self, work: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        """Run ``work`` on the services' event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)


@contextlib.contextmanager
def gateway_in_thread(
    settings: Settings,
    services: Sequence[str] = SERVICES,
    config: GatewayConfig | None = None,
    timeout_s: float = 120.0,
) -> Iterator[ThreadedGateway]:
    """Start ``services`` and the gateway on ``settings`` (port 0: free ports) in a thread."""
    config = GatewayConfig(admin_token="test-admin-token") if config is None else config
    started: queue.Queue[ThreadedGateway | BaseException] = queue.Queue()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        stop.append(asyncio.Event())
        try:
            async with (
                run_services(services, settings) as running,
                serve_gateway(settings, running.stores, running.peers, config) as gateway,
            ):
                started.put(
                    ThreadedGateway(
                        url=gateway.url,
                        admin_token=gateway.backend.admin_token,
                        stores=running.stores,
                        services=running,
                        loop=asyncio.get_running_loop(),
                    )
                )
                await stop[0].wait()
        except BaseException as error:  # reported to the caller's thread
            started.put(error)
            raise

    thread = threading.Thread(target=lambda: asyncio.run(serve()), name="gateway", daemon=True)
    thread.start()
    got = started.get(timeout=timeout_s)
    if isinstance(got, BaseException):
        thread.join(timeout_s)
        raise got
    try:
        yield got
    finally:
        got.loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout_s)
