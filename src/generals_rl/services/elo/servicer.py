"""The Elo Service's gRPC servicer: requests to domain calls, domain answers to responses, nothing else.

Domain errors raised by the ``Elo`` implementation become status codes in the server interceptor.
"""

from __future__ import annotations

import grpc.aio

from generals_rl.services.elo import convert
from generals_rl.services.elo.api import Elo
from generals_rl.v1 import elo_pb2, elo_pb2_grpc


class EloServicer(elo_pb2_grpc.EloServiceServicer):
    """``generals_rl.v1.EloService`` over an ``Elo`` (``LocalElo`` in the server)."""

    def __init__(self, elo: Elo) -> None:
        self.elo = elo

    async def ReportResult(
        self, request: elo_pb2.ReportResultRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.ReportResultResponse:
        return convert.outcome_to(await self.elo.report_result(convert.report_from(request)))

    async def GetRating(
        self, request: elo_pb2.GetRatingRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.Rating:
        mode = convert.name_of(request.mode, convert.MODES)
        return convert.rating_to(await self.elo.get_rating(convert.player_from(request.player), mode))

    async def GetRatings(
        self, request: elo_pb2.GetRatingsRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.GetRatingsResponse:
        players = [convert.player_from(p) for p in request.players]
        ratings = await self.elo.get_ratings(players, convert.name_of(request.mode, convert.MODES))
        return elo_pb2.GetRatingsResponse(ratings=[convert.rating_to(r) for r in ratings])

    async def Leaderboard(
        self, request: elo_pb2.LeaderboardRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.LeaderboardResponse:
        page = await self.elo.leaderboard(
            convert.name_of(request.mode, convert.MODES),
            kind=convert.name_of(request.kind, convert.KINDS),
            min_games=request.min_games,
            order=convert.name_of(request.order, convert.ORDERS),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return convert.leaderboard_to(page)

    async def RatingHistory(
        self, request: elo_pb2.RatingHistoryRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.RatingHistoryResponse:
        page = await self.elo.rating_history(
            convert.player_from(request.player),
            convert.name_of(request.mode, convert.MODES),
            since=convert.time_from(request.since, request.HasField("since")),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return convert.history_to(page)

    async def HeadToHead(
        self, request: elo_pb2.HeadToHeadRequest, context: grpc.aio.ServicerContext
    ) -> elo_pb2.HeadToHeadResponse:
        record = await self.elo.head_to_head(
            convert.player_from(request.a),
            convert.player_from(request.b),
            convert.name_of(request.mode, convert.MODES),
            recent=request.recent,
        )
        return convert.head_to_head_to(record)
