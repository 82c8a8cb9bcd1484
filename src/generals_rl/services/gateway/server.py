"""Run the gateway in this process: uvicorn on ``settings.port("gateway")`` (0: a free port),
beside the gRPC services of ``run_services`` or alone in front of remote ones.

    async with run_services(names, settings) as running:
        async with serve_gateway(settings, running.stores, running.peers) as gateway:
            gateway.url  # "http://127.0.0.1:8080"

The socket is bound before the context is entered, so ``url`` names the real port; leaving the
context closes the WebSockets (code 1012), waits up to ``grace_s`` for requests in flight, then
closes the channels to the services.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass

import uvicorn

from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.gateway.app import create_app
from generals_rl.services.gateway.backend import Backend
from generals_rl.services.gateway.config import GatewayConfig
from generals_rl.settings import Settings

log = logging.getLogger(__name__)

WS_MAX_BYTES = 1024 * 1024
"""Largest WebSocket frame uvicorn takes; the app answers messages over its own, smaller limit."""


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: ``grl up`` owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class RunningGateway:
    """A started gateway: where it listens, and its backend (clients, stores, admin token)."""

    host: str
    port: int
    backend: Backend

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def serve_gateway(
    settings: Settings,
    stores: Stores,
    peers: Peers | None = None,
    config: GatewayConfig | None = None,
    grace_s: float = 5.0,
) -> AsyncIterator[RunningGateway]:
    """Serve the gateway until the context exits (module docstring). Services are reached at
    ``peers.settings`` addresses when given (where ``run_services`` bound them), else at
    ``settings``'."""
    config = GatewayConfig.from_env() if config is None else config
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # "gateway up" below says it
    backend = Backend.open(peers.settings if peers is not None else settings, stores, config)
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port("gateway")))
    except OSError:
        sock.close()
        await backend.close()
        raise
    port = int(sock.getsockname()[1])
    server = _Server(
        uvicorn.Config(
            create_app(backend),
            log_config=None,
            access_log=False,
            lifespan="off",
            ws_max_size=WS_MAX_BYTES,
            timeout_graceful_shutdown=int(grace_s),
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise OSError(f"the gateway did not start on {settings.host}:{port}")
            await asyncio.sleep(0.01)
        log.info("gateway up", extra={"address": f"{settings.host}:{port}"})
        yield RunningGateway(settings.host, port, backend)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()
        await backend.close()
