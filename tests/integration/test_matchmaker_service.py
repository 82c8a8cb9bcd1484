"""The Matchmaker over gRPC next to the real Game and Elo services, in process on free ports: queued
bots, bots and humans that play their seats, a bot filling a human's game, cancels, tournaments to
the end (rated on the Elo Service), ``grl match`` and ``grl tournament``, and bad input. Once on
the embedded storage and once on PostgreSQL + Redis + S3."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
import typer
from typer.testing import CliRunner

from generals_rl.cli.match import match, tournament
from generals_rl.services.common import errors, sessions
from generals_rl.services.common.channels import channel
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.runner import RunningServices, run_services
from generals_rl.settings import Settings
from generals_rl.v1 import common_pb2, elo_pb2, elo_pb2_grpc, game_pb2, game_pb2_grpc
from generals_rl.v1 import matchmaker_pb2 as pb

pytestmark = pytest.mark.timeout(300)

T = TypeVar("T")
BOT, MODEL, HUMAN = common_pb2.PLAYER_KIND_BOT, common_pb2.PLAYER_KIND_MODEL, common_pb2.PLAYER_KIND_HUMAN
SMALL_MAPS = {
    "side": {"low": 10, "high": 10},
    "cities": {"low": 1, "high": 2},
    "min_distance": {"low": 5, "high": 7},
    "fair_radius": 3,
    "min_room": 4,
}


def bot(name: str) -> common_pb2.PlayerRef:
    return common_pb2.PlayerRef(kind=BOT, id=name)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 120.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def game_over(games: game_pb2_grpc.GameServiceStub, game_id: str) -> game_pb2.Game:
    async def over() -> game_pb2.Game | None:
        game = await games.GetGame(game_pb2.GetGameRequest(game_id=game_id))
        return game if game.status in (game_pb2.GAME_STATUS_FINISHED, game_pb2.GAME_STATUS_ABORTED) else None

    return await eventually(over, f"game {game_id} to end")


async def hosted_bots_meet(mm: MatchmakerClient, games: game_pb2_grpc.GameServiceStub) -> None:
    """Two hosted bots queue, meet (both start at 1500), and the Game Service plays them out."""
    a = await mm.find_match(bot="gatherer", hosted=True)
    b = await mm.find_match(bot="random", hosted=True)
    assert a.status == b.status == pb.TICKET_STATUS_QUEUED and a.rating == 1500.0
    final_a = await mm.wait_ticket(a.ticket_id, timeout_s=30)
    final_b = await mm.wait_ticket(b.ticket_id, timeout_s=30)
    assert final_a.status == final_b.status == pb.TICKET_STATUS_MATCHED
    assert final_a.match.game_id == final_b.match.game_id and not final_a.match.player_token
    game = await game_over(games, final_a.match.game_id)
    assert game.status == game_pb2.GAME_STATUS_FINISHED and game.clock == game_pb2.CLOCK_LOCK_STEP
    assert {s.player.id for s in game.seats} == {"gatherer", "random"} and all(s.hosted for s in game.seats)


async def players_take_their_seats(
    running: RunningServices, mm: MatchmakerClient, games: game_pb2_grpc.GameServiceStub
) -> None:
    """A bot that plays its own seat and a human asking for a bot: both get seats and tokens."""
    token = sessions.create_session(running.stores.cache, "alice")
    human = await mm.find_match(session_token=token, opponent_kinds=[BOT])  # filled with a hosted bot
    matched = await mm.wait_ticket(human.ticket_id, timeout_s=30)
    assert matched.status == pb.TICKET_STATUS_MATCHED and matched.player.id == "alice"
    assert matched.match.player_token and matched.match.game_address == running.address("game")
    players = {p.kind for p in matched.match.players}
    assert players == {HUMAN, BOT}
    game = await games.GetGame(game_pb2.GetGameRequest(game_id=matched.match.game_id))
    assert game.clock == game_pb2.CLOCK_REAL_TIME and game.seats[matched.match.seat].player.id == "alice"
    stream = games.StreamView(
        game_pb2.StreamViewRequest(game_id=matched.match.game_id, player_token=matched.match.player_token)
    )
    view = await anext(aiter(stream))
    stream.cancel()
    assert view.seat == matched.match.seat
    await games.Surrender(
        game_pb2.SurrenderRequest(game_id=matched.match.game_id, player_token=matched.match.player_token)
    )
    over = await game_over(games, matched.match.game_id)
    assert over.result.players[matched.match.seat].outcome == common_pb2.OUTCOME_LOSS

    # a bot that plays its own seat meets a human: both unrated so far (1500), so at once
    mine = await mm.find_match(bot="expander")
    other = await mm.find_match(session_token=sessions.create_session(running.stores.cache, "bob"))
    seat = (await mm.wait_ticket(mine.ticket_id, timeout_s=30)).match
    theirs = (await mm.wait_ticket(other.ticket_id, timeout_s=30)).match
    assert seat.player_token and theirs.player_token and theirs.game_id == seat.game_id
    await games.Surrender(game_pb2.SurrenderRequest(game_id=seat.game_id, player_token=seat.player_token))
    assert (await game_over(games, seat.game_id)).status == game_pb2.GAME_STATUS_FINISHED


async def cancels_and_queues(mm: MatchmakerClient) -> None:
    ticket = await mm.find_match(bot="expander", mode=common_pb2.GAME_MODE_FFA, num_players=3)
    cancelled = await mm.cancel(ticket.ticket_id)
    assert cancelled.status == pb.TICKET_STATUS_CANCELLED
    states = [t.status async for t in mm.watch_ticket(ticket.ticket_id)]
    assert states == [pb.TICKET_STATUS_CANCELLED]
    queues = {q.name: q for q in await mm.list_queues()}
    assert queues["1v1"].waiting == 0 and queues["1v1"].median_wait_s >= 0


async def tournaments(
    mm: MatchmakerClient, games: game_pb2_grpc.GameServiceStub, elo: elo_pb2_grpc.EloServiceStub
) -> None:
    created = await mm.create_tournament(
        format=pb.TOURNAMENT_FORMAT_ROUND_ROBIN,
        participants=[bot("random"), bot("expander"), bot("gatherer")],
        games_per_pairing=2,
        generator=SMALL_MAPS,
        engine={"max_ticks": 600},
        seed=3,
        request_id="rr-1",
    )
    again = await mm.create_tournament(
        format=pb.TOURNAMENT_FORMAT_ROUND_ROBIN,
        participants=[bot("random"), bot("expander")],
        request_id="rr-1",
    )
    assert again.tournament_id == created.tournament_id
    done = await mm.wait_tournament(created.tournament_id, poll_s=0.1, timeout_s=240)
    assert done.status == pb.TOURNAMENT_STATUS_FINISHED, done.error
    assert len(done.rounds) == 3 and sum(s.games for s in done.standings) == 2 * 3 * 2
    game_ids = [g for r in done.rounds for p in r.pairings for g in p.game_ids]
    assert len(game_ids) == 6
    for game_id in game_ids:
        game = await games.GetGame(game_pb2.GetGameRequest(game_id=game_id))
        assert game.status == game_pb2.GAME_STATUS_FINISHED and game.clock == game_pb2.CLOCK_LOCK_STEP
        assert game.spec.height == 10
    rated = await elo.GetRatings(
        elo_pb2.GetRatingsRequest(players=[bot("gatherer")], mode=common_pb2.GAME_MODE_1V1)
    )

    async def counted() -> bool:
        rated = await elo.GetRatings(
            elo_pb2.GetRatingsRequest(players=[bot("gatherer")], mode=common_pb2.GAME_MODE_1V1)
        )
        return rated.ratings[0].games >= 4

    assert rated.ratings[0].player.id == "gatherer"
    await eventually(counted, "the Elo Service to count the tournament's games")
    listed = await mm.list_tournaments(status=pb.TOURNAMENT_STATUS_FINISHED)
    assert created.tournament_id in [t.tournament_id for t in listed.tournaments]
    fetched = await mm.get_tournament(created.tournament_id)
    assert fetched.standings == done.standings


async def bad_input(mm: MatchmakerClient) -> None:
    before = (await mm.list_tournaments()).page.total_size, await mm.list_queues()
    for call, error in [
        (mm.find_match(bot="random", mode=common_pb2.GAME_MODE_UNSPECIFIED), errors.InvalidArgument),
        (mm.find_match(session_token="x" * 32, hosted=True), errors.InvalidArgument),
        (mm.find_match(session_token="x" * 32), errors.Unauthenticated),
        (mm.cancel("no-such-ticket"), errors.NotFound),
        (mm.get_tournament("t0000000000000deadbeef"), errors.NotFound),
        (
            mm.create_tournament(
                format=pb.TOURNAMENT_FORMAT_SWISS, participants=[bot("random"), bot("random")]
            ),
            errors.InvalidArgument,
        ),
        (
            mm.create_tournament(
                format=pb.TOURNAMENT_FORMAT_SWISS, participants=[bot("random"), common_pb2.PlayerRef(id="x")]
            ),
            errors.InvalidArgument,
        ),
        (
            mm.create_tournament(
                format=pb.TOURNAMENT_FORMAT_SWISS,
                participants=[bot("random"), bot("expander")],
                generator={"side": {"low": 70, "high": 70}},
            ),
            errors.InvalidArgument,
        ),
        (mm.sample_opponents(strategy=pb.SAMPLING_STRATEGY_UNIFORM, include_bots=True), errors.Unavailable),
    ]:
        with pytest.raises(error):
            await call
    assert ((await mm.list_tournaments()).page.total_size, await mm.list_queues()) == before


def cli(command: Callable[..., None], *args: str) -> str:
    app = typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("sql_uri", "cache_uri", "blob_uri"),
    [("sqlite", "memory", "file"), ("postgresql", "redis", "s3")],
    indirect=True,
    ids=["embedded", "postgresql+redis+s3"],
)
def test_matchmaker_service(sql_uri: str, cache_uri: str, blob_uri: str, tmp_path: Path) -> None:
    ports = {"game": 0, "elo": 0, "matchmaker": 0}
    settings = Settings(
        data_dir=tmp_path, ports=ports, sql_uri=sql_uri, cache_uri=cache_uri, blob_uri=blob_uri
    )

    async def scenario() -> None:
        async with (
            run_services(["game", "elo", "matchmaker"], settings) as running,
            MatchmakerClient(running.address("matchmaker")) as mm,
            channel(running.address("game")) as game_channel,
            channel(running.address("elo")) as elo_channel,
        ):
            games = game_pb2_grpc.GameServiceStub(game_channel)
            elo = elo_pb2_grpc.EloServiceStub(elo_channel)
            await hosted_bots_meet(mm, games)
            await players_take_their_seats(running, mm, games)
            await cancels_and_queues(mm)
            await tournaments(mm, games, elo)
            await bad_input(mm)
            via = running.address("matchmaker")
            out = await asyncio.to_thread(
                cli,
                tournament,
                "--format",
                "single-elimination",
                "--players",
                "random,expander,gatherer",
                "--via",
                via,
                "--games-per-pairing",
                "1",
                "--size",
                "10",
                "--max-ticks",
                "600",
                "--unrated",
            )
            assert "bracket" in out and "winner:" in out

    asyncio.run(scenario())


def test_grl_match_starts_the_services_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GRL_SQL_URI", "GRL_CACHE_URI", "GRL_BLOB_URI"):
        monkeypatch.delenv(variable, raising=False)
    out = cli(
        match,
        "--p1",
        "gatherer",
        "--p2",
        "random",
        "--games",
        "2",
        "--size",
        "10",
        "--data-dir",
        str(tmp_path / "data"),
        "--max-ticks",
        "600",
    )
    assert "2 games: gatherer vs random" in out and "draws" in out and "95% CI" in out
