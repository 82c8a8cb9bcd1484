"""``HostedModels``: the policy networks of the model versions the Game Service plays itself.

A hosted model seat (``SeatSpec(PlayerRef("model", "3"), hosted=True)``, or JoinGame with
``model_version`` and ``hosted``) needs version 3's network before the seat is taken. ``load``
asks the Model Service about the version (GetVersion: only ACCEPTED versions play) and, unless the
network is in memory already, downloads its weights (GetPolicy, size and SHA-256 checked) and
builds it (``model.weights.load_network``: the architecture id and config travel with the weights).
Networks stay in a ``SizedLru`` bounded in bytes, so a tournament or an evaluation that seats the
same version in many games downloads it once; concurrent loads of one version share one download.

What can go wrong, as the caller's error (the game is not created, nothing else changes):

- ``NotFound``: the Model Service does not know the version;
- ``FailedPrecondition``: the version is PENDING, REJECTED or RETIRED, or its weights do not load
  in this build (an architecture it does not know);
- ``Unavailable``: the Model Service cannot be reached (or did not answer in time), or this server
  has none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from generals_rl.services.common.errors import (
    FailedPrecondition,
    NotFound,
    ServiceError,
    Unavailable,
)
from generals_rl.services.model import weights
from generals_rl.services.model.api import Target
from generals_rl.services.model.domain import NotModified, Selector, VersionInfo
from generals_rl.services.model.lru import SizedLru
from generals_rl.training.networks import PolicyNetwork

log = logging.getLogger(__name__)

T = TypeVar("T")


class VersionSource(Protocol):
    """What ``HostedModels`` asks the Model Service (``ModelClient`` and ``LocalModelRegistry`` do)."""

    async def get_version(self, selector: Selector) -> VersionInfo: ...

    async def fetch_bytes(
        self, target: Target, *, if_newer_than: int = 0
    ) -> tuple[VersionInfo, bytes] | NotModified: ...


Registry = Callable[[], VersionSource]
"""Gives the Model Service to ask (``ModelClient`` on the peer channel, or a ``LocalModelRegistry``),
asked for at every load: the peer's address may be known only once every server listens."""


def network_bytes(network: PolicyNetwork) -> int:
    """Memory held by a network's parameters and buffers."""
    tensors = [*network.parameters(), *network.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


class HostedModels:
    """Loaded networks by version (module docstring); ``capacity_bytes`` bounds the ones kept."""

    def __init__(self, registry: Registry | None, capacity_bytes: int = 256 * 1024 * 1024) -> None:
        self.registry = registry
        self.networks: SizedLru[PolicyNetwork] = SizedLru(capacity_bytes, network_bytes)
        self._downloads: dict[int, asyncio.Task[PolicyNetwork]] = {}

    async def load_all(self, versions: Iterable[int]) -> dict[int, PolicyNetwork]:
        """The network of every version (each loaded once)."""
        return {version: await self.load(version) for version in sorted(set(versions))}

    async def load(self, version: int) -> PolicyNetwork:
        """Version ``version``'s network, in eval mode on the CPU (module docstring for errors)."""
        if self.registry is None:
            raise Unavailable(
                f"model version {version}: this server has no Model Service to fetch model versions from"
            )
        registry = self.registry()
        info = await _asking(version, registry.get_version(Selector(version=version)))
        if info.state != "accepted":
            reason = f" ({info.status_reason})" if info.status_reason else ""
            raise FailedPrecondition(
                f"model version {version} is {info.state.upper()}{reason}, not ACCEPTED: it cannot play"
            )
        network = self.networks.get(str(version))
        if network is not None:
            return network
        task = self._downloads.get(version)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._download(registry, version))
            self._downloads[version] = task
            task.add_done_callback(lambda _: self._downloads.pop(version, None))
        return await asyncio.shield(task)  # a caller that goes away leaves the download to the others

    async def _download(self, registry: VersionSource, version: int) -> PolicyNetwork:
        got = await _asking(version, registry.fetch_bytes(Selector(version=version)))
        if isinstance(got, NotModified):  # only with if_newer_than, which is not given
            raise Unavailable(f"model version {version}: the Model Service answered not_modified")
        info, data = got
        metadata = info.metadata
        try:
            network = await asyncio.to_thread(
                weights.load_network, metadata.architecture, metadata.config_json, data
            )
        except ValueError as error:
            raise FailedPrecondition(f"model version {version} cannot be loaded here: {error}") from None
        self.networks.put(str(version), network)
        log.info(
            "model version loaded",
            extra={"version": version, "architecture": metadata.architecture, "bytes": len(data)},
        )
        return network


async def _asking(version: int, call: Awaitable[T]) -> T:
    """Await a Model Service call; its failures as this module's errors."""
    try:
        return await call
    except (NotFound, FailedPrecondition) as error:
        raise type(error)(f"model version {version}: {error}") from None
    except (ServiceError, OSError) as error:
        raise Unavailable(f"the Model Service could not give model version {version}: {error}") from None
