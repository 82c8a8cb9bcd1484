"""The Elo Service over gRPC: in process on a free port, on the embedded storage and on PostgreSQL + Redis,
driven through ``EloClient`` (and ``grl leaderboard``) as the Game Service and users drive it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import typer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from typer.testing import CliRunner

from generals_rl.cli.leaderboard import leaderboard
from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.errors import AlreadyExists, InvalidArgument
from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.elo import EloClient, GameReport, PlayerRef, SeatResult, open_service
from generals_rl.settings import Settings
from generals_rl.v1 import common_pb2, elo_pb2, elo_pb2_grpc

RANDOM, EXPANDER, GATHERER = (PlayerRef("bot", n) for n in ("random", "expander", "gatherer"))
ALICE = PlayerRef("human", "alice")
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def duel(game_id: str, winner: PlayerRef, loser: PlayerRef, minute: int) -> GameReport:
    seats = (SeatResult(winner, 0, "win", 1), SeatResult(loser, 1, "loss", 2, eliminated_tick=90))
    return GameReport(
        game_id,
        "1v1",
        seats,
        ticks=90,
        reason="general_captured",
        started_at=START + timedelta(minutes=minute - 1),
        ended_at=START + timedelta(minutes=minute),
        replay_uri=f"file:///replays/{game_id}.gioreplay",
    )


@pytest.fixture(params=["embedded", "postgresql+redis"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "embedded":
        yield Settings(data_dir=tmp_path / "data")
        return
    postgres, redis = request.getfixturevalue("postgres_server"), request.getfixturevalue("redis_server")
    name = postgres.create_database()
    import redis as redis_client

    with redis_client.Redis(host=redis.host, port=redis.port, db=15) as client:
        client.flushdb()
    try:
        yield Settings(data_dir=tmp_path / "data", sql_uri=postgres.uri(name), cache_uri=redis.uri(15))
    finally:
        postgres.drop_database(name)


async def scenario(settings: Settings) -> None:
    stores = await asyncio.to_thread(Stores.open, settings)
    handle = await open_service(settings, stores, Peers(settings))
    try:
        async with Server(handle.services, ServerConfig(port=0)) as server, channel(server.address) as ch:
            health = health_pb2_grpc.HealthStub(ch)
            for service in ("", "generals_rl.v1.EloService"):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            elo = EloClient(ch)
            await play_a_season(elo)
            await check_reads(elo)
            await check_errors(elo, elo_pb2_grpc.EloServiceStub(ch))
            await check_the_cli(server.address)
    finally:
        await handle.close()
        stores.close()


async def play_a_season(elo: EloClient) -> None:
    games = [(EXPANDER, RANDOM), (GATHERER, RANDOM), (EXPANDER, GATHERER), (ALICE, RANDOM), (EXPANDER, ALICE)]
    games += [(GATHERER, ALICE), (EXPANDER, RANDOM), (GATHERER, RANDOM)]
    reports = [duel(f"game-{i}", w, lo, minute=i + 1) for i, (w, lo) in enumerate(games)]
    outcomes = await asyncio.gather(*(elo.report_result(r) for r in reports))  # concurrently, as games end
    assert not any(o.duplicate for o in outcomes)
    first = outcomes[0]
    assert [c.player for c in first.changes] == [EXPANDER, RANDOM]
    assert all(c.deviation_after < c.deviation_before for c in first.changes)
    again = await elo.report_result(reports[0])
    assert again.duplicate and again.changes == first.changes
    ffa = GameReport(
        "ffa-1",
        "ffa",
        (
            SeatResult(RANDOM, 0, "loss", 3),
            SeatResult(GATHERER, 1, "win", 1),
            SeatResult(ALICE, 2, "loss", 2),
        ),
        ticks=400,
        ended_at=START + timedelta(hours=1),
    )
    assert not (await elo.report_result(ffa)).duplicate


async def check_reads(elo: EloClient) -> None:
    board = await elo.leaderboard("1v1")
    assert [e.player for e in board.entries][:1] == [EXPANDER] and board.entries[-1].player == RANDOM
    assert [e.rank for e in board.entries] == [1, 2, 3, 4] and board.page.total_size == 4
    assert all(e.lower < e.rating < e.upper and e.method == "glicko2" for e in board.entries)
    assert board.as_of is not None
    expander = board.entries[0]
    assert (expander.games, expander.wins, expander.losses, expander.draws) == (4, 4, 0, 0)
    paged = await elo.leaderboard("1v1", kind="bot", page_size=2)
    rest = await elo.leaderboard("1v1", kind="bot", page_size=2, page_token=paged.page.next_page_token)
    assert [e.player for e in paged.entries + rest.entries] == [EXPANDER, GATHERER, RANDOM]
    assert [e.player for e in (await elo.leaderboard("ffa")).entries] == [GATHERER, ALICE, RANDOM]
    one = await elo.get_rating(EXPANDER, "1v1")
    assert dataclasses.replace(one, updated_at=None) == dataclasses.replace(expander, updated_at=None)
    newcomer = PlayerRef("model", "12345")
    many = await elo.get_ratings([RANDOM, newcomer], "1v1")
    assert [(r.player, r.games, r.rank, r.elo) for r in many][1] == (newcomer, 0, 0, 1500.0)
    assert many[0].rank == 4
    history = await elo.rating_history(EXPANDER, "1v1")
    points = {p.game_id: p for p in history.points}  # in the order rated: these arrived together
    assert sorted(points) == ["game-0", "game-2", "game-4", "game-6"]
    assert points["game-2"].opponents == (GATHERER,) and points["game-2"].outcome == "win"
    assert points["game-0"].at == START + timedelta(minutes=1) and history.points[-1].elo == expander.elo
    record = await elo.head_to_head(EXPANDER, RANDOM, "1v1", recent=1)
    assert (record.games, record.a_wins, record.b_wins, record.draws, record.a_score) == (2, 2, 0, 0, 1.0)
    assert record.recent_game_ids == ("game-6",) and record.a_expected > 0.5


async def check_errors(elo: EloClient, stub: elo_pb2_grpc.EloServiceStub) -> None:
    with pytest.raises(AlreadyExists, match=r"game-0.*different result already"):
        await elo.report_result(duel("game-0", RANDOM, EXPANDER, minute=1))
    with pytest.raises(InvalidArgument, match="1v1 game has at most one winner"):
        bad = duel("game-bad", EXPANDER, RANDOM, minute=99)
        await elo.report_result(
            dataclasses.replace(
                bad, players=(bad.players[0], dataclasses.replace(bad.players[1], outcome="win", place=1))
            )
        )
    unknown = PlayerRef("human", "nobody")  # reads answer for a player never seen as for a newcomer
    assert (await elo.get_rating(unknown, "1v1")).games == 0
    assert (await elo.rating_history(unknown, "1v1")).points == ()
    assert (await elo.head_to_head(unknown, RANDOM, "1v1")).games == 0
    with pytest.raises(grpc.aio.AioRpcError) as raw:  # what the contract's enums cannot name
        await stub.GetRating(elo_pb2.GetRatingRequest(player=common_pb2.PlayerRef(kind=2, id="x"), mode=7))  # type: ignore[arg-type]
    assert raw.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "got '?7'" in (raw.value.details() or "")
    with pytest.raises(InvalidArgument, match="mode must be 1v1 or ffa, got not set"):
        await elo.leaderboard("")
    with pytest.raises(InvalidArgument, match="two different players"):
        await elo.head_to_head(RANDOM, RANDOM, "1v1")


async def check_the_cli(address: str) -> None:
    app = typer.Typer()
    app.command()(leaderboard)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["--via", address, "--top", "3", "--by", "elo"])
    assert result.exit_code == 0, result.output
    assert "1v1 leaderboard by elo" in result.output and "bot:expander" in result.output
    assert "4/0/0" in result.output and "3 of 4 players" in result.output
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["--via", address, "--mode", "ffa", "--kind", "human"]
    )
    assert result.exit_code == 0 and "human:alice" in result.output and "bot:" not in result.output
    result = await asyncio.to_thread(CliRunner().invoke, app, ["--via", address, "--by", "name"])
    assert result.exit_code == 2 and "--by must be one of rating, lower, elo" in result.output


def test_the_elo_service_over_grpc(settings: Settings) -> None:
    asyncio.run(scenario(settings))


def test_grl_leaderboard_reads_the_local_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    app.command()(leaderboard)
    monkeypatch.setenv("GRL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRL_SQL_URI", raising=False)
    monkeypatch.delenv("GRL_CACHE_URI", raising=False)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 0 and "no rated players in the 1v1 pool yet" in result.output
    settings = Settings.from_env()
    stores = Stores.open(settings)
    try:
        from generals_rl.services.elo import EloCore

        EloCore(stores.database, stores.cache).report_result(duel("g", ALICE, RANDOM, minute=1))
    finally:
        stores.close()
    result = CliRunner().invoke(app, ["--top", "1"])
    assert result.exit_code == 0, result.output
    assert (
        "human:alice" in result.output
        and "bot:random" not in result.output
        and "1 of 2 players" in result.output
    )
