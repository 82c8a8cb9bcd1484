"""Run services in this process: one (``grl serve NAME``) or all of them (``grl up``).

    async with run_services(["game", "elo"], settings) as running:
        running.address("game")  # where the Game Service listens (port 0 in settings: a free one)

Each service gets its own gRPC server on ``settings.port(name)``; they share one set of stores
(``Stores.open``: the SQL schema is migrated first) and reach each other through ``Peers`` at the
addresses they actually bound, so a test can run everything on free ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from generals_rl.services.common.server import Server, ServerConfig
from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.settings import Settings

SERVICE_NAMES = ("game", "matchmaker", "model", "elo", "replay")
"""Every gRPC service, in the order ``grl up`` starts them."""

log = logging.getLogger(__name__)


class ServiceUnavailableError(RuntimeError):
    """A service this build cannot run (unknown name, or not implemented yet)."""


def load_service(name: str):  # type: ignore[no-untyped-def]
    """The ``open_service`` function of a service package."""
    if name not in SERVICE_NAMES:
        raise ServiceUnavailableError(f"unknown service {name!r}: choose one of {', '.join(SERVICE_NAMES)}")
    package = f"generals_rl.services.{name}"
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:
            raise
        raise ServiceUnavailableError(f"the {name} service is not available in this version") from None
    open_service = getattr(module, "open_service", None)
    if open_service is None:
        raise ServiceUnavailableError(f"the {name} service is not available in this version")
    return open_service


@dataclass
class RunningServices:
    """Services started by ``run_services``: their servers and handles."""

    servers: dict[str, Server]
    handles: dict[str, ServiceHandle]
    stores: Stores
    peers: Peers

    def address(self, name: str) -> str:
        return self.servers[name].address


@contextlib.asynccontextmanager
async def run_services(names: Sequence[str], settings: Settings) -> AsyncIterator[RunningServices]:
    """Start ``names`` (in ``SERVICE_NAMES`` order) and stop them all on exit, gracefully."""
    names = [name for name in SERVICE_NAMES if name in set(names)]
    openers = {name: load_service(name) for name in names}
    stores = await asyncio.to_thread(Stores.open, settings)
    peers = Peers(settings)
    handles: dict[str, ServiceHandle] = {}
    servers: dict[str, Server] = {}
    try:
        for name in names:
            handles[name] = await openers[name](settings, stores, peers)
        for i, name in enumerate(names):
            config = ServerConfig(
                host=settings.host,
                port=settings.port(name),
                metrics_port=settings.metrics_port if i == 0 else None,
            )
            servers[name] = Server(handles[name].services, config)
            await servers[name].start()
        # Peers in this process are reached where their servers really listen (port 0 in tests).
        peers.settings = settings.replace(
            addresses={**settings.addresses, **{name: server.address for name, server in servers.items()}}
        )
        for name in names:
            await handles[name].start()
        log.info("services up", extra={"services": ",".join(names)})
        yield RunningServices(servers=servers, handles=handles, stores=stores, peers=peers)
    finally:
        for name in reversed(list(handles)):
            try:
                await handles[name].close()
            except Exception:  # one service failing to close must not keep the others running
                log.exception("closing a service failed", extra={"service": name})
        await asyncio.gather(*(server.stop() for server in servers.values()))
        await peers.close()
        stores.close()
