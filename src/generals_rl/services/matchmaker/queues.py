"""Matchmaking queues in the cache seam: FindMatch, Cancel, WatchTicket, ListQueues and the pairing step.

Tickets live in the cache seam (``tickets``: keys, and claims by atomic ``HDEL``), so several
matchmaker replicas can share the queues.

**Pairing.** ``step`` reads each queue once, expires tickets past their deadline, forms matches
with ``pairing.pair`` (windows that widen with the time waited; a player never meets itself) in
passes that honour ``opponent_kinds``, fills with hosted bots the tickets that asked for bots,
and starts each match on the Game Service (CreateGame, then JoinGame for every seat that is not
hosted). ``run`` repeats it every ``interval_s``, at once after a FindMatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import random
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass

from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
)
from generals_rl.services.matchmaker.core import (
    KINDS,
    Games,
    MatchInfo,
    MatchmakerConfig,
    Models,
    PlayerRef,
    Ratings,
    SeatRequest,
    Sessions,
    TicketState,
    TicketStatus,
    check_player,
    check_request_id,
    game_mode,
    queue_name,
)
from generals_rl.services.matchmaker.core import GameRequest as NewGame
from generals_rl.services.matchmaker.pairing import Kind, mode_size, pair
from generals_rl.services.matchmaker.pairing import Ticket as PairingTicket
from generals_rl.services.matchmaker.tickets import TicketStore
from generals_rl.storage import Cache

log = logging.getLogger(__name__)

MAX_WAIT_S = 3600
DEFAULT_WAIT_S = 600


@dataclass(frozen=True)
class FindMatch:
    """A FindMatch request: ``player`` for bots and models, ``session_token`` for humans."""

    player: PlayerRef | None = None
    session_token: str = ""
    hosted: bool = False
    mode: str = "1v1"
    num_players: int = 0
    opponent_kinds: tuple[str, ...] = ()
    max_wait_s: int = 0
    request_id: str = ""


@dataclass(frozen=True)
class QueueInfo:
    """One queue's state (ListQueues)."""

    name: str
    waiting: int
    longest_wait_s: float
    median_wait_s: float


Seat = TicketState | PlayerRef
"""A planned seat: a ticket, or a bot the Game Service hosts to fill the game."""


def _check_ticket_id(ticket_id: str) -> str:
    if not ticket_id:
        raise InvalidArgument("ticket_id is required")
    if len(ticket_id) > 64 or not all(c.isalnum() or c in "-_" for c in ticket_id) or not ticket_id.isascii():
        raise NotFound(f"unknown ticket {ticket_id[:64]!r}")
    return ticket_id


class Queues:
    """FindMatch, Cancel, WatchTicket, ListQueues and the pairing loop (module docstring)."""

    def __init__(
        self,
        cache: Cache,
        games: Games,
        ratings: Ratings,
        models: Models,
        sessions: Sessions,
        config: MatchmakerConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or MatchmakerConfig()
        self.store = TicketStore(cache, self.config.retention_s)
        self.games, self.ratings, self.models, self.sessions = games, ratings, models, sessions
        self.clock = clock
        self._rng = random.Random(self.config.seed)
        self._wake = asyncio.Event()
        self._changed: dict[str, asyncio.Event] = {}
        self._counts: dict[str, int] = {}
        self._bot_ratings: dict[str, tuple[float, dict[str, float]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- requests ---------------------------------------------------------------------------------
    async def find_match(self, request: FindMatch) -> TicketState:
        """Queue a ticket (module docstring); errors as the FindMatch contract lists them."""
        queue = queue_name(request.mode, request.num_players)
        kinds = _opponent_kinds(request.opponent_kinds)
        wait = request.max_wait_s or DEFAULT_WAIT_S
        if not 1 <= wait <= MAX_WAIT_S:
            raise InvalidArgument(f"max_wait_s: at most {MAX_WAIT_S} s, got {request.max_wait_s}")
        check_request_id(request.request_id)
        player = await self._player(request)
        request_key = TicketStore.request_key(player.key, request.request_id) if request.request_id else None
        if request_key is not None:
            earlier = await asyncio.to_thread(self.store.requested, request_key)
            if earlier is not None:
                return earlier
        if self._counts.get(queue, 0) >= self.config.max_waiting:
            raise ResourceExhausted(f"the {queue} queue is full ({self.config.max_waiting} tickets wait)")
        (rating,) = await self.ratings.ratings([player], game_mode(queue))
        ticket = TicketState(
            id=secrets.token_urlsafe(16),
            player=player,
            queue=queue,
            rating=float(rating),
            created_at=self.clock(),
            max_wait_s=float(wait),
            hosted=request.hosted,
            opponent_kinds=kinds,
            session_token=request.session_token if player.kind is Kind.HUMAN else "",
        )
        stored = await asyncio.to_thread(self.store.add, ticket, request_key)
        if stored.id == ticket.id:
            self._counts[queue] = self._counts.get(queue, 0) + 1
            self._wake.set()
        return stored

    async def _player(self, request: FindMatch) -> PlayerRef:
        if request.session_token:
            if request.player is not None:
                raise InvalidArgument("player: give a session token, a bot or a model version, not several")
            if request.hosted:
                raise InvalidArgument("hosted: the Game Service cannot play a human's seat")
            user = await self.sessions.user(request.session_token)
            if user is None:
                raise Unauthenticated("unknown or expired session token")
            return PlayerRef(Kind.HUMAN, user)
        if request.player is None:
            raise InvalidArgument("player is required: a session token, a bot name or a model version")
        player = check_player(request.player)
        if player.kind is Kind.HUMAN:
            raise InvalidArgument("player: humans queue with their session token")
        if player.kind is Kind.MODEL:
            await self.models.check(int(player.id))
        return player

    async def get(self, ticket_id: str) -> TicketState:
        ticket = await asyncio.to_thread(self.store.get, _check_ticket_id(ticket_id))
        if ticket is None:
            raise NotFound(f"unknown ticket {ticket_id!r}")
        return ticket

    async def cancel(self, ticket_id: str) -> TicketState:
        """CANCELLED unless already final; FAILED_PRECONDITION once MATCHED (or while a pairing
        step holds it for longer than ``cancel_wait_s``)."""
        deadline = time.monotonic() + self.config.cancel_wait_s
        while True:
            ticket = await self.get(ticket_id)
            if ticket.status is TicketStatus.MATCHED:
                game = ticket.match.game_id if ticket.match is not None else "?"
                raise FailedPrecondition(f"ticket {ticket_id!r} is already matched (game {game})")
            if ticket.final:
                return ticket
            if await asyncio.to_thread(self.store.claim, ticket.queue, [ticket.id]):
                return await self._finish(ticket, TicketStatus.CANCELLED)
            if time.monotonic() >= deadline:
                raise FailedPrecondition(f"ticket {ticket_id!r} is being matched right now; try again")
            await asyncio.sleep(0.02)

    async def watch(self, ticket_id: str) -> AsyncIterator[TicketState]:
        """The ticket now, then on every change and every ``heartbeat_s`` while queued; ends
        after a final state."""
        ticket = await self.get(ticket_id)
        yield ticket
        sent_at = time.monotonic()
        while not ticket.final:
            changed = self._changed.setdefault(ticket.id, asyncio.Event())
            await _wait(changed, self.config.watch_poll_s)
            latest = await asyncio.to_thread(self.store.get, ticket.id)
            if latest is None:  # its retention ran out: nothing more will happen to it
                return
            if latest.status is not ticket.status or time.monotonic() - sent_at >= self.config.heartbeat_s:
                yield latest
                sent_at = time.monotonic()
            ticket = latest

    async def list_queues(self) -> list[QueueInfo]:
        now = self.clock()

        def read() -> list[QueueInfo]:
            infos = []
            for name in self.store.queues():
                waiting = self.store.waiting(name)
                waits = self.store.recent_waits(name)
                infos.append(
                    QueueInfo(
                        name=name,
                        waiting=len(waiting),
                        longest_wait_s=max((t.waited(now) for t in waiting), default=0.0),
                        median_wait_s=statistics.median(waits) if waits else 0.0,
                    )
                )
            return infos

        return await asyncio.to_thread(read)

    # -- the pairing step -------------------------------------------------------------------------
    async def step(self, now: float | None = None) -> list[tuple[TicketState, ...]]:
        """One pass over every queue (module docstring); the tickets matched, one tuple a game."""
        now = self.clock() if now is None else now
        started: list[tuple[TicketState, ...]] = []
        limit = asyncio.Semaphore(self.config.max_parallel_creates)
        for queue in await asyncio.to_thread(self.store.queues):
            waiting = await asyncio.to_thread(self.store.waiting, queue)
            self._counts[queue] = len(waiting)
            live = [t for t in waiting if now < t.deadline()]
            for ticket in waiting:
                if now >= ticket.deadline():
                    reason = f"no match within {ticket.max_wait_s:g} s"
                    if await asyncio.to_thread(self.store.claim, queue, [ticket.id]):
                        await self._finish(ticket, TicketStatus.EXPIRED, now=ticket.deadline(), reason=reason)
            plans = self.plan(live, queue, now)
            taken = {s.id for plan in plans for s in plan if isinstance(s, TicketState)}
            plans += await self._bot_fills([t for t in live if t.id not in taken], queue, now)
            results = await asyncio.gather(*(self._start_limited(limit, plan, queue) for plan in plans))
            for matched in results:
                if matched is not None:
                    started.append(matched)
                    self._counts[queue] -= len(matched)
        return started

    def plan(self, tickets: Sequence[TicketState], queue: str, now: float) -> list[tuple[Seat, ...]]:
        """Matches among ``tickets`` in seat order, honouring each ticket's ``opponent_kinds``.

        Pass 1 pairs the tickets that accept every kind. Tickets that restrict their opponents
        get further passes, each over a set of tickets that all accept each other's kinds: in 1v1
        one pass per kind (tickets of kind k that accept k) and one per pair of kinds (kind k1
        accepting k2, or kind k2 accepting k1; ``player_id`` is the kind there, so that two tickets
        of the same kind cannot meet); in FFA one per set K of kinds, largest first (tickets of a
        kind in K that accept all of K)."""
        size = mode_size(queue)
        seed = self._rng.getrandbits(32)
        taken: set[str] = set()
        plans: list[tuple[Seat, ...]] = []

        def run(eligible: list[TicketState], by_kind: bool = False) -> None:
            free = [t for t in eligible if t.id not in taken]
            if len(free) < size:
                return
            byid = {t.id: t for t in free}
            pts = [
                PairingTicket(
                    t.id,
                    t.player.kind if by_kind else t.player.key,
                    t.player.kind,
                    queue,
                    t.rating,
                    t.created_at,
                )
                for t in free
            ]
            for match in pair(pts, now, self.config.policy, seed).matches:
                plans.append(tuple(byid[m.id] for m in match.tickets))
                taken.update(m.id for m in match.tickets)

        run([t for t in tickets if not t.opponent_kinds])
        if not any(t.opponent_kinds and t.id not in taken for t in tickets):
            return plans
        if size == 2:
            for k in Kind:
                run([t for t in tickets if t.player.kind is k and k in t.accepts])
            for k1, k2 in itertools.combinations(list(Kind), 2):
                cross = [
                    t
                    for t in tickets
                    if (t.player.kind is k1 and k2 in t.accepts) or (t.player.kind is k2 and k1 in t.accepts)
                ]
                run(cross, by_kind=True)
        else:
            for n in range(len(KINDS), 0, -1):
                for ks in itertools.combinations(sorted(KINDS), n):
                    group = frozenset(ks)
                    run([t for t in tickets if t.player.kind in group and group <= t.accepts])
        return plans

    async def _bot_fills(
        self, tickets: Sequence[TicketState], queue: str, now: float
    ) -> list[tuple[Seat, ...]]:
        """Hosted bots for tickets that asked for them: at once when they want bots only, after
        ``bot_fill_after_s`` when bots are one kind among several."""
        wanting = [
            t
            for t in tickets
            if Kind.BOT in t.opponent_kinds
            and (t.opponent_kinds == {Kind.BOT} or t.waited(now) >= self.config.bot_fill_after_s)
        ]
        if not wanting:
            return []
        try:
            ratings = await self._bot_ratings_for(game_mode(queue), now)
        except ServiceError as error:
            log.warning("cannot fill with bots now: %s", error)
            return []
        plans: list[tuple[Seat, ...]] = []
        for ticket in wanting:
            bots = [name for name in ratings if PlayerRef(Kind.BOT, name) != ticket.player]
            bots.sort(key=lambda name: (abs(ratings[name] - ticket.rating), name))
            if len(bots) < ticket.num_players - 1:
                continue
            seats: list[Seat] = [ticket, *(PlayerRef(Kind.BOT, b) for b in bots[: ticket.num_players - 1])]
            self._rng.shuffle(seats)
            plans.append(tuple(seats))
        return plans

    async def _bot_ratings_for(self, mode: str, now: float) -> dict[str, float]:
        cached = self._bot_ratings.get(mode)
        if cached is None or now - cached[0] > 60.0:
            bots = [PlayerRef(Kind.BOT, name) for name in self.config.bots]
            values = await self.ratings.ratings(bots, mode)
            cached = (now, {b.id: float(r) for b, r in zip(bots, values, strict=True)})
            self._bot_ratings[mode] = cached
        return cached[1]

    async def _start_limited(
        self, limit: asyncio.Semaphore, plan: tuple[Seat, ...], queue: str
    ) -> tuple[TicketState, ...] | None:
        async with limit:
            return await self._start(plan, queue)

    async def _start(self, plan: tuple[Seat, ...], queue: str) -> tuple[TicketState, ...] | None:
        """Claim the plan's tickets, create and join the game, tell every ticket its seat."""
        tickets = [s for s in plan if isinstance(s, TicketState)]
        claimed = set(await asyncio.to_thread(self.store.claim, queue, [t.id for t in tickets]))
        if len(claimed) < len(tickets):  # one was cancelled or taken meanwhile: the rest wait on
            await asyncio.to_thread(self.store.release, [t for t in tickets if t.id in claimed])
            return None
        seats = tuple(
            SeatRequest(s, hosted=True)
            if isinstance(s, PlayerRef)
            else SeatRequest(s.player, hosted=s.hosted, session_token=s.session_token)
            for s in plan
        )
        request = NewGame(mode=game_mode(queue), seats=seats, request_id=f"mm-{tickets[0].id}")
        tokens: dict[int, str] = {}
        failed: dict[int, ServiceError] = {}
        try:
            game_id = await self.games.create(request)
            for seat, (spec, ticket) in enumerate(zip(seats, plan, strict=True)):
                if isinstance(ticket, TicketState) and not spec.hosted:
                    try:
                        tokens[seat] = await self.games.join(game_id, seat, spec)
                    except ServiceError as error:
                        failed[seat] = error
        except ServiceError as error:
            log.warning("cannot create a %s game: %s; its tickets wait on", queue, error)
            await asyncio.to_thread(self.store.release, tickets)
            return None
        if failed:
            log.warning("cannot join game %s: %s", game_id, "; ".join(map(str, failed.values())))
            for seat, ticket in enumerate(plan):
                if not isinstance(ticket, TicketState):
                    continue
                if isinstance(failed.get(seat), Unauthenticated):
                    await self._finish(ticket, TicketStatus.EXPIRED, reason="the session expired")
                else:
                    await asyncio.to_thread(self.store.release, [ticket])
            return None
        players = tuple(s.player for s in seats)
        now = self.clock()
        matched = []
        for seat, ticket in enumerate(plan):
            if isinstance(ticket, TicketState):
                info = MatchInfo(game_id, self.games.address, seat, tokens.get(seat, ""), players)
                end = max(now, ticket.created_at)
                matched.append(await self._finish(ticket, TicketStatus.MATCHED, now=end, match=info))
                await asyncio.to_thread(self.store.record_wait, queue, matched[-1].waited(now))
        return tuple(matched)

    async def _finish(
        self,
        ticket: TicketState,
        status: TicketStatus,
        *,
        now: float | None = None,
        reason: str = "",
        match: MatchInfo | None = None,
    ) -> TicketState:
        final = dataclasses.replace(
            ticket, status=status, ended_at=self.clock() if now is None else now, reason=reason, match=match
        )
        await asyncio.to_thread(self.store.finish, final)
        changed = self._changed.pop(ticket.id, None)
        if changed is not None:
            changed.set()
        return final

    # -- the loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """Pair every ``interval_s`` (at once after a FindMatch) until cancelled."""
        while not self._stopping:
            await _wait(self._wake, self.config.interval_s)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.step()
            except Exception:  # a storage hiccup must not end the loop
                log.exception("pairing step failed")

    async def start(self) -> None:
        self._stopping = False
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="matchmaker-pairing")

    async def close(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _wait(event: asyncio.Event, timeout_s: float) -> None:
    """Until ``event`` is set or ``timeout_s`` passed. ``asyncio.timeout``, not ``wait_for``: on
    Python 3.11 ``wait_for`` can swallow a cancellation that arrives as the event is set, and a
    loop that misses its cancellation never stops."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()


def _opponent_kinds(kinds: Iterable[str]) -> frozenset[Kind]:
    """Validated opponent kinds; every kind listed means the same as none."""
    parsed = set()
    for kind in kinds:
        try:
            parsed.add(Kind(kind))
        except ValueError:
            raise InvalidArgument(f"opponent_kinds: expected human, bot or model, got {kind!r}") from None
    return frozenset() if parsed == KINDS else frozenset(parsed)
