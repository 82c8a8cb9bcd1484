"""The Elo Service (port 50054): ratings per player, model version and mode from game results;
leaderboards, rating histories and head-to-head records.

``open_service`` is what ``grl serve elo`` and ``grl up`` call; ``EloCore`` is the domain
(``core.py``), ``LocalElo`` and ``EloClient`` the same interface in process and over gRPC.
"""

from __future__ import annotations

from generals_rl.services.common.server import bind
from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.services.elo.api import Elo, LocalElo
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.config import EloServiceConfig
from generals_rl.services.elo.core import EloCore
from generals_rl.services.elo.domain import (
    GameReport,
    HeadToHeadRecord,
    HistoryPage,
    LeaderboardPage,
    PlayerRating,
    PlayerRef,
    RatingChange,
    RatingPoint,
    ReportOutcome,
    SeatResult,
)
from generals_rl.services.elo.servicer import EloServicer
from generals_rl.settings import Settings
from generals_rl.v1 import elo_pb2

__all__ = [
    "Elo",
    "EloClient",
    "EloCore",
    "EloServiceConfig",
    "EloServicer",
    "GameReport",
    "HeadToHeadRecord",
    "HistoryPage",
    "LeaderboardPage",
    "LocalElo",
    "PlayerRating",
    "PlayerRef",
    "RatingChange",
    "RatingPoint",
    "ReportOutcome",
    "SeatResult",
    "open_service",
]

DESCRIPTOR = elo_pb2.DESCRIPTOR.services_by_name["EloService"]


async def open_service(
    settings: Settings, stores: Stores, peers: Peers, config: EloServiceConfig | None = None
) -> ServiceHandle:
    """The Elo Service on the process's stores; ``config`` defaults to ``EloServiceConfig.from_env()``
    (``GRL_ELO_*`` variables). It calls no peers."""
    core = EloCore(stores.database, stores.cache, config or EloServiceConfig.from_env())
    return ServiceHandle(name="elo", services=[bind(EloServicer(LocalElo(core)), DESCRIPTOR)])
