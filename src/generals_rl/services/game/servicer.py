"""The GameService servicer: generals_rl.v1 messages <-> ``GameHost`` calls, nothing else.

Every rule lives in the domain (``core``, ``rooms``, ``lockstep``); errors are domain errors that
the server interceptor turns into status codes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc.aio

from generals_rl.services.common import tensors
from generals_rl.services.common.errors import DeadlineExceeded, InvalidArgument
from generals_rl.services.game import convert
from generals_rl.services.game.host import GameHost
from generals_rl.v1 import game_pb2, game_pb2_grpc

SERVICE = game_pb2.DESCRIPTOR.services_by_name["GameService"]


class GameServicer(game_pb2_grpc.GameServiceServicer):
    """Translates GameService calls for a ``GameHost``."""

    def __init__(self, host: GameHost) -> None:
        self.host = host

    async def CreateGame(
        self, request: game_pb2.CreateGameRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.Game:
        return convert.game_to_proto(await self.host.create_game(convert.spec_from_proto(request)))

    async def JoinGame(
        self, request: game_pb2.JoinGameRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.JoinGameResponse:
        joined = await self.host.join_game(
            request.game_id,
            convert.joiner_from_proto(request),
            hosted=request.hosted,
            seat=request.seat if request.HasField("seat") else None,
            display_name=request.display_name,
        )
        return convert.join_to_proto(joined)

    async def StreamView(
        self, request: game_pb2.StreamViewRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[game_pb2.GameView]:
        views = self.host.stream_view(request.game_id, request.player_token)
        try:
            async for view in views:
                yield convert.view_to_proto(view)
        finally:
            await views.aclose()

    async def WatchGame(
        self, request: game_pb2.WatchGameRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[game_pb2.SpectatorView]:
        fog_of = request.fog_of if request.HasField("fog_of") else None
        frames = self.host.watch_game(request.game_id, fog_of)
        try:
            async for frame in frames:
                yield convert.spectator_to_proto(frame)
        finally:
            await frames.aclose()

    async def SubmitMoves(
        self, request: game_pb2.SubmitMovesRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.SubmitMovesResponse:
        queued = await self.host.submit_moves(request.game_id, request.player_token, list(request.actions))
        return convert.queued_to_proto(queued)

    async def ClearMoves(
        self, request: game_pb2.ClearMovesRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.ClearMovesResponse:
        cleared = await self.host.clear_moves(request.game_id, request.player_token)
        return game_pb2.ClearMovesResponse(cleared=cleared)

    async def Surrender(
        self, request: game_pb2.SurrenderRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.SurrenderResponse:
        tick = await self.host.surrender(request.game_id, request.player_token)
        return game_pb2.SurrenderResponse(effective_tick=tick)

    async def GetGame(
        self, request: game_pb2.GetGameRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.Game:
        return convert.game_to_proto(await self.host.get_game(request.game_id))

    async def ListGames(
        self, request: game_pb2.ListGamesRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.ListGamesResponse:
        page = await self.host.list_games(
            convert.filter_from_proto(request), request.page.page_size, request.page.page_token
        )
        return convert.page_to_proto(page)

    async def StepBatch(
        self, request_iterator: AsyncIterator[game_pb2.StepBatchRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[game_pb2.StepBatchResponse]:
        requests = aiter(request_iterator)
        idle_s = self.host.config.batch_idle_timeout_s

        async def next_request() -> game_pb2.StepBatchRequest | None:
            try:
                return await asyncio.wait_for(anext(requests), timeout=idle_s)
            except StopAsyncIteration:
                return None
            except TimeoutError:
                raise DeadlineExceeded(
                    f"no StepBatch request for {idle_s:.0f} s: the games are discarded"
                ) from None

        first = await next_request()
        if first is None:
            return
        if first.WhichOneof("request") != "create":
            raise InvalidArgument("create: the first StepBatch request must create the games")
        batch = await self.host.open_batch(convert.batch_spec_from_proto(first.create))
        try:
            shape = tuple(batch.first.rewards.shape)
            yield await asyncio.to_thread(convert.batch_step_to_proto, batch.first)
            while (request := await next_request()) is not None:
                if request.WhichOneof("request") != "actions":
                    raise InvalidArgument("actions: every request after the first carries actions")
                actions = tensors.to_torch(
                    request.actions.actions, name="actions.actions", dtypes=tensors.INT_DTYPES, shape=shape
                )
                yield await batch.step_then(actions, request.actions.step, convert.batch_step_to_proto)
        finally:
            with contextlib.suppress(Exception):
                await batch.close()
