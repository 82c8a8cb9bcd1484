"""The Elo Service's domain types and the checks of a reported result: plain frozen dataclasses, no gRPC.

Enumerations are the storage layer's strings: modes ``1v1``/``ffa``, kinds ``human``/``bot``/``model``,
outcomes ``win``/``loss``/``draw``, end reasons ``general_captured``/``eliminated``/``tick_limit``/
``aborted`` (``""``: not given). An unset enumeration is ``""``; an unknown one keeps its number as
``"?<n>"``, so the error message can say what was sent.

A result is consistent when (``check_report``): it has a game id, a known mode and 2+ distinct players
(exactly 2 in 1v1, at most 8 in FFA), one entry per seat 0..P-1, a known outcome and a place 1..P per
seat, and either winners placed 1 with everyone else lost and placed 2+, or no winner, 2+ draws
sharing place 1 and everyone else lost and placed 2+. A 1v1 has one winner or two draws; an FFA game
may have several winners (a team that won together: they tie with each other). Places need not be
consecutive (1, 2, 2, 4 is what "eliminated on the same tick" gives). Aborted games are never rated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.stats import Z95
from generals_rl.storage.records import GAME_MODES, OUTCOMES, PLAYER_KINDS

Order = Literal["rating", "lower", "elo"]
ORDERS: tuple[str, ...] = ("rating", "lower", "elo")
END_REASONS: tuple[str, ...] = ("general_captured", "eliminated", "tick_limit", "aborted")
MAX_ID_LENGTH = 128
MAX_GAME_ID_LENGTH = 64
MAX_FFA_PLAYERS = 8
METHOD = "glicko2"


@dataclass(frozen=True, order=True)
class PlayerRef:
    """A human, bot or model version; ``str(ref)`` is its canonical key ``<kind>:<id>`` (``model:17``)."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @staticmethod
    def parse(text: str) -> PlayerRef:
        """The ref of a canonical key (``bot:expander``); ``InvalidArgument`` if it is not one."""
        kind, sep, name = text.partition(":")
        ref = PlayerRef(kind, name)
        if not sep:
            raise InvalidArgument(f"a player is written <kind>:<id> (kind human, bot or model), got {text!r}")
        check_player(ref)
        return ref


@dataclass(frozen=True)
class SeatResult:
    """One seat of a finished game: who sat there, how it ended for them, their place (1 = best)."""

    player: PlayerRef
    seat: int
    outcome: str
    place: int
    eliminated_tick: int = 0


@dataclass(frozen=True)
class GameReport:
    """A finished game's result, as the Game Service reports it."""

    game_id: str
    mode: str
    players: tuple[SeatResult, ...]
    ticks: int = 0
    reason: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    replay_uri: str = ""

    def by_seat(self) -> tuple[SeatResult, ...]:
        return tuple(sorted(self.players, key=lambda p: p.seat))


@dataclass(frozen=True)
class PlayerRating:
    """A player's numbers in one mode: classic ``elo``, and the Glicko-2 ``rating`` with its deviation."""

    player: PlayerRef
    mode: str
    elo: float
    rating: float
    deviation: float
    method: str = METHOD
    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    updated_at: datetime | None = None
    rank: int = 0

    @property
    def lower(self) -> float:
        """Lower end of the 95% interval."""
        return self.rating - Z95 * self.deviation

    @property
    def upper(self) -> float:
        """Upper end of the 95% interval."""
        return self.rating + Z95 * self.deviation


@dataclass(frozen=True)
class RatingChange:
    """How one game changed one player's numbers."""

    player: PlayerRef
    elo_before: float
    elo_after: float
    rating_before: float
    rating_after: float
    deviation_before: float
    deviation_after: float


@dataclass(frozen=True)
class ReportOutcome:
    """What reporting a result did: ``duplicate`` when it had been reported before (nothing changed now);
    the changes in seat order either way."""

    duplicate: bool
    changes: tuple[RatingChange, ...]


@dataclass(frozen=True)
class Page:
    """Paging of a list: the next page's token (``""`` on the last page) and the total count."""

    next_page_token: str = ""
    total_size: int = 0


@dataclass(frozen=True)
class LeaderboardPage:
    """Ratings best first; ``rank`` is the place in this (filtered) order over all pages."""

    entries: tuple[PlayerRating, ...]
    page: Page = field(default_factory=Page)
    as_of: datetime | None = None


@dataclass(frozen=True)
class RatingPoint:
    """A player's numbers after one of its rated games."""

    game_id: str
    at: datetime
    outcome: str
    place: int
    opponents: tuple[PlayerRef, ...]
    elo: float
    rating: float
    deviation: float


@dataclass(frozen=True)
class HistoryPage:
    """A player's rating points, oldest first."""

    points: tuple[RatingPoint, ...]
    page: Page = field(default_factory=Page)


@dataclass(frozen=True)
class HeadToHeadRecord:
    """Two players' record in one mode, from ``a``'s side."""

    a: PlayerRef
    b: PlayerRef
    games: int
    a_wins: int
    b_wins: int
    draws: int
    a_score: float
    a_expected: float
    recent_game_ids: tuple[str, ...]


def _name(value: str) -> str:
    return "not set" if value == "" else f"{value!r}"


def check_text(what: str, value: str, max_length: int) -> None:
    if not value:
        raise InvalidArgument(f"{what} is required")
    if len(value) > max_length:
        raise InvalidArgument(f"{what} is at most {max_length} characters, got {len(value)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidArgument(f"{what} must not contain control characters, got {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} must be valid text (UTF-8), got {value!r}") from None


def check_player(ref: PlayerRef, what: str = "player") -> None:
    """A kind of human, bot or model and an id of 1..128 characters (a decimal version for models)."""
    if ref.kind not in PLAYER_KINDS:
        raise InvalidArgument(
            f"{what} {ref.id!r}: the kind must be human, bot or model, got {_name(ref.kind)}"
        )
    check_text(f"the id of {what} {ref.kind}:…", ref.id, MAX_ID_LENGTH)
    if ref.kind == "model" and not (ref.id.isascii() and ref.id.isdigit() and ref.id == str(int(ref.id))):
        raise InvalidArgument(f"{what} {ref}: a model is named by its decimal version number, like model:17")


def check_mode(mode: str) -> None:
    if mode not in GAME_MODES:
        raise InvalidArgument(f"the mode must be 1v1 or ffa, got {_name(mode)}")


def check_report(report: GameReport) -> None:
    """``InvalidArgument`` saying what is wrong unless the result is consistent (module docstring)."""
    check_text("the game id", report.game_id, MAX_GAME_ID_LENGTH)
    check_mode(report.mode)
    if report.reason not in ("", *END_REASONS):
        raise InvalidArgument(f"unknown end reason {report.reason!r}")
    if report.reason == "aborted":
        raise InvalidArgument(f"game {report.game_id!r} was aborted: aborted games are never rated")
    seats = report.by_seat()
    n = len(seats)
    if n < 2:
        raise InvalidArgument(f"a rated game needs at least 2 players, got {n}")
    if report.mode == "1v1" and n != 2:
        raise InvalidArgument(f"a 1v1 game has exactly 2 players, got {n}")
    if n > MAX_FFA_PLAYERS:
        raise InvalidArgument(f"a game has at most {MAX_FFA_PLAYERS} players, got {n}")
    for seat in seats:
        check_player(seat.player, f"the player of seat {seat.seat}")
    players = [str(s.player) for s in seats]
    twice = sorted({p for p in players if players.count(p) > 1})
    if twice:
        raise InvalidArgument(f"a player may sit only once in a game: {', '.join(twice)} is listed twice")
    if [s.seat for s in seats] != list(range(n)):
        raise InvalidArgument(
            f"one result per seat 0..{n - 1} is needed, got seats {sorted(s.seat for s in report.players)}"
        )
    for s in seats:
        if s.outcome not in OUTCOMES:
            raise InvalidArgument(
                f"seat {s.seat} ({s.player}): the outcome must be win, loss or draw, got {_name(s.outcome)}"
            )
        if not 1 <= s.place <= n:
            raise InvalidArgument(f"seat {s.seat} ({s.player}): the place must lie in 1..{n}, got {s.place}")
    _check_outcomes(report.mode, seats)
    if report.ticks < 0:
        raise InvalidArgument(f"ticks must be >= 0, got {report.ticks}")
    if report.started_at and report.ended_at and report.ended_at < report.started_at:
        raise InvalidArgument("the game cannot end before it started")
    if report.replay_uri:
        check_text("the replay URI", report.replay_uri, 1024)


def _check_outcomes(mode: str, seats: tuple[SeatResult, ...]) -> None:
    winners = [s for s in seats if s.outcome == "win"]
    draws = [s for s in seats if s.outcome == "draw"]
    if mode == "1v1" and len(winners) > 1:
        names = ", ".join(str(s.player) for s in winners)
        raise InvalidArgument(f"a 1v1 game has at most one winner, got {len(winners)}: {names}")
    if winners and draws:
        raise InvalidArgument("a game with a winner has no draws: the others lost")
    if not winners and len(draws) < 2:
        raise InvalidArgument("a game without a winner is a draw of at least 2 players")
    for s in winners + draws:
        if s.place != 1:
            raise InvalidArgument(
                f"seat {s.seat} ({s.player}) has outcome {s.outcome}: its place is 1, not {s.place}"
            )
    for s in seats:
        if s.outcome == "loss" and s.place == 1:
            raise InvalidArgument(f"seat {s.seat} ({s.player}) lost: its place is 2 or more, not 1")
