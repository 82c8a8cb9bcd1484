"""Tournaments played to the end on the Game Service, persisted as JSON blobs.

``tournaments`` decides who meets whom (round robin, Swiss, single elimination); this module plays
each pairing's ``games_per_pairing`` games on the Game Service (hosted seats, lock-step clock,
seats alternating, at most ``max_parallel_games`` at a time), feeds each pairing's result back
(a pairing is won by the participant with more game points; a tie is a draw, and in single
elimination goes to the better seed), and keeps standings and brackets up to date.

Scoring follows the contract: the standings count game points (1 a win, 0.5 a draw, and
``games_per_pairing`` for a bye, in every format), while the pairing state machine sees one result
per pairing (so Swiss score groups are match points). Tie-breaks: Sonneborn-Berger over games for
round robin, Buchholz for Swiss, the round reached for single elimination (ranked by it alone).

**Storage.** A tournament is one JSON document in the blob store, bucket ``replays``, key
``tournaments/<id>.json`` (next to the replays of its games), rewritten after every game; ids start
with the creation time in milliseconds, so listing the keys lists tournaments in creation order.
A tournament is run by the replica that created it; one that replica stops before the end is
stored FAILED ("the matchmaker stopped ...").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from generals_rl.services.common.errors import InvalidArgument, NotFound
from generals_rl.services.matchmaker import tournaments as tm
from generals_rl.services.matchmaker.core import (
    GameEndStatus,
    GameRequest,
    Games,
    MatchmakerConfig,
    Models,
    PlayerRef,
    SeatRequest,
    check_player,
    check_request_id,
)
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.storage import BlobStore, Cache, NotFoundError

log = logging.getLogger(__name__)

BUCKET = "replays"
PREFIX = "tournaments/"
MAX_PARTICIPANTS = 256
MAX_GAMES_PER_PAIRING = 100
MAX_PARALLEL_GAMES = 256
MAX_NAME = 128
_ID = re.compile(r"t[0-9]{13}[0-9a-f]{8}")
_SCORE = {"win": 1.0, "draw": 0.5, "loss": 0.0}


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


def _check_spec(spec: TournamentSpec, default_parallel: int) -> tuple[tm.Format, int, int, int]:
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
                    score = _SCORE[slot.result]
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


# -- the runner -----------------------------------------------------------------------------------


class TournamentError(Exception):
    """A tournament cannot go on (an aborted game)."""


class Tournaments:
    """CreateTournament, GetTournament, ListTournaments, and the tasks that play them."""

    def __init__(
        self,
        blobs: BlobStore,
        cache: Cache,
        games: Games,
        models: Models,
        config: MatchmakerConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.blobs, self.cache, self.games, self.models = blobs, cache, games, models
        self.config = config or MatchmakerConfig()
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def create(self, spec: TournamentSpec) -> TournamentRecord:
        """Validate, store and start a tournament (or return the one of an earlier request with
        the same ``request_id``)."""
        fmt, gpp, swiss_rounds, parallel = _check_spec(spec, self.config.max_parallel_games)
        request_key = None
        if spec.request_id:
            digest = hashlib.sha256(spec.request_id.encode()).hexdigest()
            request_key = f"mm:tournament-request:{digest}"
            earlier = await asyncio.to_thread(self.cache.qlist, request_key)
            if earlier:
                return await self.get(earlier[0])
        for player in spec.participants:
            if player.kind is Kind.MODEL:
                await self.models.check(int(player.id))
        ids = [p.key for p in spec.participants]
        machine = tm.create_tournament(
            fmt, ids, rounds=swiss_rounds or None, draw_rule=tm.DrawRule.HIGHER_SEED
        )
        n = len(ids)
        total = {tm.Format.ROUND_ROBIN: n if n % 2 else n - 1}.get(fmt, getattr(machine, "total_rounds", 0))
        now = self.clock()
        record = TournamentRecord(
            id=f"t{int(now * 1000):013d}{secrets.token_hex(4)}",
            name=spec.name or f"{fmt.value}: {', '.join(ids)}"[:MAX_NAME],
            format=fmt.value,
            status=TournamentStatus.RUNNING,
            participants=ids,
            games_per_pairing=gpp,
            total_rounds=total,
            seed=spec.seed or secrets.randbits(63) | 1,
            unrated=spec.unrated,
            created_at=now,
            max_parallel_games=parallel,
            swiss_rounds=swiss_rounds,
            generator=dict(spec.generator) if spec.generator is not None else None,
            engine=dict(spec.engine) if spec.engine is not None else None,
        )
        record.standings = standings(record)
        if request_key is not None:
            pushed = await asyncio.to_thread(self.cache.qpush, request_key, record.id, ttl=7 * 24 * 3600.0)
            if pushed > 1:  # a concurrent retry won
                winner = (await asyncio.to_thread(self.cache.qlist, request_key))[0]
                return await self.get(winner)
        await self._save(record)
        self._tasks[record.id] = asyncio.create_task(
            self._run(record, machine), name=f"tournament-{record.id}"
        )
        return record

    async def get(self, tournament_id: str) -> TournamentRecord:
        if not tournament_id:
            raise InvalidArgument("tournament_id is required")
        raw = None
        if _ID.fullmatch(tournament_id):
            with contextlib.suppress(NotFoundError):
                raw = await asyncio.to_thread(self.blobs.get, BUCKET, f"{PREFIX}{tournament_id}.json")
        if raw is None:
            raise NotFound(f"unknown tournament {tournament_id[:64]!r}")
        return TournamentRecord.from_json(raw)

    async def list_tournaments(
        self, status: TournamentStatus | None = None, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[TournamentRecord], str, int]:
        """Newest first: (one page, the next page's token or "", how many match)."""
        size = min(page_size or 50, 1000)
        after = _read_token(page_token, status)
        keys = await asyncio.to_thread(self.blobs.list, BUCKET, PREFIX)
        ids = sorted((k.removeprefix(PREFIX).removesuffix(".json") for k in keys), reverse=True)
        ids = [i for i in ids if _ID.fullmatch(i)]
        records: list[TournamentRecord] = []
        total = 0
        for tid in ids:
            if status is None:
                total += 1
                if (after is None or tid < after) and len(records) <= size:
                    records.append(await self.get(tid))
                continue
            record = await self.get(tid)
            if record.status is status:
                total += 1
                if (after is None or tid < after) and len(records) <= size:
                    records.append(record)
        more = len(records) > size
        records = records[:size]
        token = _make_token(records[-1].id, status) if more else ""
        return records, token, total

    async def wait(self, tournament_id: str) -> TournamentRecord:
        """The tournament once its task ended (for tests and one-process runs)."""
        task = self._tasks.get(tournament_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return await self.get(tournament_id)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _save(self, record: TournamentRecord) -> None:
        """Write the record as it is now. Writes of one tournament never overlap: a write whose
        caller is cancelled still finishes before the next one starts (it must not land last)."""
        async with self._locks[record.id]:
            data = record.to_json().encode()
            write = asyncio.ensure_future(
                asyncio.to_thread(self.blobs.put, BUCKET, f"{PREFIX}{record.id}.json", data)
            )
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                await asyncio.wait([write])
                raise

    async def _run(self, record: TournamentRecord, machine: tm.Tournament) -> None:
        limit = asyncio.Semaphore(record.max_parallel_games)
        try:
            while (rnd := machine.next_round()) is not None:
                pairings = self._round(record, machine, rnd)
                record.rounds.append(RoundRecord(rnd.number, [p for _, p in pairings]))
                record.standings = standings(record)
                await self._save(record)
                await _all(
                    self._play(record, machine, game, p, limit) for game, p in pairings if game is not None
                )
                record.rounds[-1].finished = True
            record.status = TournamentStatus.FINISHED
        except asyncio.CancelledError:
            record.status, record.error = TournamentStatus.FAILED, "the matchmaker stopped before the end"
            raise
        except Exception as error:  # a peer failing or a game aborted: keep what was played
            log.warning("tournament %s failed: %s", record.id, error)
            record.status, record.error = TournamentStatus.FAILED, str(error) or type(error).__name__
        finally:
            record.ended_at = self.clock()
            record.standings = standings(record)
            if record.status is TournamentStatus.FINISHED:
                record.winner = record.standings[0].player
            await asyncio.shield(self._save(record))
            self._tasks.pop(record.id, None)

    def _round(
        self, record: TournamentRecord, machine: tm.Tournament, rnd: tm.Round
    ) -> list[tuple[tm.Game | None, PairingRecord]]:
        """The round's pairings in contract order (bracket order for single elimination)."""
        gpp = record.games_per_pairing

        def bye(pid: str) -> PairingRecord:
            return PairingRecord(pid, None, [], float(gpp), 0.0, True, pid)

        def play(game: tm.Game) -> PairingRecord:
            return PairingRecord(game.a, game.b, [GameSlot(a_seat=k % 2) for k in range(gpp)])

        if isinstance(machine, tm.SingleElimination):
            by_table = {g.table: g for g in rnd.games}
            out: list[tuple[tm.Game | None, PairingRecord]] = []
            for k, slot in enumerate(machine.bracket()[rnd.number - 1]):
                if k in by_table:
                    out.append((by_table[k], play(by_table[k])))
                elif slot.a is not None:
                    out.append((None, bye(slot.a)))
            return out
        return [(g, play(g)) for g in rnd.games] + [(None, bye(pid)) for pid in rnd.byes]

    async def _play(
        self,
        record: TournamentRecord,
        machine: tm.Tournament,
        game: tm.Game,
        pairing: PairingRecord,
        limit: asyncio.Semaphore,
    ) -> None:
        """Play a pairing's games, then record its result in the state machine."""
        assert pairing.b is not None
        a, b = pairing.a, pairing.b

        async def one(k: int, slot: GameSlot) -> None:
            seats = (a, b) if slot.a_seat == 0 else (b, a)
            async with limit:
                request = GameRequest(
                    mode="1v1",
                    seats=tuple(SeatRequest(player_ref(p), hosted=True) for p in seats),
                    lock_step=True,
                    generator=record.generator,
                    engine=record.engine,
                    seed=_game_seed(record.seed, game.round, game.table, k),
                    unrated=record.unrated,
                    request_id=f"{record.id}-{game.round}-{game.table}-{k}",
                )
                slot.game_id = await self.games.create(request)
                await self._save(record)
                end = await self.games.result(slot.game_id)
            if end.status is GameEndStatus.ABORTED or len(end.outcomes) != 2:
                raise TournamentError(f"game {slot.game_id} was aborted ({end.reason or 'no reason given'})")
            slot.result = end.outcomes[slot.a_seat]
            score = _SCORE[slot.result]
            pairing.a_points += score
            pairing.b_points += 1.0 - score
            record.standings = standings(record)
            await self._save(record)

        await _all(one(k, slot) for k, slot in enumerate(pairing.games))
        if pairing.a_points > pairing.b_points:
            outcome, pairing.winner = tm.Outcome.WIN, a
        elif pairing.a_points < pairing.b_points:
            outcome, pairing.winner = tm.Outcome.LOSS, b
        else:
            outcome = tm.Outcome.DRAW
            if isinstance(machine, tm.SingleElimination):  # a tie goes to the better seed
                pairing.winner = min(a, b, key=record.participants.index)
        machine.record(game, outcome)
        pairing.finished = True
        record.standings = standings(record)


async def _all(calls: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run ``calls`` together; the first failure cancels the others and is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            for call in calls:
                group.create_task(call)
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None


def _game_seed(seed: int, round: int, table: int, k: int) -> int:
    digest = hashlib.sha256(f"{seed}:{round}:{table}:{k}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1) or 1


def _make_token(after: str, status: TournamentStatus | None) -> str:
    data = json.dumps({"after": after, "status": status.value if status else ""}).encode()
    return base64.urlsafe_b64encode(data).decode()


def _read_token(token: str, status: TournamentStatus | None) -> str | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        after, filtered = data["after"], data["status"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument("page_token: not a token this server gave") from None
    if not isinstance(after, str) or not _ID.fullmatch(after) or filtered != (status.value if status else ""):
        raise InvalidArgument("page_token: not a token of this listing (same status filter needed)")
    return after
