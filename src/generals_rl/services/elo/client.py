"""``EloClient``: the ``Elo`` interface over a ``grpc.aio`` channel to an Elo Service.

    async with channel("127.0.0.1:50054") as ch:
        elo = EloClient(ch)
        board = await elo.leaderboard("1v1", page_size=10)

A failed call raises the domain error of its status (``NotFound``, ``AlreadyExists``, ...), exactly as
``LocalElo`` would, with the server's message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

import grpc
import grpc.aio

from generals_rl.services.common.errors import from_rpc_error
from generals_rl.services.elo import convert
from generals_rl.services.elo.domain import (
    GameReport,
    HeadToHeadRecord,
    HistoryPage,
    LeaderboardPage,
    PlayerRating,
    PlayerRef,
    ReportOutcome,
)
from generals_rl.v1 import common_pb2, elo_pb2, elo_pb2_grpc

T = TypeVar("T")


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.RpcError as error:
        raise from_rpc_error(error) from error


class EloClient:
    """The Elo Service's operations, remotely; ``timeout_s`` bounds every call."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout_s: float | None = 30.0) -> None:
        self.stub = elo_pb2_grpc.EloServiceStub(channel)
        self.timeout_s = timeout_s

    async def report_result(self, report: GameReport) -> ReportOutcome:
        request = convert.report_to(report)
        return convert.outcome_from(await _call(self.stub.ReportResult(request, timeout=self.timeout_s)))

    async def get_rating(self, player: PlayerRef, mode: str) -> PlayerRating:
        request = elo_pb2.GetRatingRequest(player=convert.player_to(player), mode=_mode(mode))
        return convert.rating_from(await _call(self.stub.GetRating(request, timeout=self.timeout_s)))

    async def get_ratings(self, players: Sequence[PlayerRef], mode: str) -> list[PlayerRating]:
        request = elo_pb2.GetRatingsRequest(players=[convert.player_to(p) for p in players], mode=_mode(mode))
        response = await _call(self.stub.GetRatings(request, timeout=self.timeout_s))
        return [convert.rating_from(r) for r in response.ratings]

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
        request = elo_pb2.LeaderboardRequest(
            mode=_mode(mode),
            kind=convert.number_of("player kind", kind, convert.KINDS),  # type: ignore[arg-type]
            min_games=convert.uint("min_games", min_games),
            order=convert.number_of("order", order, convert.ORDERS),  # type: ignore[arg-type]
            page=_page(page_size, page_token),
        )
        return convert.leaderboard_from(await _call(self.stub.Leaderboard(request, timeout=self.timeout_s)))

    async def rating_history(
        self,
        player: PlayerRef,
        mode: str,
        *,
        since: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> HistoryPage:
        request = elo_pb2.RatingHistoryRequest(
            player=convert.player_to(player),
            mode=_mode(mode),
            since=convert.timestamp(since),
            page=_page(page_size, page_token),
        )
        return convert.history_from(await _call(self.stub.RatingHistory(request, timeout=self.timeout_s)))

    async def head_to_head(
        self, a: PlayerRef, b: PlayerRef, mode: str, *, recent: int = 0
    ) -> HeadToHeadRecord:
        request = elo_pb2.HeadToHeadRequest(
            a=convert.player_to(a),
            b=convert.player_to(b),
            mode=_mode(mode),
            recent=convert.uint("recent", recent),
        )
        return convert.head_to_head_from(await _call(self.stub.HeadToHead(request, timeout=self.timeout_s)))


def _mode(mode: str) -> common_pb2.GameMode:
    return convert.number_of("mode", mode, convert.MODES)  # type: ignore[return-value]


def _page(size: int, token: str) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=convert.uint("the page size", size), page_token=token)
