"""Tournaments: round robin, Swiss and single elimination as small state machines.

Pure and deterministic: the same participants, options and results give the same rounds. A tournament
alternates between two states: *between rounds* (:meth:`Tournament.next_round` schedules the next
round and returns it, or returns None once the tournament is over) and *in a round* (the games of
:meth:`Tournament.pending` wait for :meth:`Tournament.record`). :func:`run_tournament` drives one to
the end with a ``play(a, b) -> Outcome`` callable.

Rules
-----
- Seeding: participants are ranked by explicit ``seed`` (1 is best; unseeded after seeded), then by
  ``rating`` (higher first; unrated after rated), then by their order in the input.
- A game's ``a`` sits in seat 0; an :class:`Outcome` is always from ``a``'s side. Scoring: win 1,
  draw 1/2, loss 0.
- Round robin: circle method (the top seed fixed, or with an odd count the empty seat, the others
  rotate), every pair once, or twice with seats swapped when ``double``; the fixed slot alternates
  seats by round and the other tables by table parity, which keeps everyone's seat-0 count within
  one of half their games (exactly half with an odd count). With an odd count everyone sits out
  one round per leg, unscored (everyone gets the same). Order: points, Sonneborn-Berger, wins.
- Swiss: ``rounds`` rounds (default ceil(log2 n)). Players are ordered by points, then seed; each
  score group (with the lowest of an odd group floating down to the next) is paired top half against
  bottom half (``FOLD``) or neighbour against neighbour (``ADJACENT``). A backtracking search keeps
  that order as a preference while refusing rematches; only when no rematch-free pairing exists (or
  the search budget runs out) are rematches allowed. With an odd count the bye goes to the
  lowest-ranked player among those with the fewest byes (distinct players while rounds <= n), and
  scores as a win (1 point, counted in ``byes``, not ``wins``). Within a score, partners that would
  push someone to a seat imbalance of three are tried last. Order: points, Buchholz,
  Sonneborn-Berger, wins.
- Single elimination: the bracket has the next power of two of slots, in standard order (1 v 16,
  8 v 9, ...; seed 1 meets the lowest seed), and the top seeds take the byes. A drawn game follows
  ``draw_rule``: ``REPLAY`` schedules the game again with seats swapped, up to ``max_replays`` times,
  after which the higher seed advances; ``HIGHER_SEED`` advances the higher seed at once. Rank by the
  round reached: champion 1, finalist 2, semi-finalists 3, quarter-finalists 5, and so on.
- Swiss and elimination seats: whoever has sat in seat 0 less often (seat 0 minus seat 1 games)
  takes seat 0; on a tie the one who sat in seat 1 last, then the higher seed.
- Tie-breaks: Buchholz is the sum of the points of the opponents met (byes add nothing);
  Sonneborn-Berger sums each opponent's points times the score against them. Players equal on
  points and every tie-break share a rank and are listed by seed.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

SWISS_SEARCH_BUDGET = 20_000


class Outcome(StrEnum):
    """A game's result for seat 0 (``a``)."""

    WIN = "win"
    LOSS = "loss"
    DRAW = "draw"


class Format(StrEnum):
    """Tournament formats, named as the CLI and protos spell them."""

    ROUND_ROBIN = "round-robin"
    SWISS = "swiss"
    SINGLE_ELIMINATION = "single-elimination"


class SwissPairing(StrEnum):
    """How a Swiss score group is split into games."""

    FOLD = "fold"  # top half against bottom half: 1 v 5, 2 v 6, ...
    ADJACENT = "adjacent"  # neighbours: 1 v 2, 3 v 4, ...


class DrawRule(StrEnum):
    """What a drawn elimination game means."""

    REPLAY = "replay"
    HIGHER_SEED = "higher-seed"


@dataclass(frozen=True)
class Participant:
    """An entrant: a player, bot or model-version id, with an optional seed (1 = best) and rating."""

    id: str
    seed: int | None = None
    rating: float | None = None


@dataclass(frozen=True)
class Game:
    """One game to play: ``a`` in seat 0, ``b`` in seat 1; ``replay`` counts elimination replays."""

    round: int
    table: int
    a: str
    b: str
    replay: int = 0


@dataclass(frozen=True)
class Round:
    """The games scheduled when a round starts, and who sits it out (``byes``)."""

    number: int
    games: tuple[Game, ...]
    byes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Standing:
    """One line of the standings table."""

    rank: int
    id: str
    points: float
    wins: int
    draws: int
    losses: int
    byes: int
    buchholz: float
    sonneborn_berger: float


@dataclass(frozen=True)
class BracketMatch:
    """One elimination slot: ``a``/``b`` are None until known (``b`` stays None for a bye)."""

    a: str | None
    b: str | None
    winner: str | None
    games: tuple[tuple[Game, Outcome], ...] = ()
    bye: bool = False


_SCORE = {Outcome.WIN: 1.0, Outcome.DRAW: 0.5, Outcome.LOSS: 0.0}
_FLIP = {Outcome.WIN: Outcome.LOSS, Outcome.LOSS: Outcome.WIN, Outcome.DRAW: Outcome.DRAW}


@dataclass
class _Tally:
    points: float = 0.0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    byes: int = 0
    met: list[tuple[str, float]] = field(default_factory=list)  # (opponent, score against them)


def _seeded(participants: Sequence[Participant | str]) -> tuple[Participant, ...]:
    entrants = [p if isinstance(p, Participant) else Participant(p) for p in participants]
    ids = [p.id for p in entrants]
    if len(entrants) < 2:
        raise ValueError(f"a tournament needs at least 2 participants, got {len(entrants)}")
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise ValueError("participant ids must be non-empty and distinct")
    seeds = [p.seed for p in entrants if p.seed is not None]
    if len(set(seeds)) != len(seeds) or any(s < 1 for s in seeds):
        raise ValueError("seeds must be distinct integers >= 1")
    order = sorted(
        range(len(entrants)),
        key=lambda i: (
            entrants[i].seed is None,
            entrants[i].seed or 0,
            entrants[i].rating is None,
            -(entrants[i].rating or 0.0),
            i,
        ),
    )
    return tuple(entrants[i] for i in order)


class Tournament(ABC):
    """Shared state machine: rounds, pending games, results, seats and standings."""

    format: ClassVar[Format]
    scored_byes: ClassVar[bool] = False

    def __init__(self, participants: Sequence[Participant | str]) -> None:
        self.participants = _seeded(participants)
        self.ids = tuple(p.id for p in self.participants)
        self._seed_rank = {pid: i for i, pid in enumerate(self.ids)}
        self._rounds: list[Round] = []
        self._pending: dict[Game, None] = {}
        self._results: dict[Game, Outcome] = {}
        self._byes: list[tuple[int, str]] = []
        self._seat_balance: Counter[str] = Counter()  # seat-0 games minus seat-1 games
        self._last_seat: dict[str, int] = {}

    # -- the state machine ------------------------------------------------------------------------
    @property
    def rounds(self) -> tuple[Round, ...]:
        """Rounds started so far."""
        return tuple(self._rounds)

    @property
    def results(self) -> tuple[tuple[Game, Outcome], ...]:
        """Every recorded game and its outcome, in the order recorded."""
        return tuple(self._results.items())

    def pending(self) -> tuple[Game, ...]:
        """Games of the current round still waiting for a result."""
        return tuple(self._pending)

    @property
    def finished(self) -> bool:
        """True once every game is played and no round is left."""
        return not self._pending and not self._more_rounds()

    def next_round(self) -> Round | None:
        """Start and return the next round, or None when the tournament is over.

        Raises ``ValueError`` while games of the current round have no result yet.
        """
        if self._pending:
            left = len(self._pending)
            raise ValueError(f"round {len(self._rounds)} still has {left} games without a result")
        if not self._more_rounds():
            return None
        rnd = self._make_round(len(self._rounds) + 1)
        self._rounds.append(rnd)
        for game in rnd.games:
            self._schedule(game)
        self._byes.extend((rnd.number, pid) for pid in rnd.byes)
        return rnd

    def record(self, game: Game, outcome: Outcome | str) -> tuple[Game, ...]:
        """Record ``game``'s outcome (for seat 0); returns games newly scheduled (replays).

        Recording the same outcome twice changes nothing; a different one, or a game that is not
        scheduled, raises ``ValueError``.
        """
        outcome = Outcome(outcome)
        if game in self._results:
            if self._results[game] != outcome:
                raise ValueError(f"{game} already has result {self._results[game]}, not {outcome}")
            return ()
        if game not in self._pending:
            raise ValueError(f"{game} is not a scheduled game of this tournament")
        del self._pending[game]
        self._results[game] = outcome
        replays = tuple(self._after_result(game, outcome))
        for replay in replays:
            self._schedule(replay)
        return replays

    def _schedule(self, game: Game) -> None:
        self._pending[game] = None
        for pid, seat in ((game.a, 0), (game.b, 1)):
            self._seat_balance[pid] += 1 if seat == 0 else -1
            self._last_seat[pid] = seat

    def _seats(self, x: str, y: str) -> tuple[str, str]:
        """Order two players (seat 0 first) to even out seat 0; see the module docstring."""

        def key(pid: str) -> tuple[int, int, int]:
            return (self._seat_balance[pid], -self._last_seat.get(pid, 0), self._seed_rank[pid])

        return (x, y) if key(x) <= key(y) else (y, x)

    # -- standings --------------------------------------------------------------------------------
    def _tallies(self) -> dict[str, _Tally]:
        tallies = {pid: _Tally() for pid in self.ids}
        for game, outcome in self._results.items():
            for pid, opp, result in ((game.a, game.b, outcome), (game.b, game.a, _FLIP[outcome])):
                t = tallies[pid]
                t.points += _SCORE[result]
                t.wins += result is Outcome.WIN
                t.draws += result is Outcome.DRAW
                t.losses += result is Outcome.LOSS
                t.met.append((opp, _SCORE[result]))
        for _, pid in self._byes:
            tallies[pid].byes += 1
            tallies[pid].points += 1.0 if self.scored_byes else 0.0
        return tallies

    def points(self) -> dict[str, float]:
        """Points so far, byes included where they score."""
        return {pid: t.points for pid, t in self._tallies().items()}

    def standings(self) -> tuple[Standing, ...]:
        """Everyone once, best first, with points, record, tie-breaks and (shared) rank."""
        tallies = self._tallies()
        lines = []
        for pid, t in tallies.items():
            buchholz = sum(tallies[opp].points for opp, _ in t.met)
            sb = sum(tallies[opp].points * score for opp, score in t.met)
            lines.append(Standing(0, pid, t.points, t.wins, t.draws, t.losses, t.byes, buchholz, sb))
        keys = self._order_keys(lines)
        lines.sort(key=lambda s: (keys[s.id], self._seed_rank[s.id]))
        ranked: list[Standing] = []
        for i, line in enumerate(lines):
            tied = bool(ranked) and keys[ranked[-1].id] == keys[line.id]
            ranked.append(dataclasses.replace(line, rank=ranked[-1].rank if tied else i + 1))
        return tuple(ranked)

    # -- what each format decides -----------------------------------------------------------------
    @abstractmethod
    def _more_rounds(self) -> bool:
        """Whether another round is due once the current one is complete."""

    @abstractmethod
    def _make_round(self, number: int) -> Round:
        """Schedule round ``number``."""

    def _after_result(self, game: Game, outcome: Outcome) -> list[Game]:
        """Hook: games to schedule because of this result (elimination replays)."""
        return []

    @abstractmethod
    def _order_keys(self, lines: list[Standing]) -> dict[str, tuple[float, ...]]:
        """Sort key per player, best first; equal keys share a rank."""


class RoundRobin(Tournament):
    """Everyone meets everyone once (twice, seats swapped, when ``double``)."""

    format = Format.ROUND_ROBIN

    def __init__(self, participants: Sequence[Participant | str], double: bool = False) -> None:
        super().__init__(participants)
        self.double = double
        self._schedule_table = _circle(list(self.ids))
        if double:
            second_leg = [([(b, a) for a, b in games], byes) for games, byes in self._schedule_table]
            self._schedule_table += second_leg

    def _more_rounds(self) -> bool:
        return len(self._rounds) < len(self._schedule_table)

    def _make_round(self, number: int) -> Round:
        pairs, byes = self._schedule_table[number - 1]
        return Round(number, tuple(Game(number, t, a, b) for t, (a, b) in enumerate(pairs)), tuple(byes))

    def _order_keys(self, lines: list[Standing]) -> dict[str, tuple[float, ...]]:
        return {s.id: (-s.points, -s.sonneborn_berger, -s.wins) for s in lines}


def _circle(ids: list[str]) -> list[tuple[list[tuple[str, str]], list[str]]]:
    """Circle-method rounds: (seat-ordered pairs, players sitting out) per round."""
    slots: list[str | None] = [None, *ids] if len(ids) % 2 else list(ids)
    n = len(slots)
    rounds = []
    for r in range(n - 1):
        pairs, byes = [], []
        for i in range(n // 2):
            a, b = slots[i], slots[n - 1 - i]
            if (i == 0 and r % 2 == 1) or (i > 0 and i % 2 == 1):
                a, b = b, a
            if a is None or b is None:
                byes.append(a or b or "")
            else:
                pairs.append((a, b))
        rounds.append((pairs, byes))
        slots = [slots[0], slots[-1], *slots[1:-1]]
    return rounds


class Swiss(Tournament):
    """Swiss system: a fixed number of rounds, each pairing players with similar scores."""

    format = Format.SWISS
    scored_byes = True

    def __init__(
        self,
        participants: Sequence[Participant | str],
        rounds: int | None = None,
        pairing: SwissPairing = SwissPairing.FOLD,
    ) -> None:
        super().__init__(participants)
        n = len(self.ids)
        self.total_rounds = rounds if rounds is not None else max(1, math.ceil(math.log2(n)))
        most = n - 1 if n % 2 == 0 else n
        if not 1 <= self.total_rounds <= most:
            raise ValueError(f"a Swiss of {n} players takes 1..{most} rounds, got {self.total_rounds}")
        self.pairing = SwissPairing(pairing)

    def _more_rounds(self) -> bool:
        return len(self._rounds) < self.total_rounds

    def _make_round(self, number: int) -> Round:
        points = self.points()
        order = sorted(self.ids, key=lambda pid: (-points[pid], self._seed_rank[pid]))
        played = {frozenset((g.a, g.b)) for g in self._results}
        bye_counts = Counter(pid for _, pid in self._byes)
        bye_candidates: list[str | None] = [None]
        if len(order) % 2:
            fewest = min(bye_counts[pid] for pid in order)
            bye_candidates = [pid for pid in reversed(order) if bye_counts[pid] == fewest]  # lowest first
        for avoid_rematches in (True, False):
            for bye in bye_candidates:
                rest = [pid for pid in order if pid != bye]
                avoid = played if avoid_rematches else set()
                pairs = _swiss_pairs(rest, points, avoid, self._seat_balance, self.pairing)
                if pairs is not None:
                    games = tuple(Game(number, t, *self._seats(x, y)) for t, (x, y) in enumerate(pairs))
                    return Round(number, games, (bye,) if bye is not None else ())
        raise AssertionError("pairing with rematches allowed cannot fail")  # pragma: no cover

    def _order_keys(self, lines: list[Standing]) -> dict[str, tuple[float, ...]]:
        return {s.id: (-s.points, -s.buchholz, -s.sonneborn_berger, -s.wins) for s in lines}


def _swiss_pairs(
    order: list[str],
    points: dict[str, float],
    played: set[frozenset[str]],
    balance: Counter[str],
    style: SwissPairing,
) -> list[tuple[str, str]] | None:
    """Pairs for an even, ranked list avoiding ``played``, closest to the ideal score-group pairing.

    Preference for a partner: same score first, then no seat clash (two players who both sat in seat 0,
    or both in seat 1, at least twice more than the other seat: one of them would go to three), then
    closeness to the ideal partner's place.
    """
    position = {pid: i for i, pid in enumerate(order)}
    ideal: dict[str, str] = {}
    groups: dict[float, list[str]] = defaultdict(list)
    for pid in order:
        groups[points[pid]].append(pid)
    floaters: list[str] = []
    for score in sorted(groups, reverse=True):
        members = floaters + groups[score]
        floaters = [members.pop()] if len(members) % 2 else []
        half = len(members) // 2
        if style is SwissPairing.FOLD:
            couples = [(members[i], members[i + half]) for i in range(half)]
        else:
            couples = [(members[2 * i], members[2 * i + 1]) for i in range(half)]
        for x, y in couples:
            ideal[x], ideal[y] = y, x

    budget = [SWISS_SEARCH_BUDGET]

    def search(unpaired: list[str]) -> list[tuple[str, str]] | None:
        if not unpaired:
            return []
        p, others = unpaired[0], unpaired[1:]
        target = position[ideal[p]]

        def clash(q: str) -> bool:
            return min(balance[p], balance[q]) >= 2 or max(balance[p], balance[q]) <= -2

        preference = sorted(
            others,
            key=lambda q: (abs(points[p] - points[q]), clash(q), abs(position[q] - target), position[q]),
        )
        for q in preference:
            if frozenset((p, q)) in played:
                continue
            budget[0] -= 1
            if budget[0] < 0:
                return None
            rest = search([x for x in unpaired[1:] if x != q])
            if rest is not None:
                return [(p, q), *rest]
        return None

    return search(order)


class SingleElimination(Tournament):
    """Knock-out over a seeded bracket padded with byes to a power of two."""

    format = Format.SINGLE_ELIMINATION

    def __init__(
        self,
        participants: Sequence[Participant | str],
        draw_rule: DrawRule = DrawRule.REPLAY,
        max_replays: int = 2,
    ) -> None:
        super().__init__(participants)
        if max_replays < 0:
            raise ValueError(f"max_replays must be >= 0, got {max_replays}")
        self.draw_rule = DrawRule(draw_rule)
        self.max_replays = max_replays
        n = len(self.ids)
        self.size = 1 << (n - 1).bit_length()
        self.total_rounds = self.size.bit_length() - 1
        first = [self.ids[s - 1] if s <= n else None for s in bracket_order(self.size)]
        self._entrants: list[list[str | None]] = [first]
        self._winners: list[list[str | None]] = []
        self._match_games: dict[tuple[int, int], list[tuple[Game, Outcome]]] = defaultdict(list)

    @property
    def champion(self) -> str | None:
        """The winner, once the final is decided."""
        return self._winners[-1][0] if len(self._winners) == self.total_rounds else None

    def _more_rounds(self) -> bool:
        return len(self._rounds) < self.total_rounds

    def _make_round(self, number: int) -> Round:
        if number > 1:
            self._entrants.append(list(self._winners[number - 2]))
        entrants = self._entrants[number - 1]
        winners: list[str | None] = [None] * (len(entrants) // 2)
        games, byes = [], []
        for k in range(len(winners)):
            x, y = entrants[2 * k], entrants[2 * k + 1]
            if x is not None and y is not None:
                games.append(Game(number, k, *self._seats(x, y)))
            elif x is not None or y is not None:
                winners[k] = x or y
                byes.append(x or y or "")
        self._winners.append(winners)
        return Round(number, tuple(games), tuple(byes))

    def _after_result(self, game: Game, outcome: Outcome) -> list[Game]:
        self._match_games[(game.round, game.table)].append((game, outcome))
        if outcome is Outcome.DRAW:
            if self.draw_rule is DrawRule.REPLAY and game.replay < self.max_replays:
                return [Game(game.round, game.table, game.b, game.a, game.replay + 1)]
            winner = min(game.a, game.b, key=self._seed_rank.__getitem__)
        else:
            winner = game.a if outcome is Outcome.WIN else game.b
        self._winners[game.round - 1][game.table] = winner
        return []

    def bracket(self) -> tuple[tuple[BracketMatch, ...], ...]:
        """Every round's matches, later rounds filled in as winners are known."""
        rounds = []
        entrants = self._entrants[0]
        for r in range(self.total_rounds):
            winners = self._winners[r] if r < len(self._winners) else [None] * (len(entrants) // 2)
            matches = []
            for k in range(len(entrants) // 2):
                a, b = entrants[2 * k], entrants[2 * k + 1]
                bye = r == 0 and (a is None) != (b is None)
                if bye and a is None:
                    a, b = b, a
                games = tuple(self._match_games.get((r + 1, k), ()))
                matches.append(BracketMatch(a, b, winners[k], games, bye))
            rounds.append(tuple(matches))
            entrants = list(winners)
        return tuple(rounds)

    def _reached(self) -> dict[str, int]:
        """Per player, the round they lost in (total_rounds + 1 while still in, or as champion)."""
        reached = dict.fromkeys(self.ids, self.total_rounds + 1)
        for r, winners in enumerate(self._winners):
            entrants = self._entrants[r]
            for k, winner in enumerate(winners):
                if winner is not None:
                    for pid in entrants[2 * k : 2 * k + 2]:
                        if pid is not None and pid != winner:
                            reached[pid] = r + 1
        return reached

    def _order_keys(self, lines: list[Standing]) -> dict[str, tuple[float, ...]]:
        reached = self._reached()
        return {s.id: (-reached[s.id],) for s in lines}


def bracket_order(size: int) -> list[int]:
    """Seeds (1-based) in bracket order for ``size`` slots: 1 v size, and the top two meet last."""
    if size < 1 or size & (size - 1):
        raise ValueError(f"bracket size must be a power of two, got {size}")
    order = [1]
    while len(order) < size:
        n = 2 * len(order)
        order = [s for seed in order for s in (seed, n + 1 - seed)]
    return order


def create_tournament(
    format: Format | str,
    participants: Sequence[Participant | str],
    *,
    rounds: int | None = None,
    double: bool = False,
    pairing: SwissPairing | str = SwissPairing.FOLD,
    draw_rule: DrawRule | str = DrawRule.REPLAY,
    max_replays: int = 2,
) -> Tournament:
    """Build a tournament by format name; options that a format does not use are ignored."""
    fmt = Format(format)
    if fmt is Format.ROUND_ROBIN:
        return RoundRobin(participants, double=double)
    if fmt is Format.SWISS:
        return Swiss(participants, rounds=rounds, pairing=SwissPairing(pairing))
    return SingleElimination(participants, draw_rule=DrawRule(draw_rule), max_replays=max_replays)


def run_tournament(t: Tournament, play: Callable[[str, str], Outcome | str]) -> tuple[Standing, ...]:
    """Play ``t`` to the end, ``play(a, b)`` giving each game's outcome for ``a`` (seat 0)."""
    while True:
        while games := t.pending():
            for game in games:
                t.record(game, play(game.a, game.b))
        if t.next_round() is None:
            return t.standings()
