"""The Elo Service's domain: rate finished games, answer ratings, leaderboards, histories, head-to-heads.

Storage: SQL is the record (players, the game row, its match results, one rating row per player and
mode, one history row per player and game); the leaderboards are a copy in the cache seam
(``leaderboard.py``), refreshed on every result and rebuilt from SQL when missing.

Two numbers per player and mode (``updates.py``):

- ``elo``: incremental Elo with K from ``EloServiceConfig`` (20; 40 for a player's first 30 games in
  the pool), what the seed asks for;
- ``rating`` and ``deviation``: **Glicko-2** (``method = "glicko2"``), updated per game in the same
  transaction as Elo and the history rows. It is reported, ranked and used for the 95% intervals
  (rating +- 1.96 deviation) because it is online: every read is one cache lookup, every answer is
  consistent with the history, and a result costs O(players of the game). A Bradley-Terry refit
  (``ratings.fit_bradley_terry``) is order-independent and has better calibrated intervals, but costs
  a dense O(n^3) solve over the whole history per refresh; evaluation runs it offline where that
  matters (a promotion report), anchored on a fixed bot.

Anchoring: everyone enters a pool at 1500 (deviation 350) and nothing re-centres the pool afterwards.

Reporting a result (``report_result``) is idempotent by game id: the same result again returns the
first answer with ``duplicate = True``; a different one is ``AlreadyExists`` and changes nothing.
Reads never fail for unknown players: they get the starting numbers with ``games = 0``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from generals_rl.services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from generals_rl.services.common.paging import clamp_page_size, decode_token, page_of
from generals_rl.services.elo.config import EloServiceConfig
from generals_rl.services.elo.domain import (
    METHOD,
    ORDERS,
    GameReport,
    HeadToHeadRecord,
    HistoryPage,
    LeaderboardPage,
    Page,
    PlayerRating,
    PlayerRef,
    RatingChange,
    RatingPoint,
    ReportOutcome,
    check_mode,
    check_player,
    check_report,
)
from generals_rl.services.elo.leaderboard import LeaderboardCache
from generals_rl.services.elo.players import PlayerDirectory
from generals_rl.services.elo.ratings import expected_score
from generals_rl.services.elo.updates import Seat, rate_game
from generals_rl.storage import (
    AlreadyExistsError,
    Cache,
    ConflictError,
    Database,
    NotFoundError,
    UnavailableError,
)
from generals_rl.storage.records import (
    PLAYER_KINDS,
    AppliedRatings,
    Game,
    GameMode,
    MatchResult,
    NewGame,
    Outcome,
    Rating,
)
from generals_rl.storage.records import RatingChange as StoredChange

log = logging.getLogger(__name__)

MAX_RATINGS = 1000
MAX_RECENT = 100
_FEW = 20  # GetRatings of at most this many players looks each up; more read the leaderboard
_ALL = 10**9  # "no limit" for store reads that take one


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Storage errors as the domain errors a caller sees."""
    try:
        yield
    except UnavailableError as error:
        raise Unavailable(f"storage is unavailable, retry later: {error}") from None
    except NotFoundError as error:
        raise NotFound(str(error)) from None
    except ConflictError as error:
        raise AlreadyExists(str(error)) from None
    except ValueError as error:
        raise InvalidArgument(str(error)) from None


class EloCore:
    """The Elo Service's operations, blocking (callers in an event loop use ``asyncio.to_thread``).
    Safe to call from many threads at once."""

    def __init__(self, database: Database, cache: Cache, config: EloServiceConfig | None = None) -> None:
        self.database = database
        self.config = config or EloServiceConfig()
        self.players = PlayerDirectory(database)
        self.leaderboards = LeaderboardCache(cache, self.config.leaderboard_ttl_s)
        self._cache_lock = threading.Lock()  # one writer of the cached leaderboards at a time

    # ReportResult

    def report_result(self, report: GameReport) -> ReportOutcome:
        """Record a finished game and rate it (module docstring)."""
        check_report(report)
        seats = report.by_seat()
        refs = [s.player for s in seats]
        with storage_errors():
            game = self._game(report.game_id)
            if game is not None:
                stored = self.database.games.results(report.game_id)
                if stored:
                    ids = self._same_result(report, game, stored)
                    return self._rate(report, ids, refs)
                self._check_game(report, game)
            ids = [self.players.ensure(ref) for ref in refs]
            self._write_game(report, game, ids)
            self.database.games.record_results(report.game_id, _results(report, ids))
            return self._rate(report, ids, refs)

    def _game(self, game_id: str) -> Game | None:
        try:
            return self.database.games.get(game_id)
        except NotFoundError:
            return None

    def _describe(self, mode: str, results: Sequence[MatchResult]) -> str:
        refs = self.players.refs(r.player_id for r in results)
        seats = ", ".join(f"{refs[r.player_id]} {r.outcome} {r.placement}" for r in results)
        return f"{mode}: {seats}"

    def _same_result(self, report: GameReport, game: Game, stored: Sequence[MatchResult]) -> list[str]:
        """The players' ids when ``report`` is the stored result; ``AlreadyExists`` when it differs."""
        ids = [self.players.find(s.player) for s in report.by_seat()]
        if game.mode != report.mode or list(stored) != _results(report, ids):
            raise AlreadyExists(
                f"game {report.game_id!r} has a different result already "
                f"({self._describe(game.mode, stored)}); a result is reported once"
            )
        return [i for i in ids if i is not None]

    def _check_game(self, report: GameReport, game: Game) -> None:
        """A game the Game Service stored must be the one the result describes."""
        if game.status == "aborted":
            raise FailedPrecondition(f"game {game.id!r} was aborted: aborted games are never rated")
        if game.mode != report.mode:
            raise InvalidArgument(f"game {game.id!r} is a {game.mode} game, the result says {report.mode}")
        ids = [self.players.find(s.player) for s in report.by_seat()]
        if ids != list(game.player_ids):
            refs = self.players.refs(game.player_ids)
            seated = ", ".join(str(refs[i]) for i in game.player_ids)
            raise InvalidArgument(
                f"game {game.id!r} seats {seated}; the result lists "
                f"{', '.join(str(s.player) for s in report.by_seat())}"
            )

    def _write_game(self, report: GameReport, game: Game | None, ids: Sequence[str]) -> None:
        """Store the game row (created when the Game Service did not) as finished."""
        games = self.database.games
        if game is None:
            new = NewGame(
                _mode(report.mode),
                "",
                1,
                1,
                tuple(ids),
                id=report.game_id,
                status="running",
                started_at=report.started_at,
            )
            try:
                game = games.create(new)
            except AlreadyExistsError:  # the same game reported concurrently: it wrote the row
                return
        if game.status in ("pending", "running"):
            winner = [i for i, s in zip(ids, report.by_seat(), strict=True) if s.outcome == "win"]
            with contextlib.suppress(ConflictError):  # finished concurrently
                games.update(
                    report.game_id,
                    status="finished",
                    ended_at=report.ended_at or datetime.now(UTC),
                    ticks=report.ticks,
                    winner_id=winner[0] if winner else None,
                    replay_location=report.replay_uri or None,
                )

    def _rate(self, report: GameReport, ids: Sequence[str], refs: Sequence[PlayerRef]) -> ReportOutcome:
        seats = [Seat(i, s.outcome, s.place) for i, s in zip(ids, report.by_seat(), strict=True)]
        config = self.config

        def update(current: Mapping[str, Rating | None]) -> dict[str, Rating]:
            return rate_game(report.mode, seats, current, config.elo, config.glicko)

        applied = self.database.ratings.apply_game(report.game_id, ids, update)  # dated now: rated in order
        self._refresh(report.mode, dict(zip(refs, ids, strict=True)))
        return ReportOutcome(not applied.applied, self._changes(applied, ids, refs))

    def _changes(
        self, applied: AppliedRatings, ids: Sequence[str], refs: Sequence[PlayerRef]
    ) -> tuple[RatingChange, ...]:
        start = self.config.glicko.new_player()
        by_id: dict[str, StoredChange] = {c.player_id: c for c in applied.changes}
        changes = []
        for player_id, ref in zip(ids, refs, strict=True):
            c = by_id[player_id]
            changes.append(
                RatingChange(
                    player=ref,
                    elo_before=start.rating if c.elo_before is None else c.elo_before,
                    elo_after=c.elo_after,
                    rating_before=start.rating if c.mu_before is None else c.mu_before,
                    rating_after=start.rating if c.mu_after is None else c.mu_after,
                    deviation_before=start.rd if c.sigma_before is None else c.sigma_before,
                    deviation_after=start.rd if c.sigma_after is None else c.sigma_after,
                )
            )
        return tuple(changes)

    # the cached leaderboards

    def _view(self, ref: PlayerRef, rating: Rating) -> PlayerRating:
        start = self.config.glicko.new_player()
        return PlayerRating(
            player=ref,
            mode=rating.mode,
            elo=rating.elo,
            rating=start.rating if rating.mu is None else rating.mu,
            deviation=start.rd if rating.sigma is None else rating.sigma,
            games=rating.games,
            wins=rating.wins,
            losses=rating.losses,
            draws=rating.draws,
            updated_at=rating.updated_at,
        )

    def _refresh(self, mode: str, players: Mapping[PlayerRef, str]) -> None:
        """Copy the players' current ratings to a built leaderboard (an unbuilt one is rebuilt on read,
        from SQL, which has them). Reading SQL under the lock keeps the newest write last."""
        with self._cache_lock, storage_errors():
            if self.leaderboards.as_of(mode) is None:
                return
            rated = self.database.ratings.get_many(players.values(), _mode(mode))
            entries = [self._view(ref, rated[i]) for ref, i in players.items() if i in rated]
            self.leaderboards.write(mode, entries)

    def rebuild(self, mode: str) -> None:
        """Rebuild ``mode``'s cached leaderboard from SQL."""
        check_mode(mode)
        with self._cache_lock, storage_errors():
            rated = self.database.ratings.leaderboard(limit=_ALL, by="mu", mode=_mode(mode))
            refs = self.players.refs(r.player_id for r in rated)
            self.leaderboards.write(mode, [self._view(refs[r.player_id], r) for r in rated], rebuild=True)
            log.info("leaderboard rebuilt", extra={"mode": mode, "players": len(rated)})

    def _entries(self, mode: str, order: str) -> tuple[list[str], dict[str, PlayerRating]]:
        """The cached leaderboard (rebuilt first when missing or half expired): keys in order, entries."""
        for attempt in range(2):
            with storage_errors():
                if self.leaderboards.as_of(mode) is not None:
                    members = self.leaderboards.ordered(mode, order)
                    entries = self.leaderboards.entries(mode)
                    if set(members) == set(entries) or attempt == 1:
                        return members, entries
            self.rebuild(mode)
        raise AssertionError("unreachable")

    def _entries_built(self, mode: str) -> None:
        """Rebuild ``mode``'s cached leaderboard from SQL unless it is there."""
        with storage_errors():
            built = self.leaderboards.as_of(mode) is not None
        if not built:
            self.rebuild(mode)

    def _starting(self, ref: PlayerRef, mode: str) -> PlayerRating:
        start = self.config.glicko.new_player()
        return PlayerRating(ref, mode, self.config.elo.initial_rating, start.rating, start.rd, METHOD)

    # reads

    def get_rating(self, player: PlayerRef, mode: str) -> PlayerRating:
        """The player's numbers in ``mode`` (the starting ones with ``games = 0`` if never rated)."""
        return self.get_ratings([player], mode)[0]

    def get_ratings(self, players: Sequence[PlayerRef], mode: str) -> list[PlayerRating]:
        """Several players' numbers, in the order asked (1..1000 players)."""
        if not 1 <= len(players) <= MAX_RATINGS:
            raise InvalidArgument(f"ask for 1 to {MAX_RATINGS} players at once, got {len(players)}")
        for i, ref in enumerate(players):
            check_player(ref, f"player #{i + 1}")
        check_mode(mode)
        if len(players) > _FEW:
            members, entries = self._entries(mode, "rating")
            rank = {m: i + 1 for i, m in enumerate(members)}
            found = {str(r): (entries.get(str(r)), rank.get(str(r), 0)) for r in players}
        else:  # a few lookups beat reading the whole leaderboard
            self._entries_built(mode)
            with storage_errors():
                found = {
                    str(r): (self.leaderboards.entry(mode, r), self.leaderboards.rank(mode, r))
                    for r in players
                }
        out = []
        for ref in players:
            entry, rank_ = found[str(ref)]
            out.append(self._starting(ref, mode) if entry is None else _ranked(entry, rank_))
        return out

    def leaderboard(
        self,
        mode: str,
        *,
        kind: str = "",
        min_games: int = 0,
        order: str = "rating",
        page_size: int = 0,
        page_token: str = "",
    ) -> LeaderboardPage:
        """Rated players of ``mode`` best first by ``order`` (rating, lower or elo), optionally of one kind
        and with at least ``min_games`` games; ``rank`` counts in this filtered order."""
        check_mode(mode)
        if kind not in ("", *PLAYER_KINDS):
            raise InvalidArgument(f"the kind filter must be human, bot or model (or none), got {kind!r}")
        if order not in ORDERS:
            raise InvalidArgument(f"the order must be one of {', '.join(ORDERS)}, got {order!r}")
        if min_games < 0:
            raise InvalidArgument(f"min_games must be >= 0, got {min_games}")
        size, query = clamp_page_size(page_size), ("leaderboard", mode, kind, min_games, order)
        offset = decode_token(page_token, query)
        members, entries = self._entries(mode, order)
        as_of = self.leaderboards.as_of(mode)
        chosen = [
            e
            for m in members
            if (e := entries.get(m)) is not None
            and (not kind or e.player.kind == kind)
            and e.games >= min_games
        ]
        window, token = page_of(len(chosen), offset, size, query)
        ranked = tuple(_ranked(e, offset + i + 1) for i, e in enumerate(chosen[window]))
        return LeaderboardPage(ranked, Page(token, len(chosen)), as_of)

    def rating_history(
        self,
        player: PlayerRef,
        mode: str,
        *,
        since: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> HistoryPage:
        """The player's numbers after each rated game of ``mode``, oldest first: in the order the games
        were rated (games that end close together may be reported in another order), each point dated
        by when its game ended; ``since`` keeps the games that ended at or after it."""
        check_player(player)
        check_mode(mode)
        size, query = clamp_page_size(page_size), ("history", str(player), mode, since)
        offset = decode_token(page_token, query)
        with storage_errors():
            player_id = self.players.find(player)
            if player_id is None:
                return HistoryPage(())
            changes = self.database.ratings.history(player_id, limit=_ALL, mode=_mode(mode))
            games = {g.id: g for g in self.database.games.list(player_id=player_id, limit=_ALL)}

            def ended(change: StoredChange) -> datetime:
                return games[change.game_id].ended_at or change.at

            changes = [c for c in reversed(changes) if since is None or ended(c) >= since]
            window, token = page_of(len(changes), offset, size, query)
            results = {r.game_id: r for r in self.database.games.player_results(player_id, limit=_ALL)}
            start = self.config.glicko.new_player()
            points = tuple(
                RatingPoint(
                    game_id=c.game_id,
                    at=ended(c),
                    outcome=results[c.game_id].outcome,
                    place=results[c.game_id].placement,
                    opponents=tuple(
                        self.players.ref(p) for p in games[c.game_id].player_ids if p != player_id
                    ),
                    elo=c.elo_after,
                    rating=start.rating if c.mu_after is None else c.mu_after,
                    deviation=start.rd if c.sigma_after is None else c.sigma_after,
                )
                for c in changes[window]
            )
        return HistoryPage(points, Page(token, len(changes)))

    def head_to_head(self, a: PlayerRef, b: PlayerRef, mode: str, *, recent: int = 0) -> HeadToHeadRecord:
        """``a``'s record against ``b`` over their rated games of ``mode`` together."""
        check_player(a, "player a")
        check_player(b, "player b")
        check_mode(mode)
        if a == b:
            raise InvalidArgument(f"head to head needs two different players, got {a} twice")
        if recent < 0:
            raise InvalidArgument(f"recent must be >= 0, got {recent}")
        recent = min(recent or 10, MAX_RECENT)
        rating_a, rating_b = self.get_ratings([a, b], mode)
        expected = expected_score(rating_a.rating, rating_b.rating)
        with storage_errors():
            ia, ib = self.players.find(a), self.players.find(b)
            if ia is None or ib is None:
                return HeadToHeadRecord(a, b, 0, 0, 0, 0, 0.5, expected, ())
            history = self.database.ratings.history
            rated_b = {c.game_id for c in history(ib, limit=_ALL, mode=_mode(mode))}
            rated = {
                c.game_id: c.at for c in history(ia, limit=_ALL, mode=_mode(mode)) if c.game_id in rated_b
            }
            ended = {g.id: g.ended_at for g in self.database.games.list(player_id=ia, limit=_ALL)}
            common = sorted(rated, key=lambda g: (ended.get(g) or rated[g], rated[g]), reverse=True)
            place_a = {r.game_id: r.placement for r in self.database.games.player_results(ia, limit=_ALL)}
            place_b = {r.game_id: r.placement for r in self.database.games.player_results(ib, limit=_ALL)}
        diffs = [place_a[g] - place_b[g] for g in common if g in place_a and g in place_b]
        a_wins, b_wins = sum(d < 0 for d in diffs), sum(d > 0 for d in diffs)
        draws = len(diffs) - a_wins - b_wins
        score = (a_wins + draws / 2) / len(diffs) if diffs else 0.5
        return HeadToHeadRecord(
            a, b, len(diffs), a_wins, b_wins, draws, score, expected, tuple(common[:recent])
        )


def _ranked(entry: PlayerRating, rank: int) -> PlayerRating:
    return dataclasses.replace(entry, rank=rank)


def _mode(mode: str) -> GameMode:
    """A mode ``check_mode`` accepted, typed as storage wants it."""
    return cast(GameMode, mode)


def _results(report: GameReport, ids: Sequence[str | None]) -> list[MatchResult]:
    """The report as the game store's results, in seat order (``""`` for a player without a row)."""
    return [
        MatchResult(report.game_id, i or "", s.seat, cast(Outcome, s.outcome), s.place)
        for i, s in zip(ids, report.by_seat(), strict=True)
    ]
