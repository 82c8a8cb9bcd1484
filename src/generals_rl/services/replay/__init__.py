"""The Replay Service (port 50055): experience tables between actors and learners, after DeepMind's
Reverb: samplers (uniform, FIFO, prioritized), removers, capacities, a samples-per-insert rate
limiter, a write-ahead log and checkpoints in the blob store (a restart loses nothing
acknowledged), and an archive of evicted items that can be loaded back.

``open_service`` is what ``grl serve replay`` and ``grl up`` call; ``ReplayCore`` is the domain
(``core.py``), ``ReplayClient`` the client actors and learners use.
"""

from __future__ import annotations

from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.services.replay.client import Chunk, ReplayClient, SampledBatch, Trajectories
from generals_rl.services.replay.config import (
    RemoverConfig,
    ReplayServiceConfig,
    SamplerConfig,
    TableConfig,
)
from generals_rl.services.replay.core import RecordResult, ReplayCore
from generals_rl.services.replay.ratelimiter import RateLimiter, RateLimiterConfig
from generals_rl.services.replay.servicer import ReplayServicer, replay_service
from generals_rl.services.replay.tables import Table, TableStats
from generals_rl.settings import Settings

__all__ = [
    "Chunk",
    "RateLimiter",
    "RateLimiterConfig",
    "RecordResult",
    "RemoverConfig",
    "ReplayClient",
    "ReplayCore",
    "ReplayServiceConfig",
    "ReplayServicer",
    "SampledBatch",
    "SamplerConfig",
    "Table",
    "TableConfig",
    "TableStats",
    "Trajectories",
    "open_service",
]


async def open_service(
    settings: Settings, stores: Stores, peers: Peers, config: ReplayServiceConfig | None = None
) -> ServiceHandle:
    """The Replay Service on the process's blob store, its tables restored; ``config`` defaults to
    ``ReplayServiceConfig.from_env()`` (``GRL_REPLAY_*`` variables). It calls no peers. Closing
    the handle writes a last checkpoint."""
    core = ReplayCore(stores.blobs, config or ReplayServiceConfig.from_env())
    await core.open()
    return ServiceHandle(name="replay", services=[replay_service(ReplayServicer(core))], close=core.close)
