"""What the gateway's routes reach: the clients of the gRPC services, the stores, the config and
the admin token, opened once per process.

The gateway holds no game state of its own: games live in the Game Service, ratings in the Elo
Service, versions in the Model Service, queues and tournaments in the Matchmaker. It reads the
stores directly only for what no service serves: guest sessions (cache,
``services.common.sessions``), stored replays (blobs, ``replays`` bucket) and the history of
finished games (SQL), and the training status that ``grl train`` writes to the cache.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

import grpc.aio

from generals_rl.services.common.channels import channel
from generals_rl.services.common.wiring import Stores
from generals_rl.services.elo.client import EloClient
from generals_rl.services.game.client import GameClient
from generals_rl.services.gateway.config import GatewayConfig
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.model.client import ModelClient
from generals_rl.settings import Settings

log = logging.getLogger(__name__)

PEERS = ("game", "matchmaker", "model", "elo")


class FrameCache:
    """The last few replays simulated for the viewer, by replay id (they never change)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: str, value: bytes) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class Backend:
    """Everything a request handler may use (module docstring)."""

    config: GatewayConfig
    stores: Stores
    games: GameClient
    matchmaker: MatchmakerClient
    models: ModelClient
    elo: EloClient
    channels: dict[str, grpc.aio.Channel]
    admin_token: str
    frames: FrameCache = field(default_factory=FrameCache)

    @staticmethod
    def open(settings: Settings, stores: Stores, config: GatewayConfig) -> Backend:
        """Channels to the services at ``settings.address(name)``; calls fail fast (no waiting
        for a service that is down: the browser gets 503 at once)."""
        channels = {name: channel(settings.address(name), retries=2) for name in PEERS}
        timeout = config.rpc_timeout_s
        admin = config.admin_token
        if not admin:
            admin = secrets.token_urlsafe(18)
            log.warning("no GRL_ADMIN_TOKEN: this gateway's admin token is %s", admin)
        return Backend(
            config=config,
            stores=stores,
            games=GameClient(channels["game"], timeout),
            matchmaker=MatchmakerClient(channels["matchmaker"], timeout),
            models=ModelClient(channels["model"], timeout_s=timeout),
            elo=EloClient(channels["elo"], timeout_s=timeout),
            channels=channels,
            admin_token=admin,
        )

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self.channels.values()))
