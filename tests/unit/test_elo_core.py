"""The Elo Service's domain (``EloCore``) on every storage backend: SQLite and PostgreSQL x memory and Redis.

What a caller would notice: a result rates its players once, however often it is reported; a
different result for a known game, or a bad one, is refused with a message saying why and changes
nothing; leaderboards are ordered with 95% intervals and survive a flushed or expired cache; 1v1 and
FFA are separate pools; histories and head-to-head records add up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    ServiceError,
)
from generals_rl.services.elo import (
    EloCore,
    EloServiceConfig,
    EloServicer,
    GameReport,
    LocalElo,
    PlayerRef,
    SeatResult,
)
from generals_rl.services.elo.domain import check_report
from generals_rl.services.elo.ratings import glicko2_period, placement_pairs
from generals_rl.stats import Z95
from generals_rl.storage import open_cache, open_sql
from generals_rl.storage.records import MatchResult, NewGame, NewModelVersion
from generals_rl.v1 import common_pb2, elo_pb2

A, B, C, D = (PlayerRef("bot", n) for n in ("alpha", "beta", "gamma", "delta"))
H = PlayerRef("human", "hana")
START = datetime(2026, 1, 1, tzinfo=UTC)
one_backend = pytest.mark.parametrize(("sql_uri", "cache_uri"), [("sqlite", "memory")], indirect=True)


def duel(
    game_id: str, winner: PlayerRef, loser: PlayerRef, *, minute: int = 0, draw: bool = False
) -> GameReport:
    outcomes = ("draw", "draw") if draw else ("win", "loss")
    places = (1, 1) if draw else (1, 2)
    return GameReport(
        game_id,
        "1v1",
        (SeatResult(winner, 0, outcomes[0], places[0]), SeatResult(loser, 1, outcomes[1], places[1])),
        ticks=100,
        reason="tick_limit" if draw else "general_captured",
        ended_at=START + timedelta(minutes=minute),
    )


def ffa(game_id: str, *players: PlayerRef, minute: int = 0) -> GameReport:
    """Players listed winner first; each later one placed one lower."""
    seats = tuple(SeatResult(p, i, "win" if i == 0 else "loss", i + 1) for i, p in enumerate(players))
    return GameReport(game_id, "ffa", seats, ticks=300, ended_at=START + timedelta(minutes=minute))


def make_core(sql_uri: str, cache_uri: str, **config: Any) -> EloCore:
    return EloCore(open_sql(sql_uri), open_cache(cache_uri), EloServiceConfig(**config))


@pytest.fixture
def core(sql_uri: str, cache_uri: str) -> Iterator[EloCore]:
    made = make_core(sql_uri, cache_uri)
    yield made
    made.database.close()
    made.leaderboards.cache.close()


def snapshot(core: EloCore) -> dict[str, Any]:
    """Everything a report could change: players, games, results, ratings, history, both leaderboards."""
    db = core.database
    players = db.players.list(limit=10_000)
    games = db.games.list(limit=10_000)
    return {
        "players": sorted((p.id, p.kind, p.name, p.model_version) for p in players),
        "games": sorted((g.id, g.mode, g.status, g.player_ids, g.ticks, g.winner_id) for g in games),
        "results": {g.id: db.games.results(g.id) for g in games},
        "ratings": {m: db.ratings.leaderboard(limit=10_000, mode=m) for m in ("1v1", "ffa")},
        "history": {p.id: db.ratings.history(p.id, limit=10_000) for p in players},
        "leaderboards": {m: core.leaderboard(m, page_size=1000).entries for m in ("1v1", "ffa")},
    }


# reporting


def test_a_result_rates_its_players_once_and_a_repeat_returns_the_first_answer(core: EloCore) -> None:
    first = core.report_result(duel("g1", A, B))
    assert not first.duplicate
    assert [c.player for c in first.changes] == [A, B]
    a, b = first.changes
    assert (a.elo_before, a.elo_after, b.elo_after) == (1500.0, 1520.0, 1480.0)  # provisional K = 40
    expected = glicko2_period({}, placement_pairs({"a": 1, "b": 2}))
    assert a.rating_after == pytest.approx(expected["a"].rating)
    assert (
        a.deviation_after == pytest.approx(expected["a"].rd) and a.deviation_after < a.deviation_before == 350
    )
    before = snapshot(core)
    again = core.report_result(duel("g1", A, B))
    assert again.duplicate and again.changes == first.changes
    assert snapshot(core) == before
    rating = core.get_rating(A, "1v1")
    assert (rating.games, rating.wins, rating.losses, rating.rank, rating.method) == (1, 1, 0, 1, "glicko2")
    assert (rating.elo, rating.rating) == (a.elo_after, a.rating_after)
    game = core.database.games.get("g1")
    assert (game.status, game.ticks, game.mode) == ("finished", 100, "1v1")


def test_a_different_result_for_a_known_game_is_refused_and_changes_nothing(core: EloCore) -> None:
    core.report_result(duel("g1", A, B))
    core.report_result(duel("g2", B, C, minute=1))
    before = snapshot(core)
    different = [
        duel("g1", B, A),  # the other winner
        duel("g1", A, B, draw=True),
        duel("g1", A, C),  # another player
        dataclasses.replace(duel("g1", A, B), mode="ffa"),
        ffa("g1", A, B, C),
    ]
    for report in different:
        with pytest.raises(AlreadyExists, match=r"g1.*different result already .*bot:alpha win 1"):
            core.report_result(report)
    assert snapshot(core) == before


BAD = [
    (dataclasses.replace(duel("g", A, B), game_id=""), "game id is required"),
    (dataclasses.replace(duel("g", A, B), mode=""), "mode must be 1v1 or ffa, got not set"),
    (dataclasses.replace(duel("g", A, B), mode="?7"), "mode must be 1v1 or ffa, got '\\?7'"),
    (dataclasses.replace(duel("g", A, B), players=duel("g", A, B).players[:1]), "at least 2 players"),
    (dataclasses.replace(ffa("g", A, B, C), mode="1v1"), "exactly 2 players"),
    (duel("g", A, A), "bot:alpha is listed twice"),
    (
        GameReport("g", "1v1", (SeatResult(A, 0, "win", 1), SeatResult(B, 0, "loss", 2))),
        "one result per seat",
    ),
    (
        GameReport("g", "1v1", (SeatResult(A, 0, "win", 1), SeatResult(B, 1, "win", 1))),
        "1v1 game has at most one winner",
    ),
    (GameReport("g", "1v1", (SeatResult(A, 0, "win", 1), SeatResult(B, 1, "", 2))), "outcome must be win"),
    (
        GameReport("g", "1v1", (SeatResult(A, 0, "win", 2), SeatResult(B, 1, "loss", 1))),
        "its place is 1, not 2",
    ),
    (
        GameReport("g", "1v1", (SeatResult(A, 0, "loss", 2), SeatResult(B, 1, "loss", 2))),
        "is a draw of at least 2",
    ),
    (
        GameReport("g", "1v1", (SeatResult(A, 0, "win", 1), SeatResult(B, 1, "loss", 3))),
        "place must lie in 1..2",
    ),
    (
        GameReport(
            "g",
            "ffa",
            (SeatResult(A, 0, "draw", 1), SeatResult(B, 1, "draw", 1), SeatResult(C, 2, "loss", 1)),
        ),
        "lost: its place is 2",
    ),
    (dataclasses.replace(duel("g", A, B), reason="aborted"), "aborted games are never rated"),
    (duel("g", PlayerRef("", "x"), B), "kind must be human, bot or model, got not set"),
    (duel("g", PlayerRef("bot", ""), B), "id of the player of seat 0 bot:… is required"),
    (duel("g", PlayerRef("model", "v7"), B), "decimal version number"),
    (duel("g", PlayerRef("human", "x" * 129), B), "at most 128 characters"),
    (
        dataclasses.replace(duel("g", A, B), started_at=START + timedelta(hours=1)),
        "cannot end before it started",
    ),
]


GOOD = [
    GameReport(
        "g",
        "ffa",
        tuple(
            SeatResult(p, i, o, n)
            for i, (p, o, n) in enumerate([(A, "win", 1), (B, "loss", 2), (C, "loss", 2), (D, "loss", 4)])
        ),
    ),
    GameReport(
        "g",
        "ffa",
        tuple(
            SeatResult(p, i, o, n)
            for i, (p, o, n) in enumerate([(A, "draw", 1), (B, "loss", 3), (C, "draw", 1)])
        ),
    ),
    GameReport(
        "g",
        "ffa",
        tuple(
            SeatResult(p, i, o, n)
            for i, (p, o, n) in enumerate([(A, "win", 1), (B, "win", 1), (C, "loss", 3)])
        ),
    ),
    duel("g", A, B, draw=True),
]


@pytest.mark.parametrize("report", GOOD, ids=["shared place", "tick-limit draw", "team win", "1v1 draw"])
def test_results_as_the_game_service_builds_them_are_accepted(report: GameReport) -> None:
    check_report(report)


@pytest.mark.parametrize(("report", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_results_are_refused_saying_what_is_wrong(report: GameReport, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        check_report(report)


@one_backend
def test_the_game_service_s_own_game_rows_and_results_are_used(core: EloCore) -> None:
    db = core.database
    ids = [db.players.ensure("bot", p.id).id for p in (A, B, C)]
    db.games.create(NewGame("1v1", "map", 10, 10, (ids[0], ids[1]), id="pending", status="running"))
    assert not core.report_result(duel("pending", A, B)).duplicate
    assert db.games.get("pending").status == "finished"
    db.games.create(NewGame("1v1", "map", 10, 10, (ids[0], ids[1]), id="recorded"))
    db.games.record_results(
        "recorded",
        [MatchResult("recorded", ids[0], 0, "loss", 2), MatchResult("recorded", ids[1], 1, "win", 1)],
    )
    recorded = GameReport("recorded", "1v1", (SeatResult(A, 0, "loss", 2), SeatResult(B, 1, "win", 1)))
    assert not core.report_result(recorded).duplicate  # rated now: not a repeat
    assert core.report_result(recorded).duplicate
    with pytest.raises(AlreadyExists):
        core.report_result(duel("recorded", A, B))
    db.games.create(NewGame("1v1", "map", 10, 10, (ids[0], ids[2]), id="other"))
    with pytest.raises(
        InvalidArgument, match="seats bot:alpha, bot:gamma; the result lists bot:alpha, bot:beta"
    ):
        core.report_result(duel("other", A, B))
    with pytest.raises(InvalidArgument, match="is a 1v1 game, the result says ffa"):
        core.report_result(ffa("other", A, C))
    db.games.create(NewGame("1v1", "map", 10, 10, (ids[0], ids[2]), id="aborted", status="aborted"))
    with pytest.raises(FailedPrecondition, match="aborted"):
        core.report_result(duel("aborted", A, C))


@one_backend
def test_a_model_player_is_linked_to_its_version_when_the_registry_has_it(core: EloCore) -> None:
    version = core.database.models.create_version(NewModelVersion(architecture="resnet")).version
    core.report_result(duel("g1", PlayerRef("model", str(version)), PlayerRef("model", "404")))
    linked, unregistered = (
        core.database.players.find("model", str(version)),
        core.database.players.find("model", "404"),
    )
    assert linked is not None and linked.model_version == version
    assert unregistered is not None and unregistered.model_version is None  # rated all the same
    assert core.get_rating(PlayerRef("model", "404"), "1v1").games == 1


# fuzzing ReportResult

POOL = [A, B, C, H, PlayerRef("model", "1"), PlayerRef("model", "99")]
FLAWS = ["mode", "count", "twice", "seat", "outcome", "place", "kind", "id", "game id", "reason"]


@st.composite
def reports(draw: st.DrawFn) -> GameReport:
    """Results from a small pool of games and players (so repeats and conflicts happen), half of them with
    one flaw."""
    mode = draw(st.sampled_from(["1v1", "ffa"]))
    n = 2 if mode == "1v1" else draw(st.integers(2, 6))
    players = draw(st.lists(st.sampled_from(POOL), min_size=n, max_size=n, unique=True))
    winner = draw(st.integers(-1, n - 1))  # -1: a draw
    seats = [
        SeatResult(
            p,
            i,
            "draw" if winner < 0 else "win" if i == winner else "loss",
            1 if winner < 0 or i == winner else draw(st.integers(2, n)),
        )
        for i, p in enumerate(players)
    ]
    report = GameReport(
        draw(st.sampled_from([f"g{i}" for i in range(6)])), mode, tuple(seats), ticks=50, ended_at=START
    )
    flaw = draw(st.sampled_from([None] * len(FLAWS) + FLAWS))
    i = draw(st.integers(0, n - 1))
    seat = seats[i]
    if flaw == "mode":
        report = dataclasses.replace(report, mode=draw(st.sampled_from(["", "?9", "1v1", "ffa"])))
    elif flaw == "count":
        report = dataclasses.replace(report, players=report.players[: draw(st.integers(0, 1))])
    elif flaw == "twice":
        seats[i] = dataclasses.replace(seat, player=seats[(i + 1) % n].player)
    elif flaw == "seat":
        seats[i] = dataclasses.replace(seat, seat=draw(st.integers(0, 9)))
    elif flaw == "outcome":
        seats[i] = dataclasses.replace(seat, outcome=draw(st.sampled_from(["win", "loss", "draw", "", "?5"])))
    elif flaw == "place":
        seats[i] = dataclasses.replace(seat, place=draw(st.integers(0, 9)))
    elif flaw == "kind":
        seats[i] = dataclasses.replace(
            seat, player=PlayerRef(draw(st.sampled_from(["", "?4", "robot"])), "x")
        )
    elif flaw == "id":
        name = draw(st.sampled_from(["", "x" * 129, "a\x00b", "v7"]))
        seats[i] = dataclasses.replace(seat, player=PlayerRef(draw(st.sampled_from(["bot", "model"])), name))
    elif flaw == "game id":
        report = dataclasses.replace(report, game_id=draw(st.sampled_from(["", "x" * 65, "g\x01"])))
    elif flaw == "reason":
        report = dataclasses.replace(report, reason=draw(st.sampled_from(["aborted", "?8", "tick_limit"])))
    if flaw in ("twice", "seat", "outcome", "place", "kind", "id"):
        report = dataclasses.replace(report, players=tuple(seats))
    return dataclasses.replace(report, players=tuple(draw(st.permutations(report.players))))


def test_fuzzed_results_only_ever_fail_cleanly_and_a_refused_one_changes_nothing(
    sql_uri: str, cache_uri: str
) -> None:
    core = make_core(sql_uri, cache_uri)
    core.database.models.create_version(NewModelVersion(architecture="resnet"))  # model:1 is registered
    allowed = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.NOT_FOUND}
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(report=reports())
    def check(report: GameReport) -> None:
        before = snapshot(core)
        try:
            outcome = core.report_result(report)
        except ServiceError as error:
            assert error.code in allowed, error
            assert snapshot(core) == before, error
            seen.add(error.code.name)
        else:
            seen.add("duplicate" if outcome.duplicate else "rated")

    try:
        check()
    finally:
        core.database.close()
        core.leaderboards.cache.close()
    assert {"INVALID_ARGUMENT", "rated"} <= seen  # the pool is small: repeats and conflicts happen too


@st.composite
def requests(draw: st.DrawFn) -> elo_pb2.ReportResultRequest:
    """ReportResult requests as they could arrive on the wire: any enum number, any counts."""
    seats = [
        common_pb2.PlayerResult(
            player=common_pb2.PlayerRef(
                kind=draw(st.integers(0, 4)), id=draw(st.sampled_from(["a", "b", "1", ""]))
            ),  # type: ignore[arg-type]
            seat=draw(st.integers(0, 3)),
            outcome=draw(st.integers(0, 4)),  # type: ignore[arg-type]
            place=draw(st.integers(0, 4)),
            eliminated_tick=draw(st.integers(0, 2**32 - 1)),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    result = common_pb2.GameResult(
        game_id=draw(st.sampled_from(["w0", "w1", ""])),
        mode=draw(st.integers(0, 3)),  # type: ignore[arg-type]
        players=seats,
        ticks=draw(st.integers(0, 2**32 - 1)),
        reason=draw(st.integers(0, 5)),  # type: ignore[arg-type]
    )
    return elo_pb2.ReportResultRequest(result=result)


@one_backend
def test_fuzzed_requests_through_the_servicer_only_ever_fail_cleanly(core: EloCore) -> None:
    servicer = EloServicer(LocalElo(core))
    allowed = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.NOT_FOUND}

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(request=requests())
    def check(request: elo_pb2.ReportResultRequest) -> None:
        before = snapshot(core)
        try:
            response = asyncio.run(servicer.ReportResult(request, None))  # type: ignore[arg-type]
        except ServiceError as error:
            assert error.code in allowed, error
            assert snapshot(core) == before, error
        else:
            assert len(response.changes) == len(request.result.players)

    check()


# leaderboards


def test_the_leaderboard_is_ordered_with_intervals_filters_and_pages(core: EloCore) -> None:
    games = [(A, B), (A, C), (A, H), (B, C), (B, H), (C, H), (A, B), (B, C)]
    for i, (winner, loser) in enumerate(games):
        core.report_result(duel(f"g{i}", winner, loser, minute=i))
    board = core.leaderboard("1v1")
    assert [e.player for e in board.entries] == [A, B, C, H]
    assert [e.rank for e in board.entries] == [1, 2, 3, 4]
    assert board.page.total_size == 4 and board.page.next_page_token == ""
    assert board.as_of is not None
    for e in board.entries:
        sql = core.database.ratings.get(core.players.find(e.player) or "", "1v1")
        assert (e.rating, e.deviation, e.elo, e.games) == (sql.mu, sql.sigma, sql.elo, sql.games)
        assert (e.lower, e.upper) == (e.rating - Z95 * e.deviation, e.rating + Z95 * e.deviation)
    ratings = [e.rating for e in board.entries]
    assert ratings == sorted(ratings, reverse=True)
    by_elo = core.leaderboard("1v1", order="elo").entries
    assert [e.elo for e in by_elo] == sorted((e.elo for e in board.entries), reverse=True)
    by_lower = core.leaderboard("1v1", order="lower").entries
    assert [e.lower for e in by_lower] == sorted((e.lower for e in board.entries), reverse=True)
    humans = core.leaderboard("1v1", kind="human").entries
    assert [(e.player, e.rank) for e in humans] == [(H, 1)]
    assert [(e.player, e.rank) for e in core.leaderboard("1v1", min_games=5).entries] == [(B, 1)]
    first = core.leaderboard("1v1", page_size=3)
    rest = core.leaderboard("1v1", page_size=3, page_token=first.page.next_page_token)
    assert [e.rank for e in first.entries + rest.entries] == [1, 2, 3, 4] and rest.page.next_page_token == ""
    with pytest.raises(InvalidArgument, match="another query"):
        core.leaderboard("1v1", kind="bot", page_size=3, page_token=first.page.next_page_token)
    with pytest.raises(InvalidArgument, match="cannot be read"):
        core.leaderboard("1v1", page_token="garbage!")
    with pytest.raises(InvalidArgument, match="mode"):
        core.leaderboard("")
    assert core.leaderboard("ffa").entries == ()


def test_the_leaderboard_is_rebuilt_from_sql_after_a_flush_or_expiry(sql_uri: str, cache_uri: str) -> None:
    core = make_core(sql_uri, cache_uri, leaderboard_ttl_s=0.5)
    try:
        for i, (winner, loser) in enumerate([(A, B), (B, C), (A, C)]):
            core.report_result(duel(f"g{i}", winner, loser, minute=i))
        built = core.leaderboard("1v1")
        core.leaderboards.cache.delete(*core.leaderboards.keys("1v1"))  # flushed
        assert core.leaderboards.as_of("1v1") is None
        assert core.leaderboard("1v1").entries == built.entries
        core.report_result(duel("g3", C, A, minute=3))  # refreshes the rebuilt leaderboard
        fresh = core.leaderboard("1v1")
        assert fresh.as_of is not None and built.as_of is not None and fresh.as_of > built.as_of
        assert fresh.entries != built.entries and core.get_rating(C, "1v1").games == 3
        time.sleep(0.6)  # expired
        assert core.leaderboards.as_of("1v1") is None
        assert core.leaderboard("1v1").entries == fresh.entries
        core.leaderboards.cache.delete(core.leaderboards.key("1v1", "entries"))  # half gone
        assert core.leaderboard("1v1").entries == fresh.entries
    finally:
        core.database.close()
        core.leaderboards.cache.close()


def test_results_of_different_games_may_arrive_concurrently(core: EloCore) -> None:
    pairs = [(A, B), (B, C), (C, D), (D, A), (A, C), (B, D), (H, A), (H, B)] * 2
    reports = [duel(f"g{i}", w, lo, minute=i) for i, (w, lo) in enumerate(pairs)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(core.report_result, reports + reports[:4]))
    assert sum(not o.duplicate for o in outcomes) == len(reports)
    ratings = core.get_ratings([A, B, C, D, H], "1v1")
    assert sum(r.games for r in ratings) == 2 * len(reports)
    assert sum(r.wins for r in ratings) == len(reports)
    cached = core.leaderboard("1v1").entries
    core.rebuild("1v1")
    assert core.leaderboard("1v1").entries == cached  # the cache agrees with SQL


# pools, ratings, history, head to head


@one_backend
def test_1v1_and_ffa_are_separate_pools(core: EloCore) -> None:
    core.report_result(duel("d1", A, B))
    outcome = core.report_result(ffa("f1", C, B, A, D, minute=1))
    assert [c.elo_before for c in outcome.changes] == [1500.0] * 4  # B and A start over in FFA
    assert [c.rating_after for c in outcome.changes] == sorted(
        (c.rating_after for c in outcome.changes), reverse=True
    )
    assert core.get_rating(A, "1v1").games == 1 and core.get_rating(A, "ffa").games == 1
    assert [e.player for e in core.leaderboard("ffa").entries] == [C, B, A, D]
    assert [p.game_id for p in core.rating_history(B, "ffa").points] == ["f1"]
    assert core.head_to_head(C, B, "ffa").a_wins == 1 and core.head_to_head(A, B, "ffa").b_wins == 1


@one_backend
def test_get_ratings_answers_in_the_order_asked_with_starting_numbers_for_newcomers(core: EloCore) -> None:
    core.report_result(duel("g", A, B))
    newcomer = PlayerRef("human", "new")
    got = core.get_ratings([B, newcomer, A, B], "1v1")
    assert [(r.player, r.games, r.rank) for r in got] == [(B, 1, 2), (newcomer, 0, 0), (A, 1, 1), (B, 1, 2)]
    assert (got[1].elo, got[1].rating, got[1].deviation, got[1].updated_at) == (1500.0, 1500.0, 350.0, None)
    crowd = [PlayerRef("human", f"h{i}") for i in range(30)]
    assert core.get_ratings([*crowd, B, newcomer, A], "1v1")[30:] == got[:3]  # many: read the whole board
    with pytest.raises(InvalidArgument, match="1 to 1000 players"):
        core.get_ratings([], "1v1")
    with pytest.raises(InvalidArgument, match="1 to 1000 players"):
        core.get_ratings([A] * 1001, "1v1")
    with pytest.raises(InvalidArgument, match="player #2"):
        core.get_ratings([A, PlayerRef("robot", "x")], "1v1")


@one_backend
def test_history_and_head_to_head_add_up(core: EloCore) -> None:
    core.report_result(duel("g0", A, B, minute=0))
    core.report_result(duel("g1", B, A, minute=1))
    core.report_result(duel("g2", A, B, minute=2, draw=True))
    core.report_result(duel("g3", A, C, minute=3))
    core.report_result(duel("g4", A, B, minute=4))
    history = core.rating_history(A, "1v1")
    assert [(p.game_id, p.outcome, p.place, p.opponents) for p in history.points] == [
        ("g0", "win", 1, (B,)),
        ("g1", "loss", 2, (B,)),
        ("g2", "draw", 1, (B,)),
        ("g3", "win", 1, (C,)),
        ("g4", "win", 1, (B,)),
    ]
    last = core.get_rating(A, "1v1")
    assert (history.points[-1].elo, history.points[-1].rating) == (last.elo, last.rating)
    since = core.rating_history(A, "1v1", since=START + timedelta(minutes=3))
    assert [p.game_id for p in since.points] == ["g3", "g4"]
    first = core.rating_history(A, "1v1", page_size=2)
    second = core.rating_history(A, "1v1", page_size=2, page_token=first.page.next_page_token)
    assert [p.game_id for p in first.points + second.points] == ["g0", "g1", "g2", "g3"]
    assert core.rating_history(PlayerRef("human", "nobody"), "1v1").points == ()
    record = core.head_to_head(A, B, "1v1", recent=2)
    assert (record.games, record.a_wins, record.b_wins, record.draws) == (4, 2, 1, 1)
    assert record.a_score == pytest.approx(2.5 / 4) and record.recent_game_ids == ("g4", "g2")
    ra, rb = last.rating, core.get_rating(B, "1v1").rating
    assert record.a_expected == pytest.approx(1 / (1 + 10 ** ((rb - ra) / 400)))
    mirrored = core.head_to_head(B, A, "1v1")
    assert (mirrored.a_wins, mirrored.b_wins, mirrored.recent_game_ids[:2]) == (1, 2, ("g4", "g2"))
    nobody = core.head_to_head(A, PlayerRef("human", "nobody"), "1v1")
    assert (nobody.games, nobody.a_score, nobody.recent_game_ids) == (0, 0.5, ())
    with pytest.raises(InvalidArgument, match="two different players"):
        core.head_to_head(A, A, "1v1")
    assert core.head_to_head(A, B, "ffa").games == 0


def test_player_refs_read_their_canonical_form() -> None:
    assert PlayerRef.parse("model:17") == PlayerRef("model", "17") and str(H) == "human:hana"
    assert PlayerRef.parse("human:a:b").id == "a:b"
    with pytest.raises(InvalidArgument, match="<kind>:<id>"):
        PlayerRef.parse("expander")
    with pytest.raises(InvalidArgument, match="kind must be human, bot or model"):
        PlayerRef.parse("robot:x")


def test_the_config_reads_grl_elo_variables() -> None:
    config = EloServiceConfig.from_env(
        {"GRL_ELO_K": "16", "GRL_ELO_PROVISIONAL_GAMES": "0", "GRL_ELO_TAU": "0.3"}
    )
    assert (config.elo.k, config.elo.provisional_games, config.glicko.tau) == (16.0, 0, 0.3)
    assert EloServiceConfig.from_env({}) == EloServiceConfig()
    with pytest.raises(ValueError, match="GRL_ELO_K must be a number"):
        EloServiceConfig.from_env({"GRL_ELO_K": "lots"})
