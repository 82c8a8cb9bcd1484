"""Queue pairing: which waiting tickets start a game now, and which keep waiting.

Pure and deterministic (no clock, no storage, no gRPC): the Matchmaker's domain core passes the
tickets waiting in its queues, the current time and a policy, and gets back the matches to create.

Rules
-----
- Tickets are pooled by mode (``"1v1"`` or ``"ffa-N"``), and by kind too when the policy says kinds
  must not mix.
- A ticket's acceptable rating window is ``rating ± width``, where the width grows linearly with the
  time the ticket has waited, from ``initial`` by ``growth_per_second`` up to ``maximum``.
- Two tickets may meet only when each rating lies inside the other's window, that is when
  ``|r_a - r_b| <= min(width_a, width_b)``; a group of N (FFA) only when its spread
  ``max(r) - min(r)`` is at most every member's width. The same player never appears twice in one
  match (a player may hold several tickets).
- Greedy, longest-waiting first (ties by ticket id): the anchor takes the closest-rated acceptable
  tickets (ties: longer waiting, then id). For FFA, if the N-1 closest do not fit together, the
  tightest group that contains the anchor among its ``max_candidates`` closest acceptable tickets is
  taken instead; if none fits, the anchor keeps waiting (others may still pick it).
- Seats are shuffled with a ``random.Random(seed)``, so the same inputs and seed give the same
  matches.

Cost: each pool is sorted by rating once (O(n log n)); an anchor scans outward from its own place in
that order only as far as its window reaches, skipping matched tickets through a linked list, so a
call costs about O(n log n + n·k), k the number of unmatched tickets inside a window.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Mirrors generals_rl.game.state.MAX_PLAYERS without importing the engine (and torch).
MAX_FFA_PLAYERS = 8

_FFA_MODE = re.compile(r"ffa-([0-9]+)")


class Kind(StrEnum):
    """Who holds a ticket."""

    HUMAN = "human"
    BOT = "bot"
    MODEL = "model"


def mode_size(mode: str) -> int:
    """Players per game in ``mode``: 2 for ``"1v1"``, N for ``"ffa-N"`` (2 <= N <= 8)."""
    if mode == "1v1":
        return 2
    match = _FFA_MODE.fullmatch(mode)
    if match is not None and 2 <= int(match.group(1)) <= MAX_FFA_PLAYERS:
        return int(match.group(1))
    raise ValueError(f"unknown mode {mode!r}: expected '1v1' or 'ffa-N' with 2 <= N <= {MAX_FFA_PLAYERS}")


@dataclass(frozen=True)
class Ticket:
    """One request to play: ``enqueued_at`` and the ``now`` given to :func:`pair` share a clock (s)."""

    id: str
    player_id: str
    kind: Kind
    mode: str
    rating: float
    enqueued_at: float

    def __post_init__(self) -> None:
        if not self.id or not self.player_id:
            raise ValueError("ticket id and player id must be non-empty")
        mode_size(self.mode)
        Kind(self.kind)
        if self.rating != self.rating or self.enqueued_at != self.enqueued_at:  # NaN
            raise ValueError(f"ticket {self.id}: rating and enqueued_at must be numbers, not NaN")


@dataclass(frozen=True)
class Window:
    """How a ticket's rating window widens while it waits (rating points, seconds)."""

    initial: float = 100.0
    growth_per_second: float = 10.0
    maximum: float = 800.0

    def __post_init__(self) -> None:
        if not 0 <= self.initial <= self.maximum or self.growth_per_second < 0:
            raise ValueError(f"need 0 <= initial <= maximum and growth_per_second >= 0, got {self}")

    def width(self, waited: float) -> float:
        """Half-width of the window after ``waited`` seconds (negative waits count as zero)."""
        return min(self.maximum, self.initial + self.growth_per_second * max(0.0, waited))


@dataclass(frozen=True)
class PairingPolicy:
    """Pairing settings: a window per mode (``default`` for the rest) and whether kinds mix."""

    default: Window = Window()
    per_mode: Mapping[str, Window] = field(default_factory=dict)
    mix_kinds: bool = True
    max_candidates: int = 32

    def __post_init__(self) -> None:
        for mode in self.per_mode:
            mode_size(mode)
        if self.max_candidates < MAX_FFA_PLAYERS:
            raise ValueError(f"max_candidates must be at least {MAX_FFA_PLAYERS}")

    def window(self, mode: str) -> Window:
        """The window rule for ``mode``."""
        return self.per_mode.get(mode, self.default)

    def width(self, ticket: Ticket, now: float) -> float:
        """``ticket``'s window half-width at time ``now``."""
        return self.window(ticket.mode).width(now - ticket.enqueued_at)


@dataclass(frozen=True)
class Match:
    """A game to start: its tickets in seat order (seat 0 first)."""

    mode: str
    tickets: tuple[Ticket, ...]

    @property
    def spread(self) -> float:
        """Highest minus lowest rating in the match."""
        ratings = [t.rating for t in self.tickets]
        return max(ratings) - min(ratings)


@dataclass(frozen=True)
class PairingResult:
    """What :func:`pair` decided: matches to start now, and the tickets that keep waiting."""

    matches: tuple[Match, ...]
    waiting: tuple[Ticket, ...]


def pair(
    tickets: Iterable[Ticket], now: float, policy: PairingPolicy | None = None, seed: int = 0
) -> PairingResult:
    """Form the matches that can start at time ``now``; see the module docstring for the rules.

    Raises ``ValueError`` when two tickets share an id. ``waiting`` keeps the input order.
    """
    policy = policy or PairingPolicy()
    tickets = list(tickets)
    ids = [t.id for t in tickets]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate ticket ids: {duplicates[:5]}")

    pools: dict[tuple[str, str], list[Ticket]] = defaultdict(list)
    for t in tickets:
        pools[(t.mode, "" if policy.mix_kinds else t.kind)].append(t)

    rng = random.Random(seed)
    matches: list[Match] = []
    for mode, kind in sorted(pools):
        for group in _pair_pool(pools[(mode, kind)], mode_size(mode), now, policy):
            seats = list(group)
            rng.shuffle(seats)
            matches.append(Match(mode, tuple(seats)))
    taken = {t.id for m in matches for t in m.tickets}
    return PairingResult(tuple(matches), tuple(t for t in tickets if t.id not in taken))


class _Pool:
    """One queue's tickets sorted by rating, with a linked list over the still-unmatched ones."""

    def __init__(self, tickets: list[Ticket], now: float, policy: PairingPolicy) -> None:
        self.tickets = sorted(tickets, key=lambda t: (t.rating, *_age(t)))
        self.ratings = [t.rating for t in self.tickets]
        self.widths = [policy.width(t, now) for t in self.tickets]
        n = len(self.tickets)
        self.prev = list(range(-1, n - 1))
        self.next = list(range(1, n + 1))
        self.matched = [False] * n

    def remove(self, i: int) -> None:
        p, q = self.prev[i], self.next[i]
        if p >= 0:
            self.next[p] = q
        if q < len(self.tickets):
            self.prev[q] = p
        self.matched[i] = True

    def acceptable_by_distance(self, a: int) -> Iterator[int]:
        """Unmatched tickets inside ``a``'s window that accept ``a`` too, closest first."""
        n, ra, wa = len(self.tickets), self.ratings[a], self.widths[a]
        left, right = self.prev[a], self.next[a]
        while True:
            dl = ra - self.ratings[left] if left >= 0 else float("inf")
            dr = self.ratings[right] - ra if right < n else float("inf")
            if min(dl, dr) > wa:
                return
            go_left = dl < dr or (dl == dr and self._waited_longer(left, right))
            i = left if go_left else right
            if go_left:
                left = self.prev[left]
            else:
                right = self.next[right]
            if abs(self.ratings[i] - ra) <= self.widths[i]:
                yield i

    def _waited_longer(self, i: int, j: int) -> bool:
        return _age(self.tickets[i]) < _age(self.tickets[j])

    def fits(self, group: list[int]) -> bool:
        ratings = [self.ratings[i] for i in group]
        return max(ratings) - min(ratings) <= min(self.widths[i] for i in group)


def _age(ticket: Ticket) -> tuple[float, str]:
    """Sort key: longest-waiting first, then ticket id."""
    return (ticket.enqueued_at, ticket.id)


def _pair_pool(tickets: list[Ticket], size: int, now: float, policy: PairingPolicy) -> list[list[Ticket]]:
    """Greedy grouping of one pool into games of ``size`` players."""
    pool = _Pool(tickets, now, policy)
    order = sorted(range(len(pool.tickets)), key=lambda i: _age(pool.tickets[i]))
    groups: list[list[Ticket]] = []
    for anchor in order:
        if pool.matched[anchor]:
            continue
        group = _group_for(pool, anchor, size, policy.max_candidates)
        if group is not None:
            for i in group:
                pool.remove(i)
            groups.append([pool.tickets[i] for i in group])
    return groups


def _group_for(pool: _Pool, anchor: int, size: int, max_candidates: int) -> list[int] | None:
    """The anchor plus ``size - 1`` others that fit together, or None."""
    player = pool.tickets[anchor].player_id
    candidates: list[int] = []
    nearest = [anchor]
    players = {player}
    for i in pool.acceptable_by_distance(anchor):
        if pool.tickets[i].player_id == player:
            continue
        candidates.append(i)
        if len(nearest) < size and pool.tickets[i].player_id not in players:
            nearest.append(i)
            players.add(pool.tickets[i].player_id)
            if len(nearest) == size and pool.fits(nearest):
                return nearest
        if len(candidates) >= max_candidates:
            break
    if len(nearest) < size:
        return None
    return _tightest_group(pool, anchor, candidates, size)


def _tightest_group(pool: _Pool, anchor: int, candidates: list[int], size: int) -> list[int] | None:
    """Smallest-spread fitting group containing ``anchor`` among ``candidates`` (FFA fallback).

    For a rating interval [lo, hi] around the anchor with spread s, every candidate inside it whose
    width is at least s may join: any ``size`` of them fit. Intervals are tried by increasing s.
    """
    members = sorted([anchor, *candidates], key=lambda i: pool.ratings[i])
    ra = pool.ratings[anchor]
    lows = [i for i in members if pool.ratings[i] <= ra]
    highs = [i for i in members if pool.ratings[i] >= ra]
    intervals = sorted(
        ((pool.ratings[h] - pool.ratings[lo], lo, h) for lo, h in itertools.product(lows, highs)),
        key=lambda x: x[0],
    )
    for spread, lo, hi in intervals:
        if spread > pool.widths[anchor]:
            return None
        inside = [
            i
            for i in members
            if pool.ratings[lo] <= pool.ratings[i] <= pool.ratings[hi] and pool.widths[i] >= spread
        ]
        inside.sort(key=lambda i: (abs(pool.ratings[i] - ra), *_age(pool.tickets[i])))
        group = [anchor]
        players = {pool.tickets[anchor].player_id}
        for i in inside:
            if i != anchor and pool.tickets[i].player_id not in players:
                group.append(i)
                players.add(pool.tickets[i].player_id)
                if len(group) == size:
                    return group
    return None
