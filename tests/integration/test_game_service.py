"""The Game Service over gRPC, in process on free ports next to the real Elo Service, driven by
``GameClient`` as players and actors drive it: a whole game between hosted bots (stored, rated,
its replay in the blob store), games in which the test plays a seat by streaming views and
submitting moves, StepBatch with 64 games, and bad input. Once on the embedded storage and once on
PostgreSQL + Redis + S3."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
import torch

from generals_rl.agents import sample_legal
from generals_rl.game.replay import Replay, simulate
from generals_rl.services.common import errors, sessions
from generals_rl.services.common.channels import channel
from generals_rl.services.game import GameClient
from generals_rl.services.game.archive import ACTIVE_KEY, PENDING_KEY, REJECTED_KEY, REPLAYS, replay_key
from generals_rl.services.game.domain import (
    BatchSpec,
    EngineOptions,
    GameFilter,
    GameInfo,
    GameSpec,
    GeneratorSpec,
    Joiner,
    MapText,
    PlayerRef,
    SeatSpec,
)
from generals_rl.services.runner import RunningServices, run_services
from generals_rl.settings import Settings
from generals_rl.v1 import common_pb2, elo_pb2, elo_pb2_grpc, game_pb2, game_pb2_grpc

pytestmark = pytest.mark.timeout(180)

T = TypeVar("T")

SMALL_MAPS = GeneratorSpec(side=(12, 12), cities=(2, 3), min_distance=(6, 8), fair_radius=3, min_room=4)
SMALL = "\n".join(
    ["A..#....", "........", "..#..1..", "........", "....#...", ".2......", "........", "......#B"]
)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 60.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def finished(games: GameClient, game_id: str) -> GameInfo:
    async def over() -> GameInfo | None:
        info = await games.get_game(game_id)
        return info if info.status in ("finished", "aborted") else None

    return await eventually(over, f"game {game_id} to end")


def random_move(mask: torch.Tensor) -> int:
    return int(sample_legal(mask.unsqueeze(0), torch.rand(1))[0])


async def hosted_bots_game(running: RunningServices, games: GameClient) -> None:
    seats = (SeatSpec(PlayerRef("bot", "gatherer"), True), SeatSpec(PlayerRef("bot", "random"), True))
    created = await games.create_game(GameSpec(map=SMALL_MAPS, seed=11, seats=seats))
    assert created.status == "running" and created.clock == "lock_step"
    info = await finished(games, created.game_id)
    result = info.result
    assert info.status == "finished" and result is not None and result.reason == "general_captured"
    assert result.winner == 0 and [p.place for p in result.players] == [1, 2]
    stores = running.stores

    async with channel(running.address("elo")) as ch:
        elo = elo_pb2_grpc.EloServiceStub(ch)
        request = elo_pb2.GetRatingRequest(
            player=common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_BOT, id="gatherer"),
            mode=common_pb2.GAME_MODE_1V1,
        )

        async def rated() -> elo_pb2.Rating | None:
            rejected = await asyncio.to_thread(stores.cache.hgetall, REJECTED_KEY)
            assert not rejected, rejected
            rating = await elo.GetRating(request)
            return rating if rating.games else None

        rating = await eventually(rated, "the Elo Service to rate the game")
    assert rating.games == 1 and rating.wins == 1

    async def delivered() -> bool:
        return not await asyncio.to_thread(stores.cache.hgetall, PENDING_KEY)

    await eventually(delivered, "the delivered result to leave the pending hash")
    replay = Replay.from_bytes(stores.blobs.get(REPLAYS, replay_key(created.game_id)))
    last = list(simulate(replay, max_ticks=2000))[-1]
    assert int(last.tick[0]) == result.ticks and int(last.winner[0]) == 0
    row = stores.database.games.get(created.game_id)
    assert row.status == "finished" and row.replay_location and row.ticks == result.ticks
    assert [r.outcome for r in stores.database.games.results(created.game_id)] == ["win", "loss"]
    assert created.game_id not in stores.cache.hgetall(ACTIVE_KEY)


async def human_game(running: RunningServices, games: GameClient) -> None:
    """Real time (a human sits), speed 16: the test streams its views and moves every tick."""
    token = sessions.create_session(running.stores.cache, "alice")
    spec = GameSpec(
        map=MapText(SMALL),
        speed=16,
        engine=EngineOptions(max_ticks=40),
        seats=(SeatSpec(), SeatSpec(PlayerRef("bot", "random"), True)),
    )
    created = await games.create_game(spec)

    async def listed() -> bool:
        active = await asyncio.to_thread(running.stores.cache.hgetall, ACTIVE_KEY)
        return created.game_id in active

    await eventually(listed, "the pending game in the active-games hash")
    with pytest.raises(errors.Unauthenticated):
        await games.join_game(created.game_id, Joiner(session_token="x" * 32))
    joined = await games.join_game(created.game_id, Joiner(session_token=token))
    assert joined.game.status == "running" and joined.game.clock == "real_time" and joined.seat == 0
    ticks = []
    async for view in games.stream_view(created.game_id, joined.player_token):
        assert view.seat == 0 and view.observation.armies.shape == (8, 8)
        ticks.append(view.tick)
        if view.done:
            break
        if view.alive:
            await games.submit_moves(
                created.game_id, joined.player_token, [random_move(view.observation.action_mask)]
            )
    assert ticks == sorted(ticks) and ticks[-1] == 40 and len(ticks) > 5
    info = await games.get_game(created.game_id)
    assert info.status == "finished" and info.seats[0].player == PlayerRef("human", "alice")


async def lock_step_game(games: GameClient) -> None:
    """A model version plays remotely against a hosted bot: every tick waits for its move."""
    created = await games.create_game(
        GameSpec(
            map=MapText(SMALL),
            engine=EngineOptions(max_ticks=60),
            seats=(SeatSpec(PlayerRef("bot", "expander"), True),),
        )
    )
    joined = await games.join_game(created.game_id, Joiner(model_version=7))
    ticks = []
    async for view in games.stream_view(created.game_id, joined.player_token):
        ticks.append(view.tick)
        if view.done:
            break
        if view.alive:
            await games.submit_moves(
                created.game_id, joined.player_token, [random_move(view.observation.action_mask)]
            )
    assert ticks == list(range(len(ticks)))  # lock-step: no view skipped
    assert (await games.get_game(created.game_id)).status == "finished"


async def step_batch(games: GameClient) -> None:
    spec = BatchSpec(
        num_games=64,
        maps=SMALL_MAPS,
        hosted_bots=("", "random"),
        autoreset=True,
        engine=EngineOptions(max_ticks=30),
        seed=5,
    )
    async with await games.open_batch(spec) as batch:
        result = batch.first
        assert result.board is not None and result.controlled_seats == (0,)
        assert result.observation.armies.shape == (64, 1, 12, 12)
        dones = 0
        for step in range(1, 36):
            result = await batch.step(random_move_batch(result.observation.action_mask))
            assert (
                result.step == step and result.rewards.shape == (64, 1) and result.dones.dtype == torch.bool
            )
            dones += int(result.dones.sum())
            if step == 30:
                assert result.final_observation is not None
                assert result.final_observation.armies.shape[0] == int(result.dones.sum())
        assert dones >= 64  # every game ended once (by the tick limit at the latest)


def random_move_batch(mask: torch.Tensor) -> torch.Tensor:
    return sample_legal(mask, torch.rand(mask.shape[:-1]))


async def bad_input(running: RunningServices, games: GameClient) -> None:
    with pytest.raises(errors.NotFound):
        await games.get_game("no-such-game")
    created = await games.create_game(GameSpec(map=MapText(SMALL)))
    joined = await games.join_game(created.game_id, Joiner(bot="random"))
    with pytest.raises(errors.PermissionDenied):
        await games.submit_moves(created.game_id, "someone-else", [0])
    with pytest.raises(errors.FailedPrecondition):
        await games.submit_moves(created.game_id, joined.player_token, [0])  # still pending
    with pytest.raises(errors.InvalidArgument, match="row 1"):
        await games.create_game(GameSpec(map=MapText("A..\n.B")))
    await games.join_game(created.game_id, Joiner(bot="expander"))
    with pytest.raises(errors.InvalidArgument, match="not yours"):
        await games.submit_moves(created.game_id, joined.player_token, [1 + 63])  # a tile of B's
    with pytest.raises(errors.ResourceExhausted):
        await games.submit_moves(created.game_id, joined.player_token, [0] * 300)
    assert (await games.get_game(created.game_id)).tick == 0  # nothing changed
    async with channel(running.address("game")) as ch:
        stub = game_pb2_grpc.GameServiceStub(ch)
        call = stub.StepBatch()
        await call.write(game_pb2.StepBatchRequest(actions=game_pb2.BatchActions(step=1)))
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call.read()
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    page = await games.list_games(GameFilter(status="finished"))
    assert page.total_size >= 3  # the service kept serving


@pytest.mark.parametrize(
    ("sql_uri", "cache_uri", "blob_uri"),
    [("sqlite", "memory", "file"), ("postgresql", "redis", "s3")],
    indirect=True,
    ids=["embedded", "postgresql+redis+s3"],
)
def test_game_service(sql_uri: str, cache_uri: str, blob_uri: str, tmp_path: Path) -> None:
    ports = {"game": 0, "elo": 0}
    settings = Settings(
        data_dir=tmp_path, ports=ports, sql_uri=sql_uri, cache_uri=cache_uri, blob_uri=blob_uri
    )

    async def scenario() -> None:
        async with run_services(["game", "elo"], settings) as running:
            games = GameClient.connect(running.address("game"))
            try:
                await hosted_bots_game(running, games)
                await human_game(running, games)
                await lock_step_game(games)
                await step_batch(games)
                await bad_input(running, games)
            finally:
                await games.close()

    asyncio.run(scenario())
