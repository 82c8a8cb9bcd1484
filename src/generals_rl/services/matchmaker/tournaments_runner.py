"""Tournaments played to the end on the Game Service, persisted as JSON blobs.

``tournaments`` decides who meets whom (round robin, Swiss, single elimination); this module plays
each pairing's ``games_per_pairing`` games on the Game Service (hosted seats, lock-step clock,
seats alternating, at most ``max_parallel_games`` at a time), feeds each pairing's result back
(a pairing is won by the participant with more game points; a tie is a draw, and in single
elimination goes to the better seed), and keeps standings and brackets up to date
(``tournament_records``).

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
import hashlib
import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from generals_rl.services.common.errors import InvalidArgument, NotFound
from generals_rl.services.matchmaker import tournaments as tm
from generals_rl.services.matchmaker.core import (
    GameEndStatus,
    GameRequest,
    Games,
    MatchmakerConfig,
    Models,
    SeatRequest,
)
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.services.matchmaker.tournament_records import (
    MAX_NAME,
    SCORE,
    TOURNAMENT_ID,
    GameSlot,
    PairingRecord,
    RoundRecord,
    TournamentRecord,
    TournamentSpec,
    TournamentStatus,
    check_spec,
    player_ref,
    standings,
)
from generals_rl.storage import BlobStore, Cache, NotFoundError

log = logging.getLogger(__name__)

BUCKET = "replays"
PREFIX = "tournaments/"


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
        fmt, gpp, swiss_rounds, parallel = check_spec(spec, self.config.max_parallel_games)
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
        if TOURNAMENT_ID.fullmatch(tournament_id):
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
        ids = [i for i in ids if TOURNAMENT_ID.fullmatch(i)]
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
            score = SCORE[slot.result]
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
    if (
        not isinstance(after, str)
        or not TOURNAMENT_ID.fullmatch(after)
        or filtered != (status.value if status else "")
    ):
        raise InvalidArgument("page_token: not a token of this listing (same status filter needed)")
    return after
