"""``SqlRatingStore``: current ratings per mode, applied per game atomically and idempotently, with history.

A game is rated in its own mode's pool (``games.mode``): 1v1 and FFA ratings of one player are separate rows.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from generals_rl.storage.errors import NotFoundError
from generals_rl.storage.interfaces import RatingUpdate
from generals_rl.storage.records import GAME_MODES, AppliedRatings, GameMode, Rating, RatingChange
from generals_rl.storage.sql.base import SqlStoreBase, check_choice, check_limit, check_time
from generals_rl.storage.sql.schema import GameRow, PlayerRow, RatingHistoryRow, RatingRow, utcnow

_ADVISORY_SPACE = 0x67726C  # "grl": the advisory-lock key space of rating writers
_ORDER = {"elo": RatingRow.elo, "mu": RatingRow.mu}


def _rating(row: RatingRow) -> Rating:
    return Rating(
        player_id=row.player_id,
        elo=row.elo,
        mu=row.mu,
        sigma=row.sigma,
        volatility=row.volatility,
        games=row.games,
        wins=row.wins,
        losses=row.losses,
        draws=row.draws,
        updated_at=row.updated_at,
        mode=cast(GameMode, row.mode),
    )


def _change(row: RatingHistoryRow) -> RatingChange:
    return RatingChange(
        player_id=row.player_id,
        game_id=row.game_id,
        elo_before=row.elo_before,
        elo_after=row.elo_after,
        mu_before=row.mu_before,
        mu_after=row.mu_after,
        sigma_before=row.sigma_before,
        sigma_after=row.sigma_after,
        at=row.at,
    )


def _check(rating: Rating) -> None:
    check_choice(f"the mode of {rating.player_id!r}'s rating", rating.mode, GAME_MODES)
    for name in ("elo", "mu", "sigma", "volatility"):
        value = getattr(rating, name)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
            raise ValueError(f"rating of {rating.player_id!r}: {name} must be a finite number, got {value!r}")
    if rating.elo is None:
        raise ValueError(f"rating of {rating.player_id!r}: elo is required")
    for name in ("games", "wins", "losses", "draws"):
        value = getattr(rating, name)
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"rating of {rating.player_id!r}: {name} must be a count >= 0, got {value!r}")


def _store(session: Session, rating: Rating, now: datetime) -> None:
    row = session.get(RatingRow, (rating.player_id, rating.mode))
    if row is None:
        row = RatingRow(player_id=rating.player_id, mode=rating.mode)
        session.add(row)
    row.elo = float(rating.elo)
    row.mu, row.sigma, row.volatility = rating.mu, rating.sigma, rating.volatility
    row.games, row.wins, row.losses, row.draws = rating.games, rating.wins, rating.losses, rating.draws
    row.updated_at = now


def _check_players(session: Session, player_ids: Iterable[str]) -> None:
    wanted = set(player_ids)
    known = set(session.scalars(select(PlayerRow.id).where(PlayerRow.id.in_(wanted))))
    if wanted - known:
        raise NotFoundError(f"no player with id {', '.join(map(repr, sorted(wanted - known)))}")


def _lock_players(session: Session, players: Sequence[str]) -> None:
    """Serialize rating writers per player, rated or not yet (a row lock cannot lock a row not inserted).
    PostgreSQL: transaction-scoped advisory locks, in sorted order. SQLite: BEGIN IMMEDIATE already did."""
    if session.get_bind().dialect.name == "postgresql":
        for player_id in players:
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:player))"), _lock_key(player_id)
            )


def _lock_key(player_id: str) -> dict[str, object]:
    return {"space": _ADVISORY_SPACE, "player": player_id}


class SqlRatingStore(SqlStoreBase):
    """The ``RatingStore`` seam on SQL."""

    def get(self, player_id: str, mode: GameMode = "1v1") -> Rating:
        check_choice("game mode", mode, GAME_MODES)
        row = self._read(lambda s: s.get(RatingRow, (player_id, mode)))
        if row is None:
            raise NotFoundError(f"player {player_id!r} has no rating in the {mode} pool")
        return _rating(row)

    def get_many(self, player_ids: Iterable[str], mode: GameMode = "1v1") -> dict[str, Rating]:
        check_choice("game mode", mode, GAME_MODES)
        query = select(RatingRow).where(RatingRow.player_id.in_(set(player_ids)), RatingRow.mode == mode)
        return {row.player_id: _rating(row) for row in self._read(lambda s: s.scalars(query).all())}

    def put(self, ratings: Iterable[Rating]) -> None:
        ratings = builtins.list(ratings)
        for rating in ratings:
            _check(rating)

        def write(session: Session) -> None:
            _check_players(session, (r.player_id for r in ratings))
            now = utcnow()
            for rating in ratings:
                _store(session, rating, now)

        self._write(write)

    def apply_game(
        self, game_id: str, player_ids: Sequence[str], update: RatingUpdate, *, at: datetime | None = None
    ) -> AppliedRatings:
        check_time("at", at)
        players = sorted(set(player_ids))  # one lock order for every writer: no deadlocks
        if len(players) != len(player_ids) or not players:
            raise ValueError(f"apply_game needs distinct player ids, got {builtins.list(player_ids)!r}")

        def apply(session: Session) -> AppliedRatings:
            _lock_players(session, players)
            done = session.scalars(_game_query(game_id)).all()
            if done:
                return AppliedRatings(False, tuple(_change(row) for row in done))
            game = session.get(GameRow, game_id)
            if game is None:
                raise NotFoundError(f"no game with id {game_id!r}")
            mode = game.mode
            _check_players(session, players)
            query = (
                select(RatingRow)
                .where(RatingRow.player_id.in_(players), RatingRow.mode == mode)
                .order_by(RatingRow.player_id)
            )
            rows = {row.player_id: row for row in session.scalars(query.with_for_update())}
            current = {p: (_rating(rows[p]) if p in rows else None) for p in players}
            new = dict(update(current))
            if set(new) != set(players):
                raise ValueError(f"the rating update must return exactly {players}, got {sorted(new)}")
            when = at or utcnow()
            changes = []
            for player_id in players:
                after = new[player_id]
                if after.player_id != player_id:
                    raise ValueError(
                        f"the rating update returned {after.player_id!r}'s rating for {player_id!r}"
                    )
                if after.mode != mode:
                    raise ValueError(
                        f"game {game_id!r} is rated in the {mode} pool; the update returned a {after.mode} "
                        f"rating for {player_id!r}"
                    )
                _check(after)
                before = current[player_id]
                _store(session, after, when)
                row = RatingHistoryRow(
                    player_id=player_id,
                    game_id=game_id,
                    elo_before=None if before is None else before.elo,
                    elo_after=float(after.elo),
                    mu_before=None if before is None else before.mu,
                    mu_after=after.mu,
                    sigma_before=None if before is None else before.sigma,
                    sigma_after=after.sigma,
                    at=when,
                )
                session.add(row)
                changes.append(row)
            session.flush()
            return AppliedRatings(True, tuple(_change(row) for row in changes))

        return self._write(apply)

    def leaderboard(
        self, *, limit: int = 100, offset: int = 0, by: str = "elo", mode: GameMode = "1v1"
    ) -> builtins.list[Rating]:
        check_limit(limit, offset)
        check_choice("game mode", mode, GAME_MODES)
        if by not in _ORDER:
            raise ValueError(f"a leaderboard is ordered by one of {', '.join(_ORDER)}, got {by!r}")
        column = _ORDER[by]
        query = (
            select(RatingRow)
            .where(RatingRow.mode == mode)
            .order_by(column.desc().nulls_last(), RatingRow.player_id)
        )
        query = query.limit(limit).offset(offset)
        return [_rating(row) for row in self._read(lambda s: s.scalars(query).all())]

    def history(
        self, player_id: str, *, limit: int = 100, mode: GameMode | None = None
    ) -> builtins.list[RatingChange]:
        check_limit(limit)
        query = (
            select(RatingHistoryRow)
            .where(RatingHistoryRow.player_id == player_id)
            .order_by(RatingHistoryRow.at.desc(), RatingHistoryRow.id.desc())
            .limit(limit)
        )
        if mode is not None:
            check_choice("game mode", mode, GAME_MODES)
            query = query.join(GameRow, GameRow.id == RatingHistoryRow.game_id).where(GameRow.mode == mode)
        return [_change(row) for row in self._read(lambda s: s.scalars(query).all())]

    def game_changes(self, game_id: str) -> builtins.list[RatingChange]:
        return [_change(row) for row in self._read(lambda s: s.scalars(_game_query(game_id)).all())]


def _game_query(game_id: str) -> Select[RatingHistoryRow]:
    return (
        select(RatingHistoryRow)
        .where(RatingHistoryRow.game_id == game_id)
        .order_by(RatingHistoryRow.player_id)
    )
