"""Model versions as players: the Game Service hosts a version it fetches from the Model Service
(lock-step and real time), the Matchmaker runs a tournament with one that is rated by the Elo
Service, and ``grl play`` / ``grl match`` take ``model:<version>`` and ``model:<alias>``. Every
service runs in process on free ports on the embedded storage; a tiny network (resnet-v1, 8
channels, 1 block) plays on 8x8 and 10x10 maps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
import torch
import typer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from generals_rl.cli.match import match
from generals_rl.cli.play import play
from generals_rl.game.engine import encode_action
from generals_rl.game.observations import observe
from generals_rl.game.replay import Replay, ReplaySimulator
from generals_rl.services.common import errors
from generals_rl.services.common.channels import channel
from generals_rl.services.common.wiring import Stores
from generals_rl.services.game import GameClient, GameHost, HostedModels
from generals_rl.services.game.archive import REPLAYS, replay_key
from generals_rl.services.game.domain import (
    EngineOptions,
    GameInfo,
    GameSpec,
    Joiner,
    MapText,
    PlayerRef,
    SeatSpec,
)
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.model import (
    Actor,
    LocalModelRegistry,
    ModelClient,
    ModelCore,
    ModelServiceConfig,
    ValidationConfig,
)
from generals_rl.services.runner import SERVICE_NAMES, RunningServices, run_services
from generals_rl.settings import Settings
from generals_rl.storage.errors import NotFoundError
from generals_rl.storage.records import Game as StoredGame
from generals_rl.training.networks import PolicyNetwork, build
from generals_rl.v1 import common_pb2, elo_pb2, elo_pb2_grpc
from generals_rl.v1 import matchmaker_pb2 as mm_pb

pytestmark = pytest.mark.timeout(180)

T = TypeVar("T")

TINY = '{"channels": 8, "blocks": 1}'
QUICK = ValidationConfig(
    board_sides=(6,), ffa_players=0, boards_per_size=1, play_ticks=6, sanity_games=2, sanity_side=6
)
SMALL = "\n".join(
    ["A..#....", "........", "..#..1..", "........", "....#...", ".2......", "........", "......#B"]
)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def tiny(seed: int) -> PolicyNetwork:
    torch.manual_seed(seed)
    return build("resnet-v1", TINY)


def registry(stores: Stores) -> LocalModelRegistry:
    """The registry on the services' storage (quick validation), for publishing in tests."""
    return LocalModelRegistry(ModelCore(stores.database, stores.blobs, ModelServiceConfig(validation=QUICK)))


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


def legal_moves_of(replay: Replay, seat: int) -> int:
    """The moves ``seat`` made in a replayed game; fails on one its view did not allow."""
    sim = ReplaySimulator(replay)
    h, w = replay.map_height, replay.map_width
    directions = {-w: 0, w: 1, -1: 2, 1: 3}
    moves = [m for m in replay.moves if m.index == seat]
    checked = 0
    while not sim.over:
        mask = observe(sim.state).action_mask[0, seat]
        for move in (m for m in moves if m.turn == sim.tick):
            action = encode_action(move.start, directions[move.end - move.start], move.is50, h * w)
            assert bool(mask[action]), f"illegal move {move} at tick {sim.tick}"
            checked += 1
        sim.step()
    return checked


async def lock_step_game(running: RunningServices, games: GameClient, version: int) -> None:
    """Hosted model version vs hosted ``random``: runs at once, stored, every model move legal."""
    model = PlayerRef("model", str(version))
    spec = GameSpec(
        map=MapText(SMALL),
        seed=3,
        engine=EngineOptions(max_ticks=150),
        seats=(SeatSpec(model, hosted=True), SeatSpec(PlayerRef("bot", "random"), hosted=True)),
    )
    created = await games.create_game(spec)
    assert created.status == "running" and created.clock == "lock_step"
    assert created.seats[0].display_name == f"model:{version}" and created.seats[0].hosted
    info = await finished(games, created.game_id)
    assert info.status == "finished" and info.result is not None
    assert [p.player for p in info.result.players] == [model, PlayerRef("bot", "random")]
    stores = running.stores

    async def stored() -> StoredGame | None:
        try:
            return await asyncio.to_thread(stores.database.games.get, created.game_id)
        except NotFoundError:
            return None

    row = await eventually(stored, "the game's row in the database")
    assert row.status == "finished" and row.ticks == info.result.ticks
    outcomes = [p.outcome for p in info.result.players]
    assert [r.outcome for r in stores.database.games.results(created.game_id)] == outcomes
    replay = Replay.from_bytes(stores.blobs.get(REPLAYS, replay_key(created.game_id)))
    assert legal_moves_of(replay, 0) > 10  # the model moved, and only legally


async def real_time_game(games: GameClient, version: int) -> str:
    """Two seats of the same version (one batch) at speed 16; the game id (still running)."""
    model = PlayerRef("model", str(version))
    spec = GameSpec(
        map=MapText(SMALL),
        clock="real_time",
        speed=16,
        engine=EngineOptions(max_ticks=40),
        seats=(SeatSpec(model, hosted=True), SeatSpec()),
    )
    created = await games.create_game(spec)
    assert created.status == "pending"
    joined = await games.join_game(created.game_id, Joiner(model_version=version), hosted=True)
    assert joined.seat == 1 and joined.game.status == "running" and joined.game.clock == "real_time"
    return created.game_id


async def refusals(running: RunningServices, games: GameClient, version: int) -> None:
    """Unknown, rejected and retired versions, and a Model Service that cannot be reached."""
    bot = SeatSpec(PlayerRef("bot", "random"), hosted=True)

    def hosting(v: int) -> GameSpec:
        return GameSpec(map=MapText(SMALL), seats=(SeatSpec(PlayerRef("model", str(v)), hosted=True), bot))

    with pytest.raises(errors.NotFound, match="model version 999"):
        await games.create_game(hosting(999))
    pending = await games.create_game(GameSpec(map=MapText(SMALL), seats=(bot,)))
    with pytest.raises(errors.NotFound, match="model version 999"):
        await games.join_game(pending.game_id, Joiner(model_version=999), hosted=True)
    broken = tiny(5).state_dict()
    broken["value.bias"] = torch.tensor([float("nan")])
    rejected = await registry(running.stores).publish(broken, architecture="resnet-v1", config_json=TINY)
    assert rejected.state == "rejected"
    with pytest.raises(errors.FailedPrecondition, match=f"model version {rejected.version} is REJECTED"):
        await games.create_game(hosting(rejected.version))
    retired = await registry(running.stores).publish(tiny(6))
    await registry(running.stores).retire(retired.version, Actor("test", "retired at once"))
    with pytest.raises(errors.FailedPrecondition, match="RETIRED"):
        await games.join_game(pending.game_id, Joiner(model_version=retired.version), hosted=True)
    assert (await games.get_game(pending.game_id)).status == "pending"  # nothing changed

    nobody = channel("127.0.0.1:9", retries=1)  # nothing listens on the discard port
    try:
        alone = GameHost(models=HostedModels(lambda: ModelClient(nobody, timeout_s=1.0)))
        async with alone:
            with pytest.raises(errors.Unavailable, match="Model Service"):
                await alone.create_game(hosting(version))
            assert (await alone.create_game(GameSpec(map=MapText(SMALL), seats=(bot,)))).status == "pending"
    finally:
        await nobody.close()


@given(model_id=st.one_of(st.text(max_size=12), st.integers(-5, 2**70).map(str)))
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hosting_any_model_id_is_refused_clearly_or_played(model_id: str) -> None:
    """Whatever id a hosted model seat names: a clear error (never an internal one) or a game."""
    host = GameHost(models=HostedModels(None))

    async def create() -> None:
        async with host:
            seats = (SeatSpec(PlayerRef("model", model_id), hosted=True),)
            with pytest.raises((errors.InvalidArgument, errors.Unavailable)) as refused:
                await host.create_game(GameSpec(map=MapText(SMALL), seats=seats))
            assert "seats[0]" in str(refused.value) or "model version" in str(refused.value)

    asyncio.run(create())


def grl(command: Callable[..., None], *args: str, code: int = 0) -> str:
    """``command``'s output through Typer's runner (exit code ``code``), tables unwrapped."""
    app = typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return " ".join(result.output.replace("│", " ").split())


def test_grl_play_and_match_take_model_players_from_the_local_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("GRL_SQL_URI", "GRL_CACHE_URI", "GRL_BLOB_URI"):
        monkeypatch.delenv(variable, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("GRL_DATA_DIR", str(data))
    missing = grl(play, "--p1", "model:latest", "--p2", "random", "--games", "2", code=2)
    assert "no model registry yet" in missing
    stores = Stores.open(Settings.from_env())
    try:
        local = registry(stores)
        version = asyncio.run(local.publish(tiny(2))).version
        asyncio.run(local.promote(version, "champion", Actor("test", "the only one")))
    finally:
        stores.close()

    out = grl(
        play, "--p1", "model:latest", "--p2", "random", "--games", "4", "--size", "8x8", "--max-ticks", "80"
    )
    assert "4 games" in out and f"model:{version} (latest)" in out and "95% CI" in out and "draws" in out
    by_number = grl(play, "--p1", "random", "--p2", f"model:{version}", "--max-ticks", "5", "--delay", "0")
    assert f"model:{version} (2)" in by_number and "tick 5" in by_number  # one game, rendered
    assert "there is no alias 'nope'" in grl(play, "--p1", "model:nope", code=2)
    assert "a version number is >= 1" in grl(play, "--p1", "model:0", code=2)

    args = ["--p1", "model:champion", "--p2", "random", "--games", "2", "--size", "10", "--max-ticks", "200"]
    out = grl(match, *args, "--data-dir", str(data))
    assert f"2 games: model:{version} vs random" in out and "95% CI" in out
    assert "listed twice" in grl(match, "--p1", "model:champion", "--p2", f"model:{version}", code=2)


def test_model_versions_play_on_the_game_service_and_in_tournaments(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", ports=dict.fromkeys(SERVICE_NAMES, 0))

    async def scenario() -> None:
        async with run_services(["game", "matchmaker", "model", "elo"], settings) as running:
            version = (await registry(running.stores).publish(tiny(1))).version
            games = GameClient.connect(running.address("game"))
            try:
                live = await real_time_game(games, version)
                await refusals(running, games, version)  # while the real-time game plays on
                await lock_step_game(running, games, version)
                info = await finished(games, live)
                assert info.status == "finished" and info.result is not None and info.result.ticks == 40
                await tournament(running, version)
                await registry(running.stores).promote(version, "champion", Actor("test", "the only one"))
                via = running.address("model")
                args = ["--p1", "model:champion", "--p2", "gatherer", "--model-service", via]
                out = await asyncio.to_thread(
                    grl, play, *args, "--games", "2", "--size", "8x8", "--max-ticks", "60"
                )
                assert f"model:{version} (champion)" in out and "gatherer" in out and "2 games" in out
            finally:
                await games.close()

    asyncio.run(scenario())


async def tournament(running: RunningServices, version: int) -> None:
    """A round robin of the model version, ``expander`` and ``random`` through the Matchmaker."""

    def ref(kind: int, id: str) -> common_pb2.PlayerRef:
        return common_pb2.PlayerRef(kind=kind, id=id)  # type: ignore[arg-type]

    model = ref(common_pb2.PLAYER_KIND_MODEL, str(version))
    participants = [
        model,
        ref(common_pb2.PLAYER_KIND_BOT, "expander"),
        ref(common_pb2.PLAYER_KIND_BOT, "random"),
    ]
    async with MatchmakerClient(running.address("matchmaker")) as mm:
        created = await mm.create_tournament(
            format=mm_pb.TOURNAMENT_FORMAT_ROUND_ROBIN,
            participants=participants,
            games_per_pairing=1,
            seed=4,
            generator={"side": {"low": 10, "high": 10}},
            engine={"max_ticks": 300},
        )
        done = await mm.wait_tournament(created.tournament_id, poll_s=0.1, timeout_s=120)
    assert done.status == mm_pb.TOURNAMENT_STATUS_FINISHED, done.error
    line = next(s for s in done.standings if s.player == model)
    assert line.wins + line.draws + line.losses == 2
    async with channel(running.address("elo")) as ch:
        elo = elo_pb2_grpc.EloServiceStub(ch)
        request = elo_pb2.GetRatingRequest(player=model, mode=common_pb2.GAME_MODE_1V1)

        async def rated() -> elo_pb2.Rating | None:
            try:
                rating = await elo.GetRating(request)
            except grpc.aio.AioRpcError as error:  # not rated yet
                assert error.code() == grpc.StatusCode.NOT_FOUND, error
                return None
            return rating if rating.games == 3 else None

        # the lock-step game against random, and the tournament's two
        await eventually(rated, "the Elo Service to rate the model's three games")


def test_grl_bot_plays_a_model_version_from_the_local_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from generals_rl.cli.bot import bot_app

    for variable in ("GRL_SQL_URI", "GRL_CACHE_URI", "GRL_BLOB_URI"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GRL_DATA_DIR", str(tmp_path / "data"))
    stores = Stores.open(Settings.from_env())
    try:
        local = registry(stores)
        version = asyncio.run(local.publish(tiny(3))).version
        asyncio.run(local.promote(version, "champion", Actor("test", "the only one")))
    finally:
        stores.close()
    command = ["local-server", "--port", "0", "--side", "6", "--tick-seconds", "0", "--lockstep"]
    server = subprocess.Popen(
        [sys.executable, "-c", "from generals_rl.cli.bot import bot_app; bot_app()", *command, "--seed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert server.stderr is not None
        url, deadline = "", time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            line = server.stderr.readline()
            assert line, "bot local-server exited before listening"
            if line.startswith("listening on "):
                url = line.split()[-1]
        player = ["--user-id", "me", "--model", "champion", "--server", url, "--join-timeout", "30"]
        result = CliRunner().invoke(bot_app, ["generalsio", *player])
        assert result.exit_code == 0, result.output
        assert "game 1: " in result.output and "attacks" in result.output
        unknown = CliRunner().invoke(
            bot_app, ["generalsio", "--user-id", "me", "--model", "nope", "--server", url]
        )
        assert unknown.exit_code == 2 and "there is no alias 'nope'" in " ".join(unknown.output.split())
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
