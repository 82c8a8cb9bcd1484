"""Universal SQL contract, players and games: every test runs on SQLite and on PostgreSQL (``database``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.storage import AlreadyExistsError, ConflictError, NotFoundError, SqlDatabase
from generals_rl.storage.records import MatchResult, NewGame, NewModelVersion, Player

FIXTURE_REUSE = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=300)


def two_players(db: SqlDatabase) -> tuple[Player, Player]:
    return db.players.ensure("bot", "expander"), db.players.ensure("bot", "random")


def new_game(*players: Player, **fields: object) -> NewGame:
    return NewGame(
        mode="1v1", map="A..\n..B", width=3, height=2, player_ids=tuple(p.id for p in players), **fields
    )  # type: ignore[arg-type]


def results(game_id: str, a: Player, b: Player, winner: int = 0) -> list[MatchResult]:
    outcome = ("win", "loss") if winner == 0 else ("loss", "win")
    return [
        MatchResult(game_id, a.id, 0, outcome[0], 1 if winner == 0 else 2),
        MatchResult(game_id, b.id, 1, outcome[1], 2 if winner == 0 else 1),
    ]


# players


def test_players_are_created_found_and_listed(database: SqlDatabase) -> None:
    human = database.players.create("human", "alice")
    bot = database.players.create("bot", "gatherer", id="bot:gatherer")
    assert database.players.get(human.id) == human
    assert database.players.get("bot:gatherer") == bot
    assert database.players.find("human", "alice") == human
    assert database.players.find("bot", "alice") is None
    assert [p.id for p in database.players.list()] == [human.id, bot.id]
    assert database.players.list(kind="bot") == [bot]
    assert human.created_at.tzinfo is not None


def test_a_taken_name_or_id_is_refused_and_ensure_returns_the_existing_player(database: SqlDatabase) -> None:
    alice = database.players.create("human", "alice", id="p1")
    with pytest.raises(AlreadyExistsError, match="alice"):
        database.players.create("human", "alice")
    with pytest.raises(AlreadyExistsError, match="p1"):
        database.players.create("human", "bob", id="p1")
    assert database.players.ensure("human", "alice") == alice
    assert len(database.players.list()) == 1


def test_ensure_from_many_threads_creates_one_player(
    database: SqlDatabase, concurrently: Callable[..., list[Any]]
) -> None:
    found = concurrently(*[lambda: database.players.ensure("bot", "x")] * 6)
    assert len({p.id for p in found}) == 1 and len(found) == 6
    assert len(database.players.list()) == 1


def test_model_players_point_at_an_existing_version(database: SqlDatabase) -> None:
    version = database.models.create_version(NewModelVersion(architecture="net"))
    player = database.players.ensure("model", f"v{version.version}", model_version=version.version)
    assert player.model_version == version.version
    with pytest.raises(NotFoundError, match="model version 999"):
        database.players.create("model", "v999", model_version=999)
    with pytest.raises(ValueError, match="kind 'model'"):
        database.players.create("bot", "b", model_version=version.version)
    with pytest.raises(ConflictError):
        database.players.ensure("model", f"v{version.version}", model_version=version.version + 1)


@pytest.mark.parametrize(
    ("kind", "name"), [("alien", "x"), ("bot", ""), ("bot", "x" * 129), ("bot", "nul\x00"), ("bot", 7)]
)
def test_bad_players_are_refused_clearly(database: SqlDatabase, kind: str, name: str) -> None:
    with pytest.raises(ValueError, match="player"):
        database.players.create(kind, name)  # type: ignore[arg-type]
    assert database.players.list() == []
    with pytest.raises(NotFoundError, match="nobody"):
        database.players.get("nobody")


# games


def test_a_game_round_trips_with_its_seats_in_order(database: SqlDatabase) -> None:
    a, b = two_players(database)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    game = database.games.create(new_game(b, a, id="g1", speed=2.0, status="running", started_at=start))
    assert game == database.games.get("g1")
    assert game.player_ids == (b.id, a.id)
    assert (game.status, game.speed, game.started_at, game.ticks, game.winner_id) == (
        "running",
        2.0,
        start,
        0,
        None,
    )
    assert game.created_at.tzinfo is not None


def test_game_timestamps_keep_the_instant_whatever_the_zone(database: SqlDatabase) -> None:
    a, b = two_players(database)
    plus_two = datetime(2026, 5, 1, 12, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    game = database.games.create(new_game(a, b, started_at=plus_two))
    assert database.games.get(game.id).started_at == plus_two
    with pytest.raises(ValueError, match="ended_at must be a timezone-aware"):
        database.games.update(game.id, ended_at=datetime(2026, 5, 1, 13, 0))


def test_bad_games_are_refused_and_nothing_is_stored(database: SqlDatabase) -> None:
    a, b = two_players(database)
    c = database.players.ensure("bot", "gatherer")
    with pytest.raises(NotFoundError, match="ghost"):
        database.games.create(NewGame("1v1", "..", 2, 1, (a.id, "ghost")))
    for bad in (
        NewGame("1v1", "..", 2, 1, (a.id, b.id, c.id)),
        NewGame("ffa", "..", 2, 1, (a.id, a.id)),
        NewGame("1v1", "..", 0, 1, (a.id, b.id)),
        NewGame("1v1", "\x00", 2, 1, (a.id, b.id)),
        NewGame("2v2", "..", 2, 1, (a.id, b.id)),  # type: ignore[arg-type]
        NewGame("1v1", "..", 2, 1, (a.id, b.id), speed=0),
    ):
        with pytest.raises(ValueError):
            database.games.create(bad)
    assert database.games.list() == []
    database.games.create(new_game(a, b, id="g"))
    with pytest.raises(AlreadyExistsError, match="'g'"):
        database.games.create(new_game(a, b, id="g"))
    with pytest.raises(NotFoundError, match="nope"):
        database.games.get("nope")


@FIXTURE_REUSE
@given(map_text=TEXT)
def test_any_map_text_round_trips(database: SqlDatabase, map_text: str) -> None:
    a, b = two_players(database)
    game = database.games.create(NewGame("1v1", map_text, 1, 1, (a.id, b.id)))
    assert database.games.get(game.id).map == map_text


def test_games_are_listed_newest_first_by_status_and_player(database: SqlDatabase) -> None:
    a, b = two_players(database)
    c = database.players.ensure("bot", "gatherer")
    ids = [database.games.create(new_game(a, b if i % 2 else c, id=f"g{i}")).id for i in range(5)]
    database.games.update("g1", status="running")
    assert [g.id for g in database.games.list()] == ids[::-1]
    assert [g.id for g in database.games.list(limit=2, offset=1)] == ["g3", "g2"]
    assert [g.id for g in database.games.list(status="running")] == ["g1"]
    assert [g.id for g in database.games.list(player_id=b.id)] == ["g3", "g1"]
    assert database.games.list(player_id="nobody") == []
    with pytest.raises(ValueError, match="limit"):
        database.games.list(limit=-1)


def test_a_game_moves_forward_only_and_a_finished_game_is_frozen(database: SqlDatabase) -> None:
    a, b = two_players(database)
    game = database.games.create(new_game(a, b))
    running = database.games.update(game.id, status="running", started_at=datetime.now(UTC))
    assert running.status == "running" and running.started_at is not None
    with pytest.raises(ConflictError, match="back to pending"):
        database.games.update(game.id, status="pending")
    with pytest.raises(ValueError, match="winner"):
        database.games.update(game.id, winner_id="someone-else")
    end = datetime.now(UTC)
    finished = database.games.update(
        game.id,
        status="finished",
        ended_at=end,
        ticks=321,
        winner_id=a.id,
        replay_location="replays/g.gioreplay",
    )
    assert (finished.ticks, finished.winner_id, finished.ended_at) == (321, a.id, end)
    assert database.games.get(game.id) == finished
    with pytest.raises(ConflictError, match="finished"):
        database.games.update(game.id, ticks=1)
    assert database.games.get(game.id) == finished
    with pytest.raises(NotFoundError):
        database.games.update("nope", ticks=1)


# results


def test_recording_the_same_results_twice_stores_them_once(database: SqlDatabase) -> None:
    a, b = two_players(database)
    game = database.games.create(new_game(a, b))
    assert database.games.record_results(game.id, results(game.id, a, b)) is True
    assert database.games.record_results(game.id, results(game.id, a, b)[::-1]) is False
    assert database.games.results(game.id) == results(game.id, a, b)
    assert database.games.player_results(a.id) == results(game.id, a, b)[:1]


def test_a_conflicting_second_result_is_refused_and_the_first_kept(database: SqlDatabase) -> None:
    a, b = two_players(database)
    game = database.games.create(new_game(a, b))
    database.games.record_results(game.id, results(game.id, a, b, winner=0))
    with pytest.raises(ConflictError, match="different results"):
        database.games.record_results(game.id, results(game.id, a, b, winner=1))
    assert database.games.results(game.id) == results(game.id, a, b, winner=0)


def test_results_must_match_the_seats(database: SqlDatabase) -> None:
    a, b = two_players(database)
    game = database.games.create(new_game(a, b))
    good = results(game.id, a, b)
    for bad in (
        good[:1],
        [good[0], MatchResult(game.id, b.id, 0, "loss", 2)],
        [good[0], MatchResult(game.id, b.id, 1, "lost", 2)],  # type: ignore[arg-type]
        [good[0], MatchResult(game.id, b.id, 1, "loss", 0)],
        [good[0], MatchResult("other", b.id, 1, "loss", 2)],
    ):
        with pytest.raises(ValueError):
            database.games.record_results(game.id, bad)
    assert database.games.results(game.id) == []
    with pytest.raises(NotFoundError, match="nope"):
        database.games.record_results("nope", [MatchResult("nope", a.id, 0, "win", 1)])


def test_concurrent_reports_of_one_game_record_it_once(
    database: SqlDatabase, concurrently: Callable[..., list[Any]]
) -> None:
    a, b = two_players(database)
    game = database.games.create(new_game(a, b))
    outcomes = concurrently(*[lambda: database.games.record_results(game.id, results(game.id, a, b))] * 5)
    assert sorted(outcomes) == [False] * 4 + [True]
    assert len(database.games.results(game.id)) == 2


def test_head_to_head_counts_who_placed_ahead(database: SqlDatabase) -> None:
    a, b = two_players(database)
    c = database.players.ensure("bot", "gatherer")
    for i, winner in enumerate([0, 0, 1]):
        game = database.games.create(new_game(a, b, id=f"g{i}"))
        database.games.record_results(game.id, results(game.id, a, b, winner))
    ffa = database.games.create(NewGame("ffa", "...", 3, 1, (a.id, b.id, c.id), id="ffa"))
    database.games.record_results(
        "ffa",
        [
            MatchResult("ffa", a.id, 0, "loss", 2),
            MatchResult("ffa", b.id, 1, "loss", 2),
            MatchResult("ffa", c.id, 2, "win", 1),
        ],
    )
    assert ffa.mode == "ffa"
    record = database.games.head_to_head(a.id, b.id)
    assert (record.games, record.a_ahead, record.b_ahead, record.even) == (4, 2, 1, 1)
    assert database.games.head_to_head(b.id, a.id).a_ahead == 1
    assert database.games.head_to_head(a.id, "nobody").games == 0
