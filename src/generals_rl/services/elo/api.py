"""The Elo Service's interface as callers see it (``Elo``), and its in-process implementation.

``LocalElo`` runs ``EloCore`` in worker threads (its storage calls block); ``client.EloClient`` is the
same interface over gRPC. Both take and return the domain types of ``domain.py`` and raise the
domain errors of ``services.common.errors``, so code written against ``Elo`` runs in one process or
across machines unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from generals_rl.services.elo.core import EloCore
from generals_rl.services.elo.domain import (
    GameReport,
    HeadToHeadRecord,
    HistoryPage,
    LeaderboardPage,
    PlayerRating,
    PlayerRef,
    ReportOutcome,
)


class Elo(Protocol):
    """Rates players from game results (``proto/generals_rl/v1/elo.proto`` documents each operation)."""

    async def report_result(self, report: GameReport) -> ReportOutcome: ...

    async def get_rating(self, player: PlayerRef, mode: str) -> PlayerRating: ...

    async def get_ratings(self, players: Sequence[PlayerRef], mode: str) -> list[PlayerRating]: ...

    async def leaderboard(
        self,
        mode: str,
        *,
        kind: str = "",
        min_games: int = 0,
        order: str = "rating",
        page_size: int = 0,
        page_token: str = "",
    ) -> LeaderboardPage: ...

    async def rating_history(
        self,
        player: PlayerRef,
        mode: str,
        *,
        since: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> HistoryPage: ...

    async def head_to_head(
        self, a: PlayerRef, b: PlayerRef, mode: str, *, recent: int = 0
    ) -> HeadToHeadRecord: ...


class LocalElo:
    """``Elo`` in this process: each call runs ``EloCore`` in a worker thread."""

    def __init__(self, core: EloCore) -> None:
        self.core = core

    async def report_result(self, report: GameReport) -> ReportOutcome:
        return await asyncio.to_thread(self.core.report_result, report)

    async def get_rating(self, player: PlayerRef, mode: str) -> PlayerRating:
        return await asyncio.to_thread(self.core.get_rating, player, mode)

    async def get_ratings(self, players: Sequence[PlayerRef], mode: str) -> list[PlayerRating]:
        return await asyncio.to_thread(self.core.get_ratings, players, mode)

    async def leaderboard(
        self,
        mode: str,
        *,
        kind: str = "",
        min_games: int = 0,
        order: str = "rating",
        page_size: int = 0,
        page_token: str = "",
    ) -> LeaderboardPage:
        return await asyncio.to_thread(
            self.core.leaderboard,
            mode,
            kind=kind,
            min_games=min_games,
            order=order,
            page_size=page_size,
            page_token=page_token,
        )

    async def rating_history(
        self,
        player: PlayerRef,
        mode: str,
        *,
        since: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> HistoryPage:
        return await asyncio.to_thread(
            self.core.rating_history, player, mode, since=since, page_size=page_size, page_token=page_token
        )

    async def head_to_head(
        self, a: PlayerRef, b: PlayerRef, mode: str, *, recent: int = 0
    ) -> HeadToHeadRecord:
        return await asyncio.to_thread(self.core.head_to_head, a, b, mode, recent=recent)
