"""Matchmaker Service (port 50052): queue pairing by rating, tournaments, opponent sampling."""

from __future__ import annotations

import time
from collections.abc import Callable

from generals_rl.services.common.server import bind
from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.services.matchmaker.core import MatchmakerConfig
from generals_rl.services.matchmaker.peers import CacheSessions, GrpcGames, GrpcModels, GrpcRatings
from generals_rl.services.matchmaker.queues import Queues
from generals_rl.services.matchmaker.servicer import MatchmakerServicer
from generals_rl.services.matchmaker.tournaments_runner import Tournaments
from generals_rl.settings import Settings
from generals_rl.v1 import matchmaker_pb2

SERVICE = matchmaker_pb2.DESCRIPTOR.services_by_name["MatchmakerService"]


async def open_service(
    settings: Settings,
    stores: Stores,
    peers: Peers,
    *,
    config: MatchmakerConfig | None = None,
    clock: Callable[[], float] = time.time,
) -> ServiceHandle:
    """The Matchmaker on the process's stores: queues in the cache, tournaments in the blob store,
    the Game, Elo and Model services through ``peers``. ``start`` runs the pairing loop."""
    config = config or MatchmakerConfig()
    games = GrpcGames(lambda: peers.channel("game"), lambda: peers.settings.address("game"))
    ratings = GrpcRatings(lambda: peers.channel("elo"))
    models = GrpcModels(lambda: peers.channel("model"))
    queues = Queues(stores.cache, games, ratings, models, CacheSessions(stores.cache), config, clock)
    tournaments = Tournaments(stores.blobs, stores.cache, games, models, config, clock)

    async def close() -> None:
        await queues.close()
        await tournaments.close()

    return ServiceHandle(
        name="matchmaker",
        services=[bind(MatchmakerServicer(queues, tournaments), SERVICE)],
        start=queues.start,
        close=close,
    )
