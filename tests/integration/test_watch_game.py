"""Spectating live games (WatchGame), against the real Game and Elo services and the gateway in
process on free ports: bot-vs-bot games watched to their end in lock-step and real time (frames
each tick, the last one the stored game's end), a fogged watch equal to the player's own view, a
watcher that stops reading while the game plays on, bad requests, and a bot-vs-bot game
spectated through the gateway's WebSocket with and without fog."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import grpc
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from generals_rl.agents import sample_legal
from generals_rl.game.replay import Replay, simulate
from generals_rl.services.common import errors
from generals_rl.services.common.channels import channel
from generals_rl.services.game import GameClient, convert
from generals_rl.services.game.archive import REPLAYS, replay_key
from generals_rl.services.game.domain import (
    EngineOptions,
    GameInfo,
    GameSpec,
    GeneratorSpec,
    Joiner,
    MapText,
    PlayerRef,
    SeatSpec,
    SeatView,
    SpectatorFrame,
)
from generals_rl.services.game.spectators import TERRAIN_GENERAL, WATCH_BUFFER, full_board
from generals_rl.services.gateway.testing import ThreadedGateway, gateway_in_thread
from generals_rl.settings import Settings
from generals_rl.v1 import game_pb2, game_pb2_grpc

pytestmark = pytest.mark.timeout(240)

torch.set_num_threads(1)

T = TypeVar("T")

SMALL_MAPS = GeneratorSpec(side=(12, 12), cities=(2, 3), min_distance=(6, 8), fair_radius=3, min_room=4)
SMALL = "\n".join(
    ["A..#....", "........", "..#..1..", "........", "....#...", ".2......", "........", "......#B"]
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway]:
    """The Game and Elo services and the gateway on embedded storage, shared by this module."""
    ports = {name: 0 for name in ("game", "elo", "gateway")}
    settings = Settings(data_dir=tmp_path_factory.mktemp("watch"), ports=ports)
    with gateway_in_thread(settings, services=("game", "elo")) as gateway:
        yield gateway


def run(gw: ThreadedGateway, work: Callable[[GameClient], Awaitable[T]], timeout_s: float = 120.0) -> T:
    """``work(games)`` on the services' event loop, with a client of the Game Service."""

    async def go() -> T:
        async with GameClient.connect(gw.services.address("game")) as games:
            return await work(games)

    return gw.call(go(), timeout_s)


def bots(first: str, second: str, **spec: Any) -> GameSpec:
    """Two bots; seat 1 reserved but not joined, so the game waits (PENDING) for ``start``."""
    seats = (SeatSpec(PlayerRef("bot", first), hosted=True), SeatSpec(PlayerRef("bot", second)))
    return GameSpec(**{"map": SMALL_MAPS, "seed": 11, "seats": seats, **spec})


async def start(games: GameClient, info: GameInfo) -> None:
    bot = info.seats[1].player
    assert bot is not None
    await games.join_game(info.game_id, Joiner(bot=bot.id), hosted=True)


async def watch_all(games: GameClient, game_id: str, fog_of: int | None = None) -> list[SpectatorFrame]:
    return [frame async for frame in games.watch_game(game_id, fog_of)]


async def watched_from_the_start(
    games: GameClient, spec: GameSpec, fog_of: int | None = None
) -> tuple[GameInfo, list[SpectatorFrame]]:
    """Watch a pending game, start it, and return every frame until its end."""
    info = await games.create_game(spec)
    watching = asyncio.create_task(watch_all(games, info.game_id, fog_of))
    await asyncio.sleep(0.2)  # the stream is open before the first tick
    assert not watching.done()
    await start(games, info)
    return info, await asyncio.wait_for(watching, 60)


def assert_consistent_ticks(frames: list[SpectatorFrame]) -> None:
    """Ticks rise; every jump is the frames reported lost before it."""
    assert frames[0].tick == frames[0].skipped
    for before, after in itertools.pairwise(frames):
        assert after.tick - before.tick == after.skipped + 1


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 30.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_lock_step_bot_game_is_watched_to_its_stored_end(gw: ThreadedGateway) -> None:
    async def scenario(games: GameClient) -> tuple[GameInfo, list[SpectatorFrame]]:
        info, frames = await watched_from_the_start(games, bots("gatherer", "random"))
        return await games.get_game(info.game_id), frames

    info, frames = run(gw, scenario)
    result = info.result
    assert info.status == "finished" and result is not None and info.clock == "lock_step"
    assert_consistent_ticks(frames)
    first, last = frames[0], frames[-1]
    assert first.board is not None and first.view is None and first.fog_of is None
    assert last.done and all(not f.done for f in frames[:-1])
    assert last.status == "finished" and last.tick == result.ticks and last.result == result
    assert all(f.result is None for f in frames[:-1])
    assert last.alive == tuple(p.outcome == "win" for p in result.players)
    assert first.board.armies.shape == (12, 12)
    if first.tick == 0:
        assert first.board.terrain.eq(TERRAIN_GENERAL).sum() == 2

    async def stored() -> bytes | None:
        blobs = gw.stores.blobs
        return (
            await asyncio.to_thread(blobs.get, REPLAYS, replay_key(info.game_id))
            if blobs.exists(REPLAYS, replay_key(info.game_id))
            else None
        )

    data = gw.call(eventually(stored, "the replay to be stored"))
    final = list(simulate(Replay.from_bytes(data), max_ticks=5000))[-1]
    expected = full_board(final)
    assert last.board is not None
    for name in ("armies", "owners", "terrain", "scalars"):
        assert torch.equal(getattr(last.board, name), getattr(expected, name)), name
    assert gw.stores.database.games.get(info.game_id).ticks == last.tick


def test_a_real_time_bot_game_shows_every_tick(gw: ThreadedGateway) -> None:
    spec = bots("random", "random", clock="real_time", speed=16, engine=EngineOptions(max_ticks=24))
    info, frames = run(gw, lambda games: watched_from_the_start(games, spec))
    assert [f.tick for f in frames] == list(range(25))  # 32 ticks a second: nothing lost
    assert all(f.next_tick_at is not None for f in frames[:-1]) and frames[-1].next_tick_at is None
    last = frames[-1]
    assert last.done and last.result is not None and last.result.reason == "tick_limit"
    assert last.result.game_id == info.game_id


def test_a_fogged_watch_equals_the_player_s_own_view(gw: ThreadedGateway) -> None:
    """A model version plays seat 1 remotely against a hosted bot; a spectator watches seat 1."""

    async def scenario(
        games: GameClient,
    ) -> tuple[list[SeatView], list[SpectatorFrame], list[SpectatorFrame]]:
        spec = GameSpec(
            map=MapText(SMALL),
            engine=EngineOptions(max_ticks=40),
            seats=(SeatSpec(PlayerRef("bot", "expander"), True), SeatSpec()),
        )
        info = await games.create_game(spec)
        fogged = asyncio.create_task(watch_all(games, info.game_id, 1))
        whole = asyncio.create_task(watch_all(games, info.game_id, -1))
        await asyncio.sleep(0.2)
        joined = await games.join_game(info.game_id, Joiner(model_version=7))
        own: list[SeatView] = []
        async for view in games.stream_view(info.game_id, joined.player_token):
            own.append(view)
            if view.done:
                break
            if view.alive and not view.queued_actions:  # two moves: the next view shows one queued
                mask = view.observation.action_mask.unsqueeze(0)
                move = int(sample_legal(mask, torch.rand(1))[0])
                await games.submit_moves(info.game_id, joined.player_token, [move, move])
        return own, await asyncio.wait_for(fogged, 30), await asyncio.wait_for(whole, 30)

    own, fogged, whole = run(gw, scenario)
    assert [f.tick for f in fogged] == [v.tick for v in own] == list(range(len(own)))  # lock-step
    assert any(v.queued_actions for v in own)  # the player saw its queue; spectators never do
    for mine, frame in zip(own, fogged, strict=True):
        seen = frame.view
        assert frame.fog_of == 1 and frame.board is None and seen is not None
        assert seen.seat == 1 and seen.queued_actions == ()
        for name in ("armies", "planes", "scalars", "action_mask"):
            assert torch.equal(getattr(seen.observation, name), getattr(mine.observation, name)), name
        assert (seen.alive, seen.done, seen.winner, seen.outcome) == (
            mine.alive,
            mine.done,
            mine.winner,
            mine.outcome,
        )
    for mine, frame in zip(own, whole, strict=True):  # what the player sees is the board's truth
        assert frame.board is not None and frame.tick == mine.tick
        visible = ~mine.observation.planes[7]  # the fog plane
        assert torch.equal(mine.observation.armies[visible], frame.board.armies[visible])


def test_a_watcher_that_stops_reading_does_not_hold_the_game_back(gw: ThreadedGateway) -> None:
    async def scenario(games: GameClient) -> tuple[GameInfo, list[SpectatorFrame], bool]:
        info = await games.create_game(bots("random", "random", engine=EngineOptions(max_ticks=600)))
        async with channel(gw.services.address("game")) as ch:
            call = game_pb2_grpc.GameServiceStub(ch).WatchGame(
                game_pb2.WatchGameRequest(game_id=info.game_id)
            )
            # a pending game sends no frame: give the stream time to reach the server before the
            # first tick (started at once, the bots had played 50 ticks when it subscribed)
            await asyncio.sleep(0.5)
            await start(games, info)
            first = await call.read()  # then nothing is read while the game plays

            async def over() -> GameInfo | None:
                now = await games.get_game(info.game_id)
                return now if now.status == "finished" else None

            ended = await eventually(over, "the game to end while its watcher reads nothing")
            frames = [convert.spectator_from_proto(first)]
            while (message := await call.read()) is not grpc.aio.EOF:
                frames.append(convert.spectator_from_proto(message))
            return ended, frames, await call.code() == grpc.StatusCode.OK

    ended, frames, closed = run(gw, scenario)
    assert ended.result is not None and ended.result.ticks == 600 and closed
    assert_consistent_ticks(frames)
    assert frames[-1].done and frames[-1].tick == 600 and frames[-1].result == ended.result
    assert sum(f.skipped for f in frames) > 0  # it lost frames: the game did not wait for it
    assert len(frames) >= WATCH_BUFFER and len(frames) < 601


def test_an_unknown_game_is_not_found(gw: ThreadedGateway) -> None:
    async def scenario(games: GameClient) -> None:
        with pytest.raises(errors.NotFound, match="no-such-game"):
            await watch_all(games, "no-such-game")
        with pytest.raises(errors.NotFound):
            await watch_all(games, "x" * 300, fog_of=0)

    run(gw, scenario)


@pytest.fixture(scope="module")
def pending(gw: ThreadedGateway) -> str:
    async def create(games: GameClient) -> str:
        return (await games.create_game(bots("random", "random"))).game_id

    return run(gw, create)


@given(fog_of=st.one_of(st.integers(-(2**31), -2), st.integers(2, 2**31 - 1)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_bad_fog_seat_is_invalid_argument(gw: ThreadedGateway, pending: str, fog_of: int) -> None:
    async def scenario(_: GameClient) -> tuple[grpc.StatusCode, str, GameInfo]:
        async with channel(gw.services.address("game")) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            call = stub.WatchGame(game_pb2.WatchGameRequest(game_id=pending, fog_of=fog_of))
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call.read()
            async with GameClient(ch) as games:
                return failure.value.code(), str(failure.value.details()), await games.get_game(pending)

    code, details, info = run(gw, scenario, timeout_s=30)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "fog_of" in details and "0..1" in details
    assert info.status == "pending"  # nothing changed


# -- through the gateway ---------------------------------------------------------------------


def receive(ws: ClientConnection, kind: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The next message of type ``kind`` (others are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def messages_until_over(ws: ClientConnection) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while not out or out[-1]["type"] != "over":
        out.append(json.loads(ws.recv(timeout=30)))
    return out


def close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_a_bot_game_is_spectated_through_the_gateway(gw: ThreadedGateway) -> None:
    spec = bots("expander", "random", clock="real_time", speed=16, engine=EngineOptions(max_ticks=30))
    info = run(gw, lambda games: games.create_game(spec))
    game_id = info.game_id
    with (
        connect(f"{gw.ws_url}/ws/watch/{game_id}") as everyone,
        connect(f"{gw.ws_url}/ws/watch/{game_id}?fog=1") as seat1,
    ):
        for ws in (everyone, seat1):
            game = receive(ws, "game")["game"]
            assert game["game_id"] == game_id and game["status"] == "pending"
        run(gw, lambda games: start(games, info))
        boards, views = messages_until_over(everyone), messages_until_over(seat1)
        assert close_code(everyone) == 1000
    frames = [m for m in boards if m["type"] == "board"]
    ticks = [m["tick"] for m in frames]
    assert ticks == sorted(set(ticks)) and ticks[-1] == 30 and len(ticks) > 10
    first = frames[0]
    assert len(first["owners"]) == len(first["armies"]) == len(first["terrain"]) == 144
    assert first["fog_of"] is None and [s["name"] for s in first["scores"]] == ["expander", "random"]
    assert frames[-1]["done"] and all(not m["done"] for m in frames[:-1])
    over = boards[-1]["game"]
    assert over["status"] == "finished" and over["result"]["reason"] == "tick_limit"
    assert over["result"]["ticks"] == 30
    seen = [m for m in views if m["type"] == "view"]
    assert seen and all(m["seat"] == 1 and m["fog_of"] == 1 and m["queue"] == [] for m in seen)
    assert 5 in set(seen[0]["tiles"]) | set(seen[-1]["tiles"])  # fog: seat 1 does not see everything
    assert seen[-1]["done"] and seen[-1]["outcome"] == "draw"


def test_the_gateway_refuses_unknown_games_and_bad_fog(gw: ThreadedGateway, pending: str) -> None:
    with connect(f"{gw.ws_url}/ws/watch/no-such-game") as ws:
        assert "no-such-game" in receive(ws, "error")["message"]
        assert close_code(ws) == 4404
    for fog in ("7", "x", "-2"):
        with connect(f"{gw.ws_url}/ws/watch/{pending}?fog={fog}") as ws:
            assert "fog" in receive(ws, "error")["message"]
            assert close_code(ws) == 4400
