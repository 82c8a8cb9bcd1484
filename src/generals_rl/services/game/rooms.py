"""One seated game: its seats, move queues, view feeds and the engine state, tick by tick.

A ``Room`` is driven by ``GameManager`` (core): joins fill its seats, ``start`` runs it, and
``play_tick`` plays one tick: every hosted seat's bot or model version acts on its own view (the
seats of one model version in one batch), every other seat plays the first playable move of its
queue (``queues``), seats that surrendered or went AFK leave after the moves and before growth
(``engine.step(leave=...)``, RULES 14), and every open view feed receives the seat's new view.
Only that seat's view: a feed never sees another seat's observation. Spectators (WatchGame) get
frames of the whole board or of one seat's fog, without its queue (``spectators``). The tick is
logged by a
``ReplayRecorder`` so the finished game can be stored as a ``.gioreplay`` that replays to the
same final state.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import torch

from generals_rl.agents import Agent, make_agent
from generals_rl.agents.neural import NeuralAgent
from generals_rl.game.engine import EngineConfig, step
from generals_rl.game.observations import Observation, observe
from generals_rl.game.replay import ReplayRecorder
from generals_rl.game.replay_format import Replay
from generals_rl.services.common.errors import FailedPrecondition, PermissionDenied, Unavailable
from generals_rl.services.game.boards import Board
from generals_rl.services.game.clocks import Clock, tick_interval
from generals_rl.services.game.domain import (
    BoardSpec,
    ClockKind,
    EngineOptions,
    GameInfo,
    GameResult,
    Mode,
    MovesQueued,
    PlayerRef,
    SeatInfo,
    SeatView,
    SpectatorFrame,
    Status,
)
from generals_rl.services.game.queues import MoveQueue
from generals_rl.services.game.results import build_result, end_reason
from generals_rl.services.game.spectators import SpectatorFeed, full_board
from generals_rl.training.networks import PolicyNetwork

MAX_BUFFERED_VIEWS = 4096
"""Views a feed holds for a client that does not read (beyond it the oldest go, to bound memory)."""


class ViewFeed:
    """The views waiting to be sent on one open StreamView of one seat.

    Lock-step games keep every view (none is skipped, up to ``MAX_BUFFERED_VIEWS`` unread);
    real-time games keep only the newest, so a client that falls behind jumps ticks. ``wake`` is
    called after every push (the stream's sender waits on it).
    """

    def __init__(self, game_id: str, seat: int, wake: Callable[[], None] = lambda: None) -> None:
        self.game_id = game_id
        self.seat = seat
        self.wake = wake
        self._views: deque[SeatView] = deque()

    def push(self, view: SeatView, keep_all: bool) -> None:
        if not keep_all:
            self._views.clear()
        elif len(self._views) >= MAX_BUFFERED_VIEWS:
            self._views.popleft()
        self._views.append(view)
        self.wake()

    def take(self) -> list[SeatView]:
        """Every view waiting, oldest first."""
        views = list(self._views)
        self._views.clear()
        return views


@dataclass(eq=False)
class Seat:
    """One seat's live state; ``token`` is the secret that acts for it."""

    index: int
    queue: MoveQueue
    reserved: PlayerRef | None = None
    hosted: bool = False
    player: PlayerRef | None = None
    display_name: str = ""
    joined: bool = False
    token: str = ""
    agent: Agent | None = None
    feeds: set[ViewFeed] = field(default_factory=set)
    active_at: float = 0.0
    leaving: bool = False
    left: bool = False
    eliminated_tick: int = 0


@dataclass(frozen=True)
class EndedGame:
    """A game that just ended, with what storing it needs."""

    info: GameInfo
    result: GameResult
    replay: Replay | None
    map_text: str
    rated: bool


class Room:
    """One seated game (module docstring)."""

    def __init__(
        self,
        game_id: str,
        mode: Mode,
        board: Board,
        players: int,
        reservations: list[tuple[PlayerRef | None, bool]],
        clock_kind: ClockKind | None,
        speed: float,
        options: EngineOptions,
        engine: EngineConfig,
        afk_ticks: int,
        unrated: bool,
        clock: Clock,
    ) -> None:
        self.game_id = game_id
        self.mode = mode
        self.board = board
        self.state = board.state
        self.clock_kind = clock_kind
        self.speed = speed
        self.options = options
        self.engine = engine
        self.afk_ticks = afk_ticks
        self.unrated = unrated
        self.clock = clock
        self.status: Status = "pending"
        self.created_at = clock.now()
        self.created_mono = clock.monotonic()
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.result: GameResult | None = None
        self.ended: EndedGame | None = None
        self.next_due = 0.0
        self.last_tick_mono = self.created_mono
        h, w = board.maps.shape
        self.seats = [Seat(index=i, queue=MoveQueue(h, w)) for i in range(players)]
        for seat, (player, hosted) in zip(self.seats, reservations, strict=False):
            seat.reserved, seat.hosted = player, hosted
        self._tokens: dict[str, Seat] = {}
        self.spectators: set[SpectatorFeed] = set()
        self._obs: Observation | None = None
        self._recorder: ReplayRecorder | None = None

    # -- reading --------------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return int(self.state.tick[0])

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def over(self) -> bool:
        return self.status in ("finished", "aborted")

    @property
    def interval(self) -> float:
        return tick_interval(self.speed)

    @property
    def afk_window(self) -> float:
        """Seconds a disconnected seat may idle: ``afk_ticks`` real-time ticks."""
        return self.afk_ticks * self.interval

    def alive(self, seat: Seat) -> bool:
        return bool(self.state.alive[0, seat.index])

    def seat_for(self, token: str) -> Seat:
        seat = self._tokens.get(token) if isinstance(token, str) else None
        if seat is None:
            raise PermissionDenied(f"the player token is not one of game {self.game_id!r}")
        return seat

    def info(self) -> GameInfo:
        h, w = self.board.maps.shape
        alive = self.state.alive[0].tolist()
        seats = tuple(
            SeatInfo(
                index=s.index,
                player=s.player if s.joined else s.reserved,
                display_name=s.display_name,
                hosted=s.hosted,
                joined=s.joined,
                connected=s.hosted or bool(s.feeds),
                alive=bool(alive[s.index]),
            )
            for s in self.seats
        )
        return GameInfo(
            game_id=self.game_id,
            mode=self.mode,
            status=self.status,
            clock=self.clock_kind,
            speed=self.speed,
            tick=self.tick,
            seats=seats,
            board=BoardSpec(height=h, width=w, num_players=len(self.seats)),
            engine=self.options,
            seed=self.board.seed,
            afk_ticks=self.afk_ticks,
            unrated=self.unrated,
            created_at=self.created_at,
            started_at=self.started_at,
            ended_at=self.ended_at,
            result=self.result,
        )

    # -- seats ----------------------------------------------------------------------------------

    def take_seat(
        self,
        seat: Seat,
        player: PlayerRef,
        display_name: str,
        hosted: bool,
        network: PolicyNetwork | None = None,
    ) -> None:
        """Seat ``player``; a hosted model version plays with ``network`` (its loaded weights)."""
        agent = self._hosted_agent(seat, player, network) if hosted else None
        seat.player = player
        seat.display_name = display_name or (f"model:{player.id}" if player.kind == "model" else player.id)
        seat.hosted = hosted
        seat.joined = True
        seat.token = secrets.token_urlsafe(16)
        self._tokens[seat.token] = seat
        seat.agent = agent

    def _hosted_agent(self, seat: Seat, player: PlayerRef, network: PolicyNetwork | None) -> Agent:
        """A bot by name, or a ``NeuralAgent`` on the version's network: one per version and game,
        shared by its seats (it acts for the living ones in one batch, a row each; a network with
        memory starts its seats' memory afresh when one of them is eliminated and the batch shrinks)."""
        seed = (self.board.seed + 7919 * (seat.index + 1)) % 2**63
        if player.kind != "model":
            return make_agent(player.id, seed)
        if network is None:
            raise Unavailable(f"model version {player.id}: this server cannot host model versions")
        for other in self.seats:
            if other.player == player and isinstance(other.agent, NeuralAgent):
                return other.agent
        return NeuralAgent(network, seed, name=player.key)

    @property
    def full(self) -> bool:
        return all(s.joined for s in self.seats)

    def watch(self, seat: Seat, feed: ViewFeed) -> None:
        """Open a view feed; a started game sends the current view at once."""
        seat.feeds.add(feed)
        if self.status != "pending":
            feed.push(self.view_of(seat), self.keep_all)

    def unwatch(self, seat: Seat, feed: ViewFeed) -> None:
        seat.feeds.discard(feed)
        if not seat.feeds:
            seat.active_at = self.clock.monotonic()  # the AFK timer starts at the disconnect

    def add_spectator(self, feed: SpectatorFeed) -> None:
        """Open a spectator's feed; a started game sends the current frame at once."""
        self.spectators.add(feed)
        if self.status != "pending":
            feed.push(self.spectator_frame(feed.fog_of))

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Every seat is joined: play. The clock is real time when a human sits, else lock-step."""
        if self.clock_kind is None:
            humans = any(s.player is not None and s.player.kind == "human" for s in self.seats)
            self.clock_kind = "real_time" if humans else "lock_step"
        now = self.clock.monotonic()
        self.status = "running"
        self.started_at = self.clock.now()
        self.last_tick_mono = now
        self.next_due = now + self.interval
        for seat in self.seats:
            seat.active_at = now
        names = [s.display_name for s in self.seats]
        self._recorder = ReplayRecorder(self.board.maps, names, self.engine)
        self._obs = observe(self.state)
        self._broadcast()

    @property
    def keep_all(self) -> bool:
        return self.clock_kind != "real_time"

    def submit(self, seat: Seat, actions: list[int]) -> MovesQueued:
        if not self.running:
            raise FailedPrecondition(f"game {self.game_id!r} is {self.status}, not running")
        if not self.alive(seat) or seat.leaving:
            raise FailedPrecondition(f"seat {seat.index} has been eliminated")
        owned = self.state.owner[0].flatten() == seat.index
        length = seat.queue.submit(actions, owned)
        seat.active_at = self.clock.monotonic()
        return MovesQueued(queue_length=length, tick=self.tick)

    def clear(self, seat: Seat) -> int:
        if self.over:
            raise FailedPrecondition(f"game {self.game_id!r} is {self.status}")
        seat.active_at = self.clock.monotonic()
        return seat.queue.clear()

    def surrender(self, seat: Seat) -> int:
        """The seat leaves in the next tick (a no-op when it is out already); that tick's number."""
        if not self.running:
            raise FailedPrecondition(f"game {self.game_id!r} is {self.status}, not running")
        if self.alive(seat) and not seat.leaving:
            seat.leaving = True
            seat.queue.clear()
        return self.tick + 1

    def waiting_on(self) -> list[Seat]:
        """Lock-step: the live seats the next tick waits for (not hosted, not leaving, queue empty)."""
        return [
            s for s in self.seats if not s.hosted and not s.leaving and len(s.queue) == 0 and self.alive(s)
        ]

    def ready(self) -> bool:
        return self.running and not self.waiting_on()

    def mark_afk(self, now: float) -> bool:
        """Seats without an open stream idle for ``afk_window`` leave at the next tick; True if any."""
        marked = False
        for seat in self.seats:
            if seat.hosted or seat.leaving or seat.feeds or not self.alive(seat):
                continue
            if now - seat.active_at >= self.afk_window:
                seat.leaving = True
                seat.queue.clear()
                marked = True
        return marked

    def afk_deadline(self) -> float | None:
        """When the earliest seat the game waits for would go AFK (lock-step), if any."""
        times = [s.active_at + self.afk_window for s in self.waiting_on() if not s.feeds]
        return min(times) if times else None

    def play_tick(self) -> None:
        """Play one tick (module docstring)."""
        assert self._obs is not None and self._recorder is not None
        obs = self._obs
        players = len(self.seats)
        actions = torch.zeros(1, players, dtype=torch.int64)
        alive = self.state.alive[0].tolist()
        now = self.clock.monotonic()
        hosted: dict[int, list[Seat]] = {}
        for seat in self.seats:
            if not alive[seat.index]:
                continue
            if seat.agent is not None:
                hosted.setdefault(id(seat.agent), []).append(seat)
            elif not seat.leaving:
                action = seat.queue.pop_playable(obs.action_mask[0, seat.index])
                if action:
                    seat.active_at = now
                actions[0, seat.index] = action
        for seats in hosted.values():
            agent = seats[0].agent
            assert agent is not None
            index = torch.tensor([s.index for s in seats])
            view = Observation(  # game 0's views of these seats, one batch row each
                armies=obs.armies[0, index],
                planes=obs.planes[0, index],
                scalars=obs.scalars[0, index],
                action_mask=obs.action_mask[0, index],
            )
            chosen = agent.act(view)
            for seat, action in zip(seats, chosen.tolist(), strict=True):
                actions[0, seat.index] = action
        leave = torch.tensor([[s.leaving and alive[s.index] for s in self.seats]])
        self._recorder.record(self.state, actions, leave)
        self.state = step(self.state, actions, self.engine, leave)
        tick = self.tick
        after = self.state.alive[0].tolist()
        for seat in self.seats:
            if alive[seat.index] and not after[seat.index]:
                seat.eliminated_tick = tick
                seat.left = seat.leaving
                seat.queue.clear()
            seat.leaving = False
        self.last_tick_mono = now
        self.next_due += self.interval
        self._obs = observe(self.state)
        if bool(self.state.done[0]):
            self._finish()
        self._broadcast()

    def abort(self) -> None:
        """Stop without a result (never filled, idle, or shutdown)."""
        if self.over:
            return
        was_running = self.running
        self.status = "aborted"
        self.ended_at = self.clock.now()
        self.result = GameResult(
            game_id=self.game_id,
            mode=self.mode,
            players=(),
            ticks=self.tick,
            reason="aborted",
            started_at=self.started_at,
            ended_at=self.ended_at,
        )
        if was_running:
            self.ended = self._ended_game(rated=False)
            self._broadcast()
        else:
            for seat in self.seats:
                for feed in seat.feeds:
                    feed.push(self._pending_final_view(seat), True)
            self._show_spectators()

    def _finish(self) -> None:
        self.status = "finished"
        self.ended_at = self.clock.now()
        players = [s.player for s in self.seats]
        assert all(p is not None for p in players)
        eliminated = [s.eliminated_tick for s in self.seats]
        reason = end_reason(self.state, eliminated, [s.left for s in self.seats], self.engine.max_ticks)
        self.result = build_result(
            self.game_id,
            self.mode,
            [p for p in players if p is not None],
            self.state,
            eliminated,
            reason,
            self.started_at,
            self.ended_at,
        )
        self.ended = self._ended_game(rated=not self.unrated)

    def _ended_game(self, rated: bool) -> EndedGame:
        assert self.result is not None
        return EndedGame(
            info=self.info(),
            result=self.result,
            replay=self.replay(),
            map_text=self.board.maps.to_string(),
            rated=rated,
        )

    def replay(self) -> Replay | None:
        """The game so far as a replay (the source replay's ticks first, for a game that continues one)."""
        if self._recorder is None:
            return None
        replay = self._recorder.replays(self.state)[0]
        source = self.board.source
        if source is not None:
            start = self.board.start_tick
            replay = dataclasses.replace(
                replay,
                moves=tuple(m for m in source.moves if m.turn < start) + replay.moves,
                afks=tuple(a for a in source.afks if a.turn < start)
                + tuple(a for a in replay.afks if a.turn >= start),
            )
        return dataclasses.replace(replay, id=self.game_id)

    # -- views ----------------------------------------------------------------------------------

    def view_of(self, seat: Seat) -> SeatView:
        """What ``seat`` sees now: its own observation only."""
        assert self._obs is not None
        p = seat.index
        obs = Observation(
            armies=self._obs.armies[0, p].clone(),
            planes=self._obs.planes[0, p].clone(),
            scalars=self._obs.scalars[0, p].clone(),
            action_mask=self._obs.action_mask[0, p].clone(),
        )
        result = self.result
        outcome = None
        winner = None
        if result is not None and result.players:
            outcome = result.players[p].outcome
            winner = result.winner
        return SeatView(
            game_id=self.game_id,
            tick=self.tick,
            seat=p,
            observation=obs,
            queued_actions=seat.queue.actions(),
            alive=self.alive(seat),
            status=self.status,
            done=self.over,
            winner=winner,
            outcome=outcome,
            next_tick_at=self._next_tick_at(),
        )

    def _next_tick_at(self) -> datetime | None:
        """Real-time games: when the next tick is due."""
        if not (self.running and self.clock_kind == "real_time"):
            return None
        return self.clock.now() + timedelta(seconds=max(0.0, self.next_due - self.clock.monotonic()))

    def spectator_frame(self, fog_of: int | None) -> SpectatorFrame:
        """What a spectator sees now: the seat ``fog_of``'s view without its queue, or (None) the
        whole board."""
        view = None
        if fog_of is not None:
            if self._obs is None:  # aborted before the start: the map's start
                self._obs = observe(self.state)
            view = dataclasses.replace(self.view_of(self.seats[fog_of]), queued_actions=())
        return SpectatorFrame(
            game_id=self.game_id,
            tick=self.tick,
            fog_of=fog_of,
            view=view,
            board=None if fog_of is not None else full_board(self.state),
            alive=tuple(bool(a) for a in self.state.alive[0].tolist()),
            status=self.status,
            done=self.over,
            result=self.result if self.over else None,
            next_tick_at=self._next_tick_at(),
        )

    def _show_spectators(self) -> None:
        """Push the current frame to every spectator, each distinct frame built once."""
        frames: dict[int | None, SpectatorFrame] = {}
        for feed in self.spectators:
            if feed.fog_of not in frames:
                frames[feed.fog_of] = self.spectator_frame(feed.fog_of)
            feed.push(frames[feed.fog_of])

    def _pending_final_view(self, seat: Seat) -> SeatView:
        """The last view of a game aborted before it started: the map's start, fogged."""
        self._obs = observe(self.state)
        return self.view_of(seat)

    def _broadcast(self) -> None:
        keep_all = self.keep_all
        for seat in self.seats:
            if seat.feeds:
                view = self.view_of(seat)
                for feed in seat.feeds:
                    feed.push(view, keep_all)
        self._show_spectators()
