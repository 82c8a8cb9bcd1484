"""``SqlGameStore``: games with their seats, and match results recorded idempotently by game."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from generals_rl.storage.errors import AlreadyExistsError, ConflictError, NotFoundError
from generals_rl.storage.records import (
    GAME_MODES,
    GAME_STATUSES,
    GAME_TRANSITIONS,
    OUTCOMES,
    Game,
    GameMode,
    GameStatus,
    HeadToHead,
    MatchResult,
    NewGame,
    Outcome,
)
from generals_rl.storage.sql.base import SqlStoreBase, check_choice, check_limit, check_text, check_time
from generals_rl.storage.sql.schema import GameRow, GameSeatRow, MatchResultRow, PlayerRow, utcnow

MAX_PLAYERS = 64


def _game(row: GameRow, player_ids: Sequence[str]) -> Game:
    return Game(
        id=row.id,
        mode=cast(GameMode, row.mode),
        map=row.map,
        width=row.width,
        height=row.height,
        player_ids=tuple(player_ids),
        speed=row.speed,
        status=cast(GameStatus, row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        ticks=row.ticks,
        winner_id=row.winner_id,
        replay_location=row.replay_location,
    )


def _result(row: MatchResultRow) -> MatchResult:
    return MatchResult(row.game_id, row.player_id, row.seat, cast(Outcome, row.outcome), row.placement)


def _load(session: Session, rows: Sequence[GameRow]) -> list[Game]:
    """Games with their seats, in the order given, in one query for the seats."""
    seats: dict[str, list[str]] = {row.id: [] for row in rows}
    if rows:
        query = select(GameSeatRow).where(GameSeatRow.game_id.in_(seats)).order_by(GameSeatRow.seat)
        for seat in session.scalars(query):
            seats[seat.game_id].append(seat.player_id)
    return [_game(row, seats[row.id]) for row in rows]


def _check_new(game: NewGame) -> None:
    check_choice("game mode", game.mode, GAME_MODES)
    check_choice("game status", game.status, GAME_STATUSES)
    if game.id:
        check_text("game id", game.id, 64)
    if not isinstance(game.map, str) or "\x00" in game.map:
        raise ValueError("the map must be text without NUL characters")
    for name, side in (("width", game.width), ("height", game.height)):
        if not isinstance(side, int) or side < 1:
            raise ValueError(f"the map {name} must be a positive integer, got {side!r}")
    players = tuple(game.player_ids)
    if not 1 <= len(players) <= MAX_PLAYERS or len(set(players)) != len(players):
        raise ValueError(f"a game needs 1 to {MAX_PLAYERS} distinct players in seat order, got {players!r}")
    if game.mode == "1v1" and len(players) != 2:
        raise ValueError(f"a 1v1 game has exactly 2 players, got {len(players)}")
    check_time("started_at", game.started_at)
    if not game.speed > 0:
        raise ValueError(f"the speed must be positive, got {game.speed!r}")


class SqlGameStore(SqlStoreBase):
    """The ``GameStore`` seam on SQL."""

    def create(self, game: NewGame) -> Game:
        _check_new(game)
        game_id = game.id or uuid.uuid4().hex

        def insert(session: Session) -> Game:
            if session.get(GameRow, game_id) is not None:
                raise AlreadyExistsError(f"a game with id {game_id!r} exists already")
            known = set(session.scalars(select(PlayerRow.id).where(PlayerRow.id.in_(game.player_ids))))
            missing = [p for p in game.player_ids if p not in known]
            if missing:
                raise NotFoundError(f"game {game_id!r}: no player with id {', '.join(map(repr, missing))}")
            row = GameRow(
                id=game_id,
                mode=game.mode,
                map=game.map,
                width=game.width,
                height=game.height,
                speed=float(game.speed),
                status=game.status,
                created_at=utcnow(),
                started_at=game.started_at,
                ended_at=None,
                ticks=0,
                winner_id=None,
                replay_location=None,
            )
            session.add(row)
            session.flush()
            session.add_all(
                GameSeatRow(game_id=game_id, seat=i, player_id=p) for i, p in enumerate(game.player_ids)
            )
            session.flush()
            return _game(row, game.player_ids)

        return self._write(insert)

    def get(self, game_id: str) -> Game:
        def load(session: Session) -> Game:
            row = session.get(GameRow, game_id)
            if row is None:
                raise NotFoundError(f"no game with id {game_id!r}")
            return _load(session, [row])[0]

        return self._read(load)

    def list(
        self,
        *,
        status: GameStatus | None = None,
        player_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Game]:
        check_limit(limit, offset)
        query = (
            select(GameRow).order_by(GameRow.created_at.desc(), GameRow.id.desc()).limit(limit).offset(offset)
        )
        if status is not None:
            check_choice("game status", status, GAME_STATUSES)
            query = query.where(GameRow.status == status)
        if player_id is not None:
            seated = select(GameSeatRow.game_id).where(GameSeatRow.player_id == player_id)
            query = query.where(GameRow.id.in_(seated))
        return self._read(lambda s: _load(s, s.scalars(query).all()))

    def update(
        self,
        game_id: str,
        *,
        status: GameStatus | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        ticks: int | None = None,
        winner_id: str | None = None,
        replay_location: str | None = None,
    ) -> Game:
        if status is not None:
            check_choice("game status", status, GAME_STATUSES)
        if ticks is not None and (not isinstance(ticks, int) or ticks < 0):
            raise ValueError(f"ticks must be a non-negative integer, got {ticks!r}")
        if replay_location is not None:
            check_text("replay location", replay_location, 1024)
        check_time("started_at", started_at)
        check_time("ended_at", ended_at)

        def change(session: Session) -> Game:
            row = session.get(GameRow, game_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no game with id {game_id!r}")
            game = _load(session, [row])[0]
            if row.status in ("finished", "aborted"):
                raise ConflictError(f"game {game_id!r} is {row.status}; it cannot change any more")
            if status is not None and status not in GAME_TRANSITIONS[row.status]:
                raise ConflictError(f"game {game_id!r} cannot go from {row.status} back to {status}")
            if winner_id is not None and winner_id not in game.player_ids:
                raise ValueError(f"the winner {winner_id!r} does not play in game {game_id!r}")
            changes = {
                "status": status,
                "started_at": started_at,
                "ended_at": ended_at,
                "ticks": ticks,
                "winner_id": winner_id,
                "replay_location": replay_location,
            }
            for name, value in changes.items():
                if value is not None:
                    setattr(row, name, value)
            session.flush()
            return _game(row, game.player_ids)

        return self._write(change)

    def record_results(self, game_id: str, results: Sequence[MatchResult]) -> bool:
        results = sorted(results, key=lambda r: r.seat)
        for result in results:
            check_choice("outcome", result.outcome, OUTCOMES)
            if result.game_id != game_id:
                raise ValueError(f"a result for game {result.game_id!r} was given for game {game_id!r}")
            if not isinstance(result.placement, int) or result.placement < 1:
                raise ValueError(f"placements start at 1, got {result.placement!r} for {result.player_id!r}")

        def record(session: Session) -> bool:
            game = self.get_in(session, game_id)
            seating = [(r.seat, r.player_id) for r in results]
            if seating != list(enumerate(game.player_ids)):
                raise ValueError(
                    f"game {game_id!r} seats {list(game.player_ids)}: one result per seat in that order is "
                    f"needed, got {[p for _, p in seating]} at seats {[s for s, _ in seating]}"
                )
            stored = [_result(row) for row in session.scalars(_results_query(game_id))]
            if stored:
                if stored == results:
                    return False
                raise ConflictError(f"game {game_id!r} has different results recorded already: {stored}")
            now = utcnow()
            session.add_all(
                MatchResultRow(
                    game_id=r.game_id,
                    player_id=r.player_id,
                    seat=r.seat,
                    outcome=r.outcome,
                    placement=r.placement,
                    recorded_at=now,
                )
                for r in results
            )
            session.flush()
            return True

        return self._write(record)

    @staticmethod
    def get_in(session: Session, game_id: str) -> Game:
        row = session.get(GameRow, game_id)
        if row is None:
            raise NotFoundError(f"no game with id {game_id!r}")
        return _load(session, [row])[0]

    def results(self, game_id: str) -> builtins.list[MatchResult]:
        return self._read(lambda s: [_result(row) for row in s.scalars(_results_query(game_id))])

    def player_results(self, player_id: str, *, limit: int = 100) -> builtins.list[MatchResult]:
        check_limit(limit)
        query = (
            select(MatchResultRow)
            .join(GameRow, GameRow.id == MatchResultRow.game_id)
            .where(MatchResultRow.player_id == player_id)
            .order_by(GameRow.created_at.desc(), GameRow.id.desc())
            .limit(limit)
        )
        return self._read(lambda s: [_result(row) for row in s.scalars(query)])

    def head_to_head(self, a: str, b: str) -> HeadToHead:
        if a == b:
            raise ValueError(f"head to head needs two different players, got {a!r} twice")
        mine, theirs = aliased(MatchResultRow), aliased(MatchResultRow)
        query = (
            select(mine.placement - theirs.placement, func.count())
            .join(theirs, and_(theirs.game_id == mine.game_id, theirs.player_id == b))
            .where(mine.player_id == a)
            .group_by(mine.placement - theirs.placement)
        )
        counts = {"ahead": 0, "behind": 0, "even": 0}
        for difference, count in self._read(lambda s: s.execute(query).all()):
            counts["ahead" if difference < 0 else "behind" if difference > 0 else "even"] += count
        total = sum(counts.values())
        return HeadToHead(a, b, total, counts["ahead"], counts["behind"], counts["even"])


def _results_query(game_id: str) -> Select[MatchResultRow]:
    return select(MatchResultRow).where(MatchResultRow.game_id == game_id).order_by(MatchResultRow.seat)
