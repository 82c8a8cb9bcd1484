"""The Game Service's domain: ``GameManager`` holds the live seated games and plays their ticks.

Plain synchronous Python with no gRPC and no I/O: storage and the Elo report happen in the
``GameListener`` the manager tells about games (``GameHost`` in ``host``), and time comes from
an injected ``Clock``, so tests drive real-time games with a ``ManualClock`` and no sleeping.

Clocks (game.proto ``Clock``):

- real time: a tick every 0.5 s / speed, whether or not moves were queued. ``advance()`` plays
  every tick that is due (at most ``max_catch_up`` at once; a server that fell further behind
  skips ahead instead of bursting ticks).
- lock-step: a tick as soon as every live seat that is not hosted has a move queued (0 passes).
  ``submit_moves`` plays the ticks it makes ready at once, up to ``max_ticks_per_call``;
  ``advance()`` plays on (a game of hosted bots only is always ready and runs as fast as the
  engine goes, ``max_ticks_per_call`` ticks per ``advance`` so other games keep their turn).

Leaving (RULES 14): a seat that surrenders, or that has no open view stream and sends no moves
for ``afk_ticks`` x 0.5 s / speed seconds (``afk_ticks`` ticks of a real-time game; the same wall
time in a lock-step game, which then stops waiting for it), leaves in the next tick: after that
tick's moves and before growth it is eliminated and its land turns neutral (``step(leave=...)``).
A game still pending after ``pending_timeout_s``, or a lock-step game without a tick for
``idle_timeout_s``, is aborted.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from generals_rl.services.game.clocks import Clock, SystemClock
from generals_rl.services.game.domain import (
    MODES,
    STATUSES,
    GameFilter,
    GameInfo,
    GamePage,
    GameSpec,
    JoinResult,
    MovesQueued,
    PlayerRef,
)
from generals_rl.services.game.requests import (
    DEFAULT_PAGE_SIZE,
    MAX_DISPLAY_NAME,
    MAX_ID,
    MAX_PAGE_SIZE,
    build_room,
    check_player,
    joiner_player,
    read_page_token,
)
from generals_rl.services.game.requests import page_token as make_page_token
from generals_rl.services.game.rooms import EndedGame, Room, Seat, ViewFeed
from generals_rl.services.game.spectators import MAX_SPECTATORS, WATCH_BUFFER, SpectatorFeed
from generals_rl.training.networks import PolicyNetwork

__all__ = ["GameListener", "GameManager", "GameServiceConfig", "check_player", "joiner_player"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GameServiceConfig:
    """Limits and timers of the Game Service.

    Attributes:
        pending_timeout_s: a game not filled within this many seconds is aborted.
        idle_timeout_s: a lock-step game without a tick for this long is aborted.
        batch_idle_timeout_s: a StepBatch stream without a request for this long ends.
        max_live_games: most pending and running seated games at once.
        max_batch_games: most games one StepBatch stream may hold.
        max_message_bytes: largest message the server sends (StepBatch responses are checked).
        keep_finished: finished games kept in memory for GetGame and ListGames.
        max_ticks_per_call: lock-step ticks one game plays per ``submit_moves`` / ``advance``.
        max_catch_up: real-time ticks one game may play per ``advance`` when the server is late.
        tick_budget_s: wall time a lock-step game may take per ``advance`` (past its first tick)
            before the other games have their turn: the event loop stays responsive while hosted
            model versions think.
        active_ttl_s: expiry of the active-games entry in the cache, refreshed at a third of it.
        model_cache_bytes: memory for the networks of hosted model versions (least recently used
            out first).
        model_timeout_s: bound of each call to the Model Service when a model seat is hosted.
    """

    pending_timeout_s: float = 300.0
    idle_timeout_s: float = 300.0
    batch_idle_timeout_s: float = 600.0
    max_live_games: int = 10_000
    max_batch_games: int = 65_536
    max_message_bytes: int = 64 * 1024 * 1024
    keep_finished: int = 1000
    max_ticks_per_call: int = 64
    max_catch_up: int = 4
    tick_budget_s: float = 0.02
    active_ttl_s: float = 60.0
    model_cache_bytes: int = 256 * 1024 * 1024
    model_timeout_s: float = 5.0


class GameListener(Protocol):
    """What the manager tells about games: changes worth listing (not every tick) and endings."""

    def game_changed(self, info: GameInfo) -> None: ...

    def game_ended(self, ended: EndedGame) -> None: ...


class _NoListener:
    def game_changed(self, info: GameInfo) -> None:
        return None

    def game_ended(self, ended: EndedGame) -> None:
        return None


class GameManager:
    """The live seated games of one server (module docstring)."""

    def __init__(
        self,
        config: GameServiceConfig | None = None,
        clock: Clock | None = None,
        listener: GameListener | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config or GameServiceConfig()
        self.clock: Clock = clock or SystemClock()
        self.listener: GameListener = listener or _NoListener()
        self.wake = wake
        self._live: dict[str, Room] = {}
        self._done: OrderedDict[str, Room] = OrderedDict()
        self._requests: dict[str, str] = {}

    # -- creating and joining -------------------------------------------------------------------

    def create_game(self, spec: GameSpec, networks: Mapping[int, PolicyNetwork] | None = None) -> GameInfo:
        """A new PENDING game (RUNNING at once when every seat is hosted); a known ``request_id``
        returns the game its first call created. Hosted model seats play with ``networks``."""
        known = self.known_request(spec.request_id)
        if known is not None:
            return known
        return self.add_game(self.prepare_game(spec, networks), spec.request_id)

    def known_request(self, request_id: str) -> GameInfo | None:
        """The game an earlier CreateGame with this idempotency key created, if any."""
        if len(request_id) > MAX_ID:
            raise InvalidArgument(f"request_id: at most {MAX_ID} characters, got {len(request_id)}")
        game_id = self._requests.get(request_id) if request_id else None
        if game_id is not None and (game_id in self._live or game_id in self._done):
            return self._room(game_id).info()
        return None

    def prepare_game(self, spec: GameSpec, networks: Mapping[int, PolicyNetwork] | None = None) -> Room:
        """Check a request and build its game without registering it (safe in a worker thread:
        drawing or replaying a map can take a while). Hosted model seats play with ``networks``
        (by version)."""
        return build_room(spec, self.clock, networks)

    def add_game(self, room: Room, request_id: str = "") -> GameInfo:
        """Register a prepared game (and start it when every seat is hosted)."""
        known = self.known_request(request_id)
        if known is not None:
            return known
        if len(self._live) >= self.config.max_live_games:
            raise ResourceExhausted(f"the server holds {len(self._live)} live games, its limit")
        self._live[room.game_id] = room
        if request_id:
            self._requests[request_id] = room.game_id
        if room.full:
            room.start()
            self.wake()
        self.listener.game_changed(room.info())
        return room.info()

    def join_game(
        self,
        game_id: str,
        player: PlayerRef,
        *,
        hosted: bool = False,
        seat: int | None = None,
        display_name: str = "",
        network: PolicyNetwork | None = None,
    ) -> JoinResult:
        """Take a seat (or get one's own seat back: a reconnect) and its secret token; a hosted
        model version plays with ``network``."""
        room = self._room(game_id)
        check_player(player, "player")
        if len(display_name) > MAX_DISPLAY_NAME or not display_name.isprintable():
            raise InvalidArgument(f"display_name: at most {MAX_DISPLAY_NAME} printable characters")
        if seat is not None and not 0 <= seat < len(room.seats):
            raise InvalidArgument(f"seat: game {game_id!r} has seats 0..{len(room.seats) - 1}, got {seat}")
        if hosted and player.kind == "human":
            raise InvalidArgument("hosted: humans play their own seats")
        if hosted and player.kind == "model" and network is None:
            raise Unavailable(
                f"hosted: model version {player.id} is not loaded: this server cannot host model versions "
                "without a Model Service; join as a remote client"
            )
        if room.over:
            raise FailedPrecondition(f"game {game_id!r} is over ({room.status})")
        mine = [s for s in room.seats if s.joined and s.player == player and not s.hosted]
        if seat is not None:
            mine = [s for s in mine if s.index == seat]
        free = [
            s
            for s in room.seats
            if not s.joined
            and (s.reserved is None or s.reserved == player)
            and (seat is None or s.index == seat)
        ]
        if player.kind == "human" and mine:
            return self._rejoin(room, mine[0])
        if not free:
            if mine:
                return self._rejoin(room, mine[0])
            raise FailedPrecondition(f"game {game_id!r} has no free seat for {player.key}")
        chosen = next((s for s in free if s.reserved == player), free[0])
        room.take_seat(chosen, player, display_name, hosted, network)
        if room.full:
            room.start()
        self.listener.game_changed(room.info())
        self.wake()
        return JoinResult(player_token=chosen.token, seat=chosen.index, game=room.info())

    @staticmethod
    def _rejoin(room: Room, seat: Seat) -> JoinResult:
        return JoinResult(player_token=seat.token, seat=seat.index, game=room.info())

    # -- playing --------------------------------------------------------------------------------

    def watch(self, game_id: str, token: str, wake: Callable[[], None] = lambda: None) -> ViewFeed:
        """Open a view feed for the token's seat (the seat counts as connected while it is open)."""
        room = self._room(game_id)
        seat = room.seat_for(token)
        feed = ViewFeed(game_id, seat.index, wake)
        room.watch(seat, feed)
        return feed

    def unwatch(self, feed: ViewFeed) -> None:
        room = self._live.get(feed.game_id) or self._done.get(feed.game_id)
        if room is not None:
            room.unwatch(room.seats[feed.seat], feed)
            self.wake()

    def spectate(
        self, game_id: str, fog_of: int | None = None, wake: Callable[[], None] = lambda: None
    ) -> SpectatorFeed:
        """Open a spectator's feed: the whole board (``fog_of`` None or -1) or what seat ``fog_of``
        sees. The game does not know or wait for its spectators (``spectators``)."""
        room = self._room(game_id)
        if fog_of == -1:
            fog_of = None
        if fog_of is not None and not (type(fog_of) is int and 0 <= fog_of < len(room.seats)):
            raise InvalidArgument(
                f"fog_of: -1 (no fog) or a seat of game {game_id!r}, 0..{len(room.seats) - 1}; "
                f"got {fog_of!r:.40}"
            )
        if len(room.spectators) >= MAX_SPECTATORS:
            raise ResourceExhausted(f"game {game_id!r} has {len(room.spectators)} spectators, its limit")
        feed = SpectatorFeed(game_id, fog_of, wake, WATCH_BUFFER)
        room.add_spectator(feed)
        return feed

    def unspectate(self, feed: SpectatorFeed) -> None:
        room = self._live.get(feed.game_id) or self._done.get(feed.game_id)
        if room is not None:
            room.spectators.discard(feed)

    def submit_moves(self, game_id: str, token: str, actions: list[int]) -> MovesQueued:
        room = self._room(game_id)
        seat = room.seat_for(token)
        queued = room.submit(seat, list(actions))
        self._play_ready(room)
        return queued

    def clear_moves(self, game_id: str, token: str) -> int:
        room = self._room(game_id)
        return room.clear(room.seat_for(token))

    def surrender(self, game_id: str, token: str) -> int:
        room = self._room(game_id)
        tick = room.surrender(room.seat_for(token))
        self._play_ready(room)
        self.wake()
        return tick

    def _play_ready(self, room: Room, budget_s: float | None = None) -> None:
        """Lock-step: play the ticks the game is ready for (a bounded number, and with ``budget_s``
        at most that much wall time after the first tick; ``advance`` goes on)."""
        if room.clock_kind != "lock_step":
            return
        start = time.perf_counter()
        for _ in range(self.config.max_ticks_per_call):
            if not room.ready():
                break
            room.play_tick()
            if budget_s is not None and time.perf_counter() - start >= budget_s:
                break
        if room.over:
            self._ended(room)
        elif room.ready():
            self.wake()

    def advance(self) -> float:
        """Play every tick that is due, mark AFK seats, abort stale games; seconds until the next
        thing is due (0 when a lock-step game is still ready)."""
        now = self.clock.monotonic()
        deadline = now + 60.0
        for room in list(self._live.values()):
            try:
                deadline = min(deadline, self._advance_room(room, now))
            except Exception:
                log.exception("game %s failed in a tick; aborting it", room.game_id)
                room.abort()
            if room.over:
                self._ended(room)
        return max(0.0, deadline - now)

    def _advance_room(self, room: Room, now: float) -> float:
        """Advance one game to ``now``; when it next needs attention (monotonic seconds)."""
        config = self.config
        deadline = now + 60.0
        if room.status == "pending":
            if now - room.created_mono >= config.pending_timeout_s:
                room.abort()
            else:
                deadline = min(deadline, room.created_mono + config.pending_timeout_s)
        elif room.clock_kind == "real_time":
            played = 0
            while room.running and room.next_due <= now and played < config.max_catch_up:
                room.mark_afk(now)
                room.play_tick()
                played += 1
            if room.running:
                if room.next_due <= now:
                    room.next_due = now + room.interval  # too late: skip ahead
                deadline = min(deadline, room.next_due)
        else:
            room.mark_afk(now)
            self._play_ready(room, config.tick_budget_s)
            if room.running:
                if room.ready():
                    deadline = now
                elif now - room.last_tick_mono >= config.idle_timeout_s:
                    room.abort()
                else:
                    deadline = min(deadline, room.last_tick_mono + config.idle_timeout_s)
                    afk = room.afk_deadline()
                    if afk is not None:
                        deadline = min(deadline, afk)
        return deadline

    def abort_all(self) -> None:
        """Abort every live game (server shutdown)."""
        for room in list(self._live.values()):
            room.abort()
            self._ended(room)

    def _ended(self, room: Room) -> None:
        if self._live.pop(room.game_id, None) is None:
            return
        self._done[room.game_id] = room
        while len(self._done) > self.config.keep_finished:
            self._done.popitem(last=False)
        self.listener.game_changed(room.info())
        if room.ended is not None:
            self.listener.game_ended(room.ended)

    # -- reading --------------------------------------------------------------------------------

    def _room(self, game_id: str) -> Room:
        room = self._live.get(game_id) if isinstance(game_id, str) else None
        if room is None:
            room = self._done.get(game_id) if isinstance(game_id, str) else None
        if room is None:
            raise NotFound(f"unknown game {game_id!r:.80}")
        return room

    def get_game(self, game_id: str) -> GameInfo:
        return self._room(game_id).info()

    def live_games(self) -> list[GameInfo]:
        """Pending and running games."""
        return [room.info() for room in self._live.values()]

    def list_games(self, filter: GameFilter, page_size: int = 0, page_token: str = "") -> GamePage:
        """Games this server holds (live, and the last finished ones), newest first."""
        if filter.status is not None and filter.status not in STATUSES:
            raise InvalidArgument(f"status: unknown status {filter.status!r}")
        if filter.mode is not None and filter.mode not in MODES:
            raise InvalidArgument(f"mode: unknown mode {filter.mode!r}")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        fingerprint = hashlib.sha1(repr(filter).encode()).hexdigest()[:12]
        offset = read_page_token(page_token, fingerprint)
        rooms = sorted(
            [*self._live.values(), *self._done.values()],
            key=lambda r: (r.created_at, r.game_id),
            reverse=True,
        )
        matching = [
            r
            for r in rooms
            if (filter.status is None or r.status == filter.status)
            and (filter.mode is None or r.mode == filter.mode)
            and (filter.player is None or any(s.player == filter.player for s in r.seats))
        ]
        page = matching[offset : offset + size]
        end = offset + len(page)
        token = make_page_token(end, fingerprint) if end < len(matching) else ""
        return GamePage(games=tuple(r.info() for r in page), next_page_token=token, total_size=len(matching))
