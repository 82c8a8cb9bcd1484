"""Tournaments as stored: the request, the JSON record of rounds, pairings and games, and standings.

Scoring follows the contract: the standings count game points (1 a win, 0.5 a draw, and
``games_per_pairing`` for a bye, in every format), while the pairing state machine
(``tournaments``) sees one result per pairing (so Swiss score groups are match points).
Tie-breaks: Sonneborn-Berger over games for round robin, Buchholz for Swiss, the round reached for
single elimination (ranked by it alone). Players appear as ``<kind>:<id>`` keys.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.matchmaker import tournaments as tm
from generals_rl.services.matchmaker.core import PlayerRef, check_player, check_request_id
from generals_rl.services.matchmaker.pairing import Kind

MAX_PARTICIPANTS = 256
MAX_GAMES_PER_PAIRING = 100
MAX_PARALLEL_GAMES = 256
MAX_NAME = 128
TOURNAMENT_ID = re.compile(r"t[0-9]{13}[0-9a-f]{8}")
SCORE = {"win": 1.0, "draw": 0.5, "loss": 0.0}


class TournamentStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@dataclass(frozen=True)
class TournamentSpec:
    """A CreateTournament request; 0 and empty fields take the contract's defaults.

    ``generator`` and ``engine`` are the MapConfig and EngineOptions messages as JSON objects
    (proto field names), passed on to the Game Service."""

    format: str
    participants: tuple[PlayerRef, ...]
    name: str = ""
    games_per_pairing: int = 0
    rounds: int = 0
    generator: Mapping[str, Any] | None = None
    engine: Mapping[str, Any] | None = None
    seed: int = 0
    unrated: bool = False
    max_parallel_games: int = 0
    request_id: str = ""


@dataclass
class GameSlot:
    """One game of a pairing: its id once created, ``a``'s seat, and ``a``'s outcome once over."""

    game_id: str = ""
    a_seat: int = 0
    result: str | None = None


@dataclass
class PairingRecord:
    """Two participants of a round (``b`` None for a bye), as the contract's Pairing."""

    a: str
    b: str | None
    games: list[GameSlot] = field(default_factory=list)
    a_points: float = 0.0
    b_points: float = 0.0
    finished: bool = False
    winner: str | None = None


@dataclass
class RoundRecord:
    number: int
    pairings: list[PairingRecord]
    finished: bool = False


@dataclass
class StandingRecord:
    rank: int
    player: str
    points: float
    games: int
    wins: int
    losses: int
    draws: int
    tiebreak: float
    eliminated: bool


@dataclass
class TournamentRecord:
    """A tournament as stored; players are ``<kind>:<id>`` keys."""

    id: str
    name: str
    format: str
    status: TournamentStatus
    participants: list[str]
    games_per_pairing: int
    total_rounds: int
    seed: int
    unrated: bool
    created_at: float
    max_parallel_games: int
    swiss_rounds: int = 0
    generator: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    rounds: list[RoundRecord] = field(default_factory=list)
    standings: list[StandingRecord] = field(default_factory=list)
    winner: str | None = None
    ended_at: float | None = None
    error: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @staticmethod
    def from_json(text: str | bytes) -> TournamentRecord:
        data = json.loads(text)
        data["status"] = TournamentStatus(data["status"])
        data["rounds"] = [
            RoundRecord(
                r["number"],
                [PairingRecord(**{**p, "games": [GameSlot(**g) for g in p["games"]]}) for p in r["pairings"]],
                r["finished"],
            )
            for r in data["rounds"]
        ]
        data["standings"] = [StandingRecord(**s) for s in data["standings"]]
        return TournamentRecord(**data)


def player_ref(key: str) -> PlayerRef:
    kind, _, ident = key.partition(":")
    return PlayerRef(Kind(kind), ident)


# -- validation -----------------------------------------------------------------------------------


def check_spec(spec: TournamentSpec, default_parallel: int) -> tuple[tm.Format, int, int, int]:
    """(format, games per pairing, Swiss rounds, parallel games), or ``InvalidArgument``."""
    try:
        fmt = tm.Format(spec.format)
    except ValueError:
        raise InvalidArgument(
            f"format: expected round-robin, swiss or single-elimination, got {spec.format!r}"
        ) from None
    n = len(spec.participants)
    if not 2 <= n <= MAX_PARTICIPANTS:
        raise InvalidArgument(f"participants: 2..{MAX_PARTICIPANTS} needed, got {n}")
    seen: set[PlayerRef] = set()
    for i, player in enumerate(spec.participants):
        check_player(player, f"participants[{i}]")
        if player.kind is Kind.HUMAN:
            raise InvalidArgument(
                f"participants[{i}]: tournaments are between bots and model versions, not humans"
            )
        if player in seen:
            raise InvalidArgument(f"participants[{i}]: {player.key} is listed twice")
        seen.add(player)
    gpp = spec.games_per_pairing or 2
    if not 1 <= gpp <= MAX_GAMES_PER_PAIRING:
        raise InvalidArgument(f"games_per_pairing: 1..{MAX_GAMES_PER_PAIRING}, got {spec.games_per_pairing}")
    rounds = 0
    if fmt is tm.Format.SWISS:
        rounds = spec.rounds or max(1, math.ceil(math.log2(n)))
        if rounds >= n:
            raise InvalidArgument(f"rounds: a Swiss of {n} players has fewer than {n} rounds, got {rounds}")
    elif spec.rounds:
        raise InvalidArgument("rounds: only a Swiss tournament takes a number of rounds")
    parallel = spec.max_parallel_games or default_parallel
    if not 1 <= parallel <= MAX_PARALLEL_GAMES:
        raise InvalidArgument(f"max_parallel_games: 1..{MAX_PARALLEL_GAMES}, got {spec.max_parallel_games}")
    if len(spec.name) > MAX_NAME:
        raise InvalidArgument(f"name: at most {MAX_NAME} characters, got {len(spec.name)}")
    if not 0 <= spec.seed < 2**64:
        raise InvalidArgument(f"seed: 0..2^64-1, got {spec.seed}")
    check_request_id(spec.request_id)
    check_map_settings(spec.generator, spec.engine)
    return fmt, gpp, rounds, parallel


def check_map_settings(generator: Mapping[str, Any] | None, engine: Mapping[str, Any] | None) -> None:
    """The ranges the contract gives for MapConfig and EngineOptions fields that are set."""

    def int_range(name: str, low: int, high: int) -> None:
        if generator is None or name not in generator:
            return
        lo, hi = int(generator[name].get("low", 0)), int(generator[name].get("high", 0))
        if not low <= lo <= hi <= high:
            raise InvalidArgument(f"generator.{name}: need {low} <= low <= high <= {high}, got [{lo}, {hi}]")

    int_range("side", 4, 64)
    int_range("cities", 0, 10_000)
    int_range("city_army", 1, 100_000)
    int_range("min_distance", 1, 10_000)
    if generator is not None and "mountain_density" in generator:
        density = generator["mountain_density"]
        lo, hi = float(density.get("low", 0.0)), float(density.get("high", 0.0))
        if not 0.0 <= lo <= hi < 0.6:
            raise InvalidArgument(
                f"generator.mountain_density: need 0 <= low <= high < 0.6, got [{lo}, {hi}]"
            )
    tolerance = float(generator.get("fair_tolerance", 0.0)) if generator is not None else 0.0
    if not 0.0 <= tolerance <= 1.0:
        raise InvalidArgument(f"generator.fair_tolerance: in [0, 1], got {tolerance}")
    if generator is not None and int(generator.get("fair_radius", 1)) < 1:
        raise InvalidArgument(f"generator.fair_radius: >= 1, got {generator['fair_radius']}")
    if engine is not None and int(engine.get("max_ticks", 0)) > 100_000:
        raise InvalidArgument(f"engine.max_ticks: at most 100000, got {engine['max_ticks']}")


# -- standings ------------------------------------------------------------------------------------


def standings(record: TournamentRecord) -> list[StandingRecord]:
    """Standings from the games played so far (module docstring for points and tie-breaks)."""
    ids = record.participants
    seed_rank = {pid: i for i, pid in enumerate(ids)}
    points: dict[str, float] = defaultdict(float)
    games: dict[str, list[tuple[str, float]]] = defaultdict(list)  # (opponent, score) per game
    met: dict[str, list[str]] = defaultdict(list)
    out_in: dict[str, int] = {}
    for rnd in record.rounds:
        for p in rnd.pairings:
            if p.b is None:
                points[p.a] += record.games_per_pairing
                continue
            met[p.a].append(p.b)
            met[p.b].append(p.a)
            for slot in p.games:
                if slot.result is not None:
                    score = SCORE[slot.result]
                    points[p.a] += score
                    points[p.b] += 1.0 - score
                    games[p.a].append((p.b, score))
                    games[p.b].append((p.a, 1.0 - score))
            if p.finished and p.winner is not None:
                out_in[p.b if p.winner == p.a else p.a] = rnd.number
    fmt = tm.Format(record.format)
    lines = []
    for pid in ids:
        if fmt is tm.Format.ROUND_ROBIN:
            tiebreak = sum(points[opp] * score for opp, score in games[pid])
        elif fmt is tm.Format.SWISS:
            tiebreak = sum(points[opp] for opp in met[pid])
        else:
            tiebreak = float(out_in.get(pid, record.total_rounds + 1))
        scores = [s for _, s in games[pid]]
        lines.append(
            StandingRecord(
                rank=0,
                player=pid,
                points=points[pid],
                games=len(scores),
                wins=scores.count(1.0),
                losses=scores.count(0.0),
                draws=scores.count(0.5),
                tiebreak=tiebreak,
                eliminated=fmt is tm.Format.SINGLE_ELIMINATION and pid in out_in,
            )
        )

    def key(s: StandingRecord) -> tuple[float, ...]:
        return (-s.tiebreak,) if fmt is tm.Format.SINGLE_ELIMINATION else (-s.points, -s.tiebreak)

    lines.sort(key=lambda s: (key(s), -s.points, seed_rank[s.player]))
    for i, line in enumerate(lines):
        line.rank = lines[i - 1].rank if i and key(lines[i - 1]) == key(line) else i + 1
    return lines
