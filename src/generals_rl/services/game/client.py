"""``GameClient``: the Game Service's operations over gRPC, with ``GameHost``'s signatures.

    async with GameClient.connect("127.0.0.1:50051") as games:
        info = await games.create_game(GameSpec(seats=(SeatSpec(PlayerRef("bot", "random"), hosted=True),)))
        joined = await games.join_game(info.game_id, Joiner(bot="expander"))
        async for view in games.stream_view(info.game_id, joined.player_token):
            ...
        async for frame in games.watch_game(info.game_id):  # a spectator: the whole board
            ...

Replies come back as the domain types of ``domain``; a failed call raises the domain error of its
status code (``errors.from_rpc_error``), as the in-process ``GameHost`` would.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio
from torch import Tensor

from generals_rl.services.common import tensors
from generals_rl.services.common.channels import channel as open_channel
from generals_rl.services.common.errors import from_rpc_error
from generals_rl.services.game import convert
from generals_rl.services.game.domain import (
    BatchSpec,
    BatchStep,
    GameFilter,
    GameInfo,
    GamePage,
    GameSpec,
    Joiner,
    JoinResult,
    MovesQueued,
    SeatView,
    SpectatorFrame,
)
from generals_rl.v1 import game_pb2, game_pb2_grpc

T = TypeVar("T")


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error) from error


class RemoteBatch:
    """A StepBatch stream: ``first`` is step 0; ``step`` sends one tick's actions and returns the
    answer. Close it (or use ``async with``) to discard the games."""

    def __init__(self, call: Any, first: BatchStep) -> None:
        self._call = call
        self.first = first
        self.step_number = 0

    @staticmethod
    async def open(stub: game_pb2_grpc.GameServiceStub, spec: BatchSpec) -> RemoteBatch:
        call = stub.StepBatch()
        await _call(call.write(game_pb2.StepBatchRequest(create=convert.batch_spec_to_proto(spec))))
        first = await RemoteBatch._read(call)
        return RemoteBatch(call, first)

    @staticmethod
    async def _read(call: Any) -> BatchStep:
        message = await _call(call.read())
        if message is grpc.aio.EOF:
            await _call(call)  # the status of a stream that ended
            raise ConnectionError("the StepBatch stream ended")
        return convert.batch_step_from_proto(message)

    async def step(self, actions: Tensor, number: int | None = None) -> BatchStep:
        number = self.step_number + 1 if number is None else number
        request = game_pb2.StepBatchRequest(
            actions=game_pb2.BatchActions(step=number, actions=tensors.encode(actions))
        )
        await _call(self._call.write(request))
        result = await self._read(self._call)
        self.step_number = number
        return result

    async def close(self) -> None:
        if self._call.done():
            return
        try:
            await self._call.done_writing()
            while await self._call.read() is not grpc.aio.EOF:
                pass
        except grpc.aio.AioRpcError:
            self._call.cancel()

    async def __aenter__(self) -> RemoteBatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class GameClient:
    """The GameService over a ``grpc.aio`` channel (module docstring)."""

    def __init__(
        self, channel: grpc.aio.Channel, timeout_s: float | None = 30.0, *, owns: bool = False
    ) -> None:
        self.channel = channel
        self.stub = game_pb2_grpc.GameServiceStub(channel)
        self.timeout_s = timeout_s
        self._owns = owns

    @staticmethod
    def connect(address: str, timeout_s: float | None = 30.0) -> GameClient:
        """A client on its own channel to ``host:port`` (closed with the client)."""
        return GameClient(open_channel(address), timeout_s, owns=True)

    async def close(self) -> None:
        if self._owns:
            await self.channel.close()

    async def __aenter__(self) -> GameClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def create_game(self, spec: GameSpec) -> GameInfo:
        message = await _call(self.stub.CreateGame(convert.spec_to_proto(spec), timeout=self.timeout_s))
        return convert.game_from_proto(message)

    async def join_game(
        self,
        game_id: str,
        joiner: Joiner,
        *,
        hosted: bool = False,
        seat: int | None = None,
        display_name: str = "",
    ) -> JoinResult:
        request = game_pb2.JoinGameRequest(
            game_id=game_id,
            hosted=hosted,
            seat=seat,
            display_name=display_name,
            **convert.joiner_to_proto(joiner),
        )
        return convert.join_from_proto(await _call(self.stub.JoinGame(request, timeout=self.timeout_s)))

    async def stream_view(self, game_id: str, player_token: str) -> AsyncGenerator[SeatView, None]:
        """The seat's views until the game is over (the last one has ``done``)."""
        call = self.stub.StreamView(game_pb2.StreamViewRequest(game_id=game_id, player_token=player_token))
        try:
            async for message in call:
                yield convert.view_from_proto(message)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()

    async def watch_game(
        self, game_id: str, fog_of: int | None = None
    ) -> AsyncGenerator[SpectatorFrame, None]:
        """A spectator's frames of the game until it is over (the last one has ``done`` and the
        result): the whole board, or what seat ``fog_of`` sees."""
        request = game_pb2.WatchGameRequest(game_id=game_id, fog_of=fog_of)
        call = self.stub.WatchGame(request)
        try:
            async for message in call:
                yield convert.spectator_from_proto(message)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()

    async def submit_moves(self, game_id: str, player_token: str, actions: list[int]) -> MovesQueued:
        request = game_pb2.SubmitMovesRequest(game_id=game_id, player_token=player_token, actions=actions)
        return convert.queued_from_proto(await _call(self.stub.SubmitMoves(request, timeout=self.timeout_s)))

    async def clear_moves(self, game_id: str, player_token: str) -> int:
        request = game_pb2.ClearMovesRequest(game_id=game_id, player_token=player_token)
        return int((await _call(self.stub.ClearMoves(request, timeout=self.timeout_s))).cleared)

    async def surrender(self, game_id: str, player_token: str) -> int:
        request = game_pb2.SurrenderRequest(game_id=game_id, player_token=player_token)
        return int((await _call(self.stub.Surrender(request, timeout=self.timeout_s))).effective_tick)

    async def get_game(self, game_id: str) -> GameInfo:
        request = game_pb2.GetGameRequest(game_id=game_id)
        return convert.game_from_proto(await _call(self.stub.GetGame(request, timeout=self.timeout_s)))

    async def list_games(
        self, filter: GameFilter | None = None, page_size: int = 0, page_token: str = ""
    ) -> GamePage:
        request = convert.filter_to_proto(filter or GameFilter(), page_size, page_token)
        return convert.page_from_proto(await _call(self.stub.ListGames(request, timeout=self.timeout_s)))

    async def open_batch(self, spec: BatchSpec) -> RemoteBatch:
        """Open a StepBatch stream (use ``async with``); ``first`` holds the first observations."""
        return await RemoteBatch.open(self.stub, spec)
