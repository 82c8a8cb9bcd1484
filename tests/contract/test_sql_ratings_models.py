"""Universal SQL contract, ratings and the model registry: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from generals_rl.storage import NotFoundError, SqlDatabase
from generals_rl.storage.interfaces import RatingUpdate
from generals_rl.storage.records import NewGame, NewModelVersion, Player, Rating


def game_between(db: SqlDatabase, *players: Player, game_id: str = "") -> str:
    return db.games.create(NewGame("1v1", "..", 2, 1, tuple(p.id for p in players), id=game_id)).id


def elo_win(winner: str, k: float = 32) -> RatingUpdate:
    """A rating update: ``winner`` takes k/2 from the other player (1200 when unrated), counts updated."""

    def update(current: Mapping[str, Rating | None]) -> dict[str, Rating]:
        new = {}
        for player_id, rating in current.items():
            rating = rating or Rating(player_id, elo=1200.0)
            won = player_id == winner
            new[player_id] = dataclasses.replace(
                rating,
                elo=rating.elo + (k / 2 if won else -k / 2),
                games=rating.games + 1,
                wins=rating.wins + won,
                losses=rating.losses + (not won),
            )
        return new

    return update


@pytest.fixture
def pair(database: SqlDatabase) -> tuple[Player, Player]:
    return database.players.ensure("bot", "a"), database.players.ensure("bot", "b")


def test_a_game_updates_ratings_once_with_history(database: SqlDatabase, pair: tuple[Player, Player]) -> None:
    a, b = pair
    game = game_between(database, a, b)
    first = database.ratings.apply_game(game, [a.id, b.id], elo_win(a.id))
    assert first.applied
    assert {(c.player_id, c.elo_before, c.elo_after) for c in first.changes} == {
        (a.id, None, 1216.0),
        (b.id, None, 1184.0),
    }
    called = []
    again = database.ratings.apply_game(game, [a.id, b.id], lambda current: called.append(1) or {})  # type: ignore[arg-type,func-returns-value]
    assert not again.applied and again.changes == first.changes and called == []
    rating = database.ratings.get(a.id)
    assert (rating.elo, rating.games, rating.wins, rating.losses) == (1216.0, 1, 1, 0)
    second = game_between(database, a, b)
    database.ratings.apply_game(second, [b.id, a.id], elo_win(b.id))
    history = database.ratings.history(a.id)
    assert [(h.game_id, h.elo_before, h.elo_after) for h in history] == [
        (second, 1216.0, 1200.0),
        (game, None, 1216.0),
    ]
    assert database.ratings.game_changes(game) == list(first.changes)


def test_a_failed_update_stores_nothing(database: SqlDatabase, pair: tuple[Player, Player]) -> None:
    a, b = pair
    game = game_between(database, a, b)

    def broken(current: Mapping[str, Rating | None]) -> dict[str, Rating]:
        raise RuntimeError("the rating model failed")

    with pytest.raises(RuntimeError):
        database.ratings.apply_game(game, [a.id, b.id], broken)
    with pytest.raises(ValueError, match="exactly"):
        database.ratings.apply_game(game, [a.id, b.id], lambda current: {a.id: Rating(a.id, 1.0)})
    with pytest.raises(ValueError, match="finite"):
        database.ratings.apply_game(
            game, [a.id, b.id], lambda current: {p: Rating(p, elo=math.nan) for p in current}
        )
    with pytest.raises(ValueError, match="distinct"):
        database.ratings.apply_game(game, [a.id, a.id], elo_win(a.id))
    with pytest.raises(NotFoundError, match="no game"):
        database.ratings.apply_game("nope", [a.id, b.id], elo_win(a.id))
    assert database.ratings.get_many([a.id, b.id]) == {}
    assert database.ratings.history(a.id) == [] and database.ratings.game_changes(game) == []
    with pytest.raises(NotFoundError, match="no rating"):
        database.ratings.get(a.id)


def test_concurrent_games_lose_no_update(
    database: SqlDatabase, pair: tuple[Player, Player], concurrently: Callable[..., list[Any]]
) -> None:
    a, b = pair
    games = [game_between(database, a, b) for _ in range(6)]
    again = games[:2]  # reported twice, concurrently: applied once
    done = concurrently(
        *(
            functools.partial(database.ratings.apply_game, g, [a.id, b.id], elo_win(a.id))
            for g in games + again
        )
    )
    assert sum(result.applied for result in done) == 6
    rating = database.ratings.get(a.id)
    assert (rating.games, rating.wins, rating.elo) == (6, 6, 1200.0 + 6 * 16)
    assert len(database.ratings.history(a.id)) == 6


def test_put_and_leaderboard(database: SqlDatabase) -> None:
    players = [database.players.ensure("bot", f"p{i}") for i in range(4)]
    database.ratings.put(
        [
            Rating(players[0].id, elo=1300.0, mu=20.0, sigma=2.0),
            Rating(players[1].id, elo=1400.0, mu=None),
            Rating(players[2].id, elo=1300.0, mu=30.0, sigma=1.0, volatility=0.06),
            Rating(players[3].id, elo=1000.0, mu=10.0),
        ]
    )
    tied = sorted([players[0].id, players[2].id])
    assert [r.player_id for r in database.ratings.leaderboard()] == [players[1].id, *tied, players[3].id]
    assert [r.player_id for r in database.ratings.leaderboard(limit=2, offset=1)] == tied
    by_mu = [r.player_id for r in database.ratings.leaderboard(by="mu")]
    assert by_mu == [players[2].id, players[0].id, players[3].id, players[1].id]
    assert database.ratings.get(players[2].id).volatility == 0.06
    database.ratings.put([Rating(players[3].id, elo=1500.0)])
    assert database.ratings.leaderboard(limit=1)[0].player_id == players[3].id
    with pytest.raises(ValueError, match="ordered by"):
        database.ratings.leaderboard(by="name")
    with pytest.raises(NotFoundError, match="ghost"):
        database.ratings.put([Rating("ghost", elo=1.0)])
    with pytest.raises(ValueError, match="count"):
        database.ratings.put([Rating(players[0].id, elo=1.0, games=-1)])
    assert database.ratings.get(players[0].id).elo == 1300.0


def test_1v1_and_ffa_are_separate_pools(database: SqlDatabase, pair: tuple[Player, Player]) -> None:
    a, b = pair
    duel = game_between(database, a, b)
    ffa = database.games.create(NewGame("ffa", "..", 2, 1, (a.id, b.id))).id
    database.ratings.apply_game(duel, [a.id, b.id], elo_win(a.id))

    def ffa_win(current: Mapping[str, Rating | None]) -> dict[str, Rating]:
        return {p: Rating(p, elo=1300.0 if p == b.id else 1100.0, games=1, mode="ffa") for p in current}

    with pytest.raises(ValueError, match="ffa pool"):
        database.ratings.apply_game(ffa, [a.id, b.id], elo_win(b.id))  # returns 1v1 ratings
    database.ratings.apply_game(ffa, [a.id, b.id], ffa_win)
    assert (database.ratings.get(a.id).elo, database.ratings.get(a.id, "ffa").elo) == (1216.0, 1100.0)
    assert database.ratings.get_many([a.id, b.id], "ffa")[b.id].mode == "ffa"
    assert [r.player_id for r in database.ratings.leaderboard(mode="ffa")] == [b.id, a.id]
    assert [r.player_id for r in database.ratings.leaderboard()] == [a.id, b.id]
    assert [h.game_id for h in database.ratings.history(a.id)] == [ffa, duel]
    assert [h.game_id for h in database.ratings.history(a.id, mode="ffa")] == [ffa]
    with pytest.raises(ValueError, match="mode"):
        database.ratings.get(a.id, "2v2")  # type: ignore[arg-type]


# model registry


def test_versions_are_numbered_and_round_trip(database: SqlDatabase) -> None:
    first = database.models.create_version(
        NewModelVersion(
            architecture="resnet-8", config={"channels": 64, "nested": {"x": [1, 2]}}, training_step=10
        )
    )
    second = database.models.create_version(
        NewModelVersion(
            architecture="resnet-8", parent=first.version, metrics={"loss": 0.5}, status="accepted"
        )
    )
    assert second.version > first.version
    assert database.models.get_version(first.version) == first
    assert first.config == {"channels": 64, "nested": {"x": [1, 2]}}
    assert [v.version for v in database.models.list_versions()] == [second.version, first.version]
    assert database.models.list_versions(status="accepted") == [second]
    assert database.models.latest_version() == second
    assert database.models.latest_version(status="retired") is None
    with pytest.raises(NotFoundError, match="no model version 999"):
        database.models.create_version(NewModelVersion(architecture="x", parent=999))
    with pytest.raises(ValueError, match="JSON"):
        database.models.create_version(NewModelVersion(architecture="x", metrics={"loss": math.inf}))
    with pytest.raises(ValueError, match="JSON"):
        database.models.create_version(NewModelVersion(architecture="x", config={"f": object()}))
    assert len(database.models.list_versions()) == 2


def test_weights_are_filled_in_after_creation(database: SqlDatabase) -> None:
    version = database.models.create_version(NewModelVersion(architecture="net"))
    updated = database.models.update_version(
        version.version, weights_location="models/v1.safetensors", checksum="sha256:ab", metrics={"elo": 1234}
    )
    assert (updated.weights_location, updated.checksum, updated.metrics) == (
        "models/v1.safetensors",
        "sha256:ab",
        {"elo": 1234},
    )
    assert updated.architecture == "net" and database.models.get_version(version.version) == updated
    with pytest.raises(NotFoundError):
        database.models.update_version(999, checksum="x")


def test_status_and_alias_changes_are_logged_with_who_and_why(database: SqlDatabase) -> None:
    v1 = database.models.create_version(NewModelVersion(architecture="net"), actor="learner-0")
    v2 = database.models.create_version(NewModelVersion(architecture="net", parent=v1.version))
    database.models.set_alias("champion", v1.version, actor="evaluator", reason="first")
    database.models.set_status(v2.version, "accepted", actor="evaluator", reason="SPRT passed")
    moved = database.models.set_alias("champion", v2.version, actor="evaluator", reason="stronger")
    assert (moved.version, moved.updated_by, moved.reason) == (v2.version, "evaluator", "stronger")
    database.models.set_alias("champion", v1.version, actor="alice", reason="rollback")
    assert database.models.get_alias("champion").version == v1.version
    assert database.models.get_version(v2.version).status == "accepted"

    log = database.models.events(alias="champion")
    assert [(e.version, e.previous_version, e.actor, e.reason) for e in log] == [
        (v1.version, v2.version, "alice", "rollback"),
        (v2.version, v1.version, "evaluator", "stronger"),
        (v1.version, None, "evaluator", "first"),
    ]
    about_v2 = database.models.events(version=v2.version)
    assert [e.kind for e in about_v2] == ["alias_set", "status", "created"]
    assert about_v2[1].status == "accepted" and about_v2[1].reason == "SPRT passed"
    assert database.models.events(limit=1)[0].reason == "rollback"
    assert database.models.events(version=v1.version)[-1].actor == "learner-0"


def test_aliases_are_listed_and_deleted_and_bad_ones_refused(database: SqlDatabase) -> None:
    v1 = database.models.create_version(NewModelVersion(architecture="net"))
    database.models.set_alias("latest", v1.version, actor="learner")
    database.models.set_alias("champion", v1.version, actor="learner")
    assert [a.alias for a in database.models.list_aliases()] == ["champion", "latest"]
    database.models.delete_alias("latest", actor="alice", reason="unused")
    assert [a.alias for a in database.models.list_aliases()] == ["champion"]
    assert database.models.events(alias="latest")[0].kind == "alias_deleted"
    with pytest.raises(NotFoundError, match="latest"):
        database.models.get_alias("latest")
    with pytest.raises(NotFoundError, match="latest"):
        database.models.delete_alias("latest", actor="alice")
    with pytest.raises(NotFoundError, match="no model version 42"):
        database.models.set_alias("champion", 42, actor="alice")
    for bad in ("", "has space", "x" * 65, "../up"):
        with pytest.raises(ValueError, match="alias"):
            database.models.set_alias(bad, v1.version, actor="alice")
    with pytest.raises(ValueError, match="model status"):
        database.models.set_status(v1.version, "great", actor="alice")  # type: ignore[arg-type]
    assert database.models.get_alias("champion").version == v1.version
    assert database.models.get_version(v1.version).status == "pending"


def test_foreign_keys_hold_on_every_backend(database: SqlDatabase) -> None:
    """SQLite checks foreign keys only when switched on per connection: a row naming nobody fails."""
    from datetime import UTC, datetime

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from generals_rl.storage.sql.schema import RatingRow

    row = {"player_id": "ghost", "elo": 1.0, "games": 0, "wins": 0, "losses": 0, "draws": 0}
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(insert(RatingRow).values(**row, updated_at=datetime.now(UTC)))
    assert database.ratings.leaderboard() == []
