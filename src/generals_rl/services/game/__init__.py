"""The Game Service (port 50051): seated generals.io games with humans, bots and model versions,
and batched lock-step games for actors (StepBatch).

Modules: ``domain`` (types), ``core`` (``GameManager``: the live games), ``rooms`` (one game),
``queues`` (move queues), ``clocks`` (time sources), ``boards`` (maps), ``requests`` (checks),
``results``, ``lockstep`` (StepBatch sessions), ``models`` (hosted model versions' networks),
``archive`` (storage at game end), ``host`` (``GameHost``: the service in one process),
``convert`` / ``servicer`` (the wire), ``client`` (``GameClient``).
"""

from __future__ import annotations

from generals_rl.services.common.server import bind
from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.services.game.archive import GameArchive
from generals_rl.services.game.client import GameClient
from generals_rl.services.game.core import GameManager, GameServiceConfig
from generals_rl.services.game.host import GameHost, elo_sender
from generals_rl.services.game.models import HostedModels
from generals_rl.services.game.servicer import SERVICE, GameServicer
from generals_rl.services.model.client import ModelClient
from generals_rl.settings import Settings

__all__ = [
    "GameClient",
    "GameHost",
    "GameManager",
    "GameServiceConfig",
    "GameServicer",
    "HostedModels",
    "open_service",
]


async def open_service(
    settings: Settings, stores: Stores, peers: Peers, config: GameServiceConfig | None = None
) -> ServiceHandle:
    """The Game Service on ``stores``, reporting results to the Elo Service at ``settings.address("elo")``
    and hosting model versions it fetches from the Model Service at ``settings.address("model")``."""
    config = config or GameServiceConfig()
    timeout_s = config.model_timeout_s
    host = GameHost(
        archive=GameArchive(stores.database, stores.cache, stores.blobs),
        send_result=elo_sender(lambda: peers.channel("elo")),
        config=config,
        models=HostedModels(
            lambda: ModelClient(peers.channel("model"), timeout_s=timeout_s), config.model_cache_bytes
        ),
    )
    return ServiceHandle(
        name="game",
        services=[bind(GameServicer(host), SERVICE)],
        start=host.start,
        close=host.close,
    )
