"""The Matchmaker's ports over gRPC: the Game, Elo and Model services, and human sessions.

Each adapter implements one port of ``core`` with the generated stubs, on a channel it asks for at
call time (``Peers.channel``: the peers' addresses are known only once every server listens).
Every call has a deadline; a peer that does not answer within it is UNAVAILABLE, and failed calls
come back as the domain errors of ``common.errors``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
import grpc.aio

from generals_rl.services.common import sessions
from generals_rl.services.common.errors import (
    FailedPrecondition,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from generals_rl.services.elo.ratings import HeadToHead
from generals_rl.services.matchmaker.convert import MODE_TO_PROTO, parse_dict, player_to_proto
from generals_rl.services.matchmaker.core import GameEnd, GameEndStatus, GameRequest, PlayerRef, SeatRequest
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.storage import Cache
from generals_rl.v1 import (
    common_pb2,
    elo_pb2,
    elo_pb2_grpc,
    game_pb2,
    game_pb2_grpc,
    model_pb2,
    model_pb2_grpc,
)

T = TypeVar("T")
ChannelSource = Callable[[], grpc.aio.Channel]
_OUTCOMES = {common_pb2.OUTCOME_WIN: "win", common_pb2.OUTCOME_LOSS: "loss", common_pb2.OUTCOME_DRAW: "draw"}


async def _call(service: str, timeout_s: float, call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            raise Unavailable(f"the {service} did not answer within {timeout_s:g} s") from error
        raise from_rpc_error(error) from error


class GrpcGames:
    """``core.Games`` on the Game Service; ``result`` polls GetGame until the game is over.

    ``timeout_s`` bounds each call; creating or joining a game with a model version includes the
    Game Service loading its weights from the Model Service, hence 30 s.
    """

    def __init__(
        self,
        channel: ChannelSource,
        address: Callable[[], str],
        timeout_s: float = 30.0,
        poll_s: tuple[float, float] = (0.05, 0.5),
    ) -> None:
        self._channel, self._address, self.timeout_s, self.poll_s = channel, address, timeout_s, poll_s

    @property
    def address(self) -> str:
        return self._address()

    def _stub(self) -> game_pb2_grpc.GameServiceStub:
        return game_pb2_grpc.GameServiceStub(self._channel())

    async def create(self, request: GameRequest) -> str:
        message = game_pb2.CreateGameRequest(
            mode=MODE_TO_PROTO[request.mode],
            num_players=len(request.seats),
            seed=request.seed,
            clock=game_pb2.CLOCK_LOCK_STEP if request.lock_step else game_pb2.CLOCK_UNSPECIFIED,
            seats=[
                game_pb2.SeatSpec(player=player_to_proto(s.player), hosted=s.hosted) for s in request.seats
            ],
            unrated=request.unrated,
            request_id=request.request_id,
        )
        if request.generator is not None:
            parse_dict(request.generator, message.generator)
        if request.engine is not None:
            parse_dict(request.engine, message.engine)
        game = await _call(
            "Game Service", self.timeout_s, self._stub().CreateGame(message, timeout=self.timeout_s)
        )
        return str(game.game_id)

    async def join(self, game_id: str, seat: int, request: SeatRequest) -> str:
        message = game_pb2.JoinGameRequest(game_id=game_id, seat=seat, hosted=request.hosted)
        if request.player.kind is Kind.HUMAN:
            message.session_token = request.session_token
        elif request.player.kind is Kind.BOT:
            message.bot = request.player.id
        else:
            message.model_version = int(request.player.id)
        joined = await _call(
            "Game Service", self.timeout_s, self._stub().JoinGame(message, timeout=self.timeout_s)
        )
        return str(joined.player_token)

    async def result(self, game_id: str) -> GameEnd:
        delay = self.poll_s[0]
        while True:
            game = await _call(
                "Game Service",
                self.timeout_s,
                self._stub().GetGame(game_pb2.GetGameRequest(game_id=game_id), timeout=self.timeout_s),
            )
            if game.status == game_pb2.GAME_STATUS_FINISHED:
                seats = sorted(game.result.players, key=lambda p: p.seat)
                return GameEnd(GameEndStatus.FINISHED, tuple(_OUTCOMES.get(p.outcome, "draw") for p in seats))
            if game.status == game_pb2.GAME_STATUS_ABORTED:
                reason = common_pb2.EndReason.Name(game.result.reason) if game.HasField("result") else ""
                return GameEnd(GameEndStatus.ABORTED, (), reason)
            await asyncio.sleep(delay)
            delay = min(self.poll_s[1], delay * 1.5)


class GrpcRatings:
    """``core.Ratings`` on the Elo Service (GetRatings, HeadToHead)."""

    def __init__(self, channel: ChannelSource, timeout_s: float = 5.0) -> None:
        self._channel, self.timeout_s = channel, timeout_s

    def _stub(self) -> elo_pb2_grpc.EloServiceStub:
        return elo_pb2_grpc.EloServiceStub(self._channel())

    async def ratings(self, players: Sequence[PlayerRef], mode: str) -> list[float]:
        values: list[float] = []
        for start in range(0, len(players), 1000):
            request = elo_pb2.GetRatingsRequest(
                players=[player_to_proto(p) for p in players[start : start + 1000]], mode=MODE_TO_PROTO[mode]
            )
            response = await _call(
                "Elo Service", self.timeout_s, self._stub().GetRatings(request, timeout=self.timeout_s)
            )
            values += [r.rating for r in response.ratings]
        return values

    async def head_to_head(self, a: PlayerRef, b: PlayerRef, mode: str) -> HeadToHead:
        request = elo_pb2.HeadToHeadRequest(
            a=player_to_proto(a), b=player_to_proto(b), mode=MODE_TO_PROTO[mode], recent=1
        )
        record = await _call(
            "Elo Service", self.timeout_s, self._stub().HeadToHead(request, timeout=self.timeout_s)
        )
        return HeadToHead(wins=record.a_wins, losses=record.b_wins, draws=record.draws)


class GrpcModels:
    """``core.Models`` on the Model Service (ListVersions, GetVersion)."""

    def __init__(self, channel: ChannelSource, timeout_s: float = 5.0) -> None:
        self._channel, self.timeout_s = channel, timeout_s

    def _stub(self) -> model_pb2_grpc.ModelServiceStub:
        return model_pb2_grpc.ModelServiceStub(self._channel())

    async def accepted(self, architecture: str = "") -> list[int]:
        versions: list[int] = []
        token = ""
        while True:
            request = model_pb2.ListVersionsRequest(
                page=common_pb2.PageRequest(page_size=1000, page_token=token),
                state=model_pb2.VERSION_STATE_ACCEPTED,
                architecture=architecture,
            )
            page = await _call(
                "Model Service", self.timeout_s, self._stub().ListVersions(request, timeout=self.timeout_s)
            )
            versions += [v.version for v in page.versions]
            token = page.page.next_page_token
            if not token:
                return sorted(versions, reverse=True)

    async def check(self, version: int) -> None:
        request = model_pb2.GetVersionRequest(version=version)
        found = await _call(
            "Model Service", self.timeout_s, self._stub().GetVersion(request, timeout=self.timeout_s)
        )
        if found.state != model_pb2.VERSION_STATE_ACCEPTED:
            state = model_pb2.VersionState.Name(found.state).removeprefix("VERSION_STATE_")
            raise FailedPrecondition(f"model version {version} is {state}, not ACCEPTED: it cannot play")


class CacheSessions:
    """``core.Sessions`` over ``common.sessions`` (the gateway's logins in the cache seam)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def user(self, session_token: str) -> str | None:
        try:
            return await asyncio.to_thread(sessions.resolve, self.cache, session_token)
        except Unauthenticated:
            return None
