"""A local generals.io bot server on loopback that plays games with our engine.

It speaks the bot server's events (``protocol``) to socket.io clients and fills the remaining seats
with our scripted bots, so the bridge is tested end to end without the internet:

    async with LocalGeneralsServer(LocalServerConfig(bots=("random",))) as server:
        bot = GeneralsBot(BotConfig(user_id="me", server=server.url, queue=Queue.parse("1v1")), agent)
        results = await bot.run()
    record = server.games[0]   # winner, ticks, attacks received, illegal ones, who left

Each tick it sends every player a ``game_update`` diffed against the last one it sent that player
(``encode``), takes one queued ``attack`` per player (an attack that is illegal when it is taken is
dropped and counted, like the real server skips it), steps the engine and tells players
``game_lost({killer})`` / ``game_won()``. With ``lockstep`` it sends updates with a socket.io
acknowledgement and waits for every client's (a bot emits its attack before it acknowledges), so
games are reproducible whatever the machine's speed; the real server does not ask for
acknowledgements, and a client that answers them changes nothing there. Without lockstep it ticks
every ``tick_seconds`` like the real server (0.5 s).

A room starts when ``players`` minus the bots have joined (private rooms: and all voted
``set_force_start``). The engine's tick limit ends a game in a draw, which the protocol cannot
say: everyone still playing gets ``game_lost({killer: -1})``. ``tamper`` rewrites outgoing
payloads, for tests of malformed messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio  # type: ignore[import-untyped]  # no stubs or py.typed
import torch
from aiohttp import web

from generals_rl.agents import Agent, make_agent
from generals_rl.bridge.encode import PlayerView, player_update
from generals_rl.bridge.protocol import (
    ATTACK,
    CLEAR_MOVES,
    ERROR_SET_USERNAME,
    GAME_LOST,
    GAME_START,
    GAME_UPDATE,
    GAME_WON,
    JOIN_1V1,
    JOIN_FFA,
    JOIN_PRIVATE,
    LEAVE_GAME,
    SET_FORCE_START,
    SET_USERNAME,
    Attack,
    GameStart,
)
from generals_rl.bridge.translate import action_of
from generals_rl.game import (
    EngineConfig,
    GameState,
    MapConfig,
    Maps,
    generate_maps,
    initial_state,
    observe,
    step,
)
from generals_rl.game.engine import MoveOrder

logger = logging.getLogger(__name__)

Tamper = Callable[[str, int, Any], Any]
"""(event, turn, payload) -> the payload to send instead."""


@dataclass(frozen=True)
class LocalServerConfig:
    """How the local server plays.

    Attributes:
        players: seats in a game; the last ``len(bots)`` are the server's scripted bots.
        bots: names of the server's bots (``agents.make_agent``).
        side: side of the generated square maps (ignored when ``maps`` is given).
        maps: one fixed map for every game (a batch of one, unpadded).
        seed: seed of the maps (game k uses ``seed + k``) and of the bots.
        lockstep: wait for every client's acknowledgement of each update before the next tick.
        tick_seconds: pause between ticks (the real server: 0.5).
        ack_timeout: longest wait for one acknowledgement (the client then passes that tick).
        max_ticks: the engine's tick limit (a draw).
        move_order: the engine's move order.
        tamper: rewrites outgoing payloads (tests of malformed messages).
    """

    players: int = 2
    bots: tuple[str, ...] = ("random",)
    side: int = 10
    maps: Maps | None = None
    seed: int = 0
    lockstep: bool = True
    tick_seconds: float = 0.0
    ack_timeout: float = 10.0
    max_ticks: int = 2000
    move_order: MoveOrder = "alternating"
    tamper: Tamper | None = None

    def __post_init__(self) -> None:
        if not 2 <= self.players <= 8:
            raise ValueError(f"players must lie in 2..8, got {self.players}")
        if len(self.bots) >= self.players:
            raise ValueError(
                f"{len(self.bots)} bots leave no seat for a client in a {self.players}-player game"
            )
        if self.maps is not None and self.maps.num_players != self.players:
            raise ValueError(f"the map has {self.maps.num_players} generals for {self.players} players")


@dataclass
class Seat:
    """One player of a game on the local server, and what it did."""

    name: str
    sid: str | None = None  # None for the server's bots
    queue: deque[Attack] = field(default_factory=deque)
    attacks: int = 0  # attack events received
    executed: int = 0  # attacks that moved army
    illegal: int = 0  # attacks dropped: not legal when their tick came
    malformed: int = 0  # attack events with bad arguments
    cleared: int = 0  # clear_moves events
    left: bool = False
    told: str = ""  # game_won / game_lost once sent
    gone: asyncio.Event = field(default_factory=asyncio.Event)  # set when it leaves


@dataclass
class GameRecord:
    """A game the local server ran."""

    room: str
    seats: list[Seat]
    ticks: int = 0
    winner: int = -1  # winning team, -1 for a draw or while playing
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def seat_of(self, name: str) -> Seat:
        return next(seat for seat in self.seats if seat.name == name)


class LocalGeneralsServer:
    """The server: ``async with`` starts it on a free loopback port (``url``) and stops it."""

    def __init__(
        self, config: LocalServerConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or LocalServerConfig()
        self.host, self.port = host, port
        self.sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
        self.games: list[GameRecord] = []
        self.usernames: dict[str, str] = {}  # sid -> name
        self.rooms: dict[str, list[str]] = {}  # room -> sids waiting
        self.votes: dict[str, set[str]] = {}
        self.playing: dict[str, tuple[GameRecord, int]] = {}  # sid -> game, seat
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._register()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        app = web.Application()
        self.sio.attach(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        logger.info("local generals.io server listening", extra={"url": self.url})
        return self.url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.sio.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalGeneralsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_game(self, index: int = 0, timeout: float = 60.0) -> GameRecord:
        """The ``index``-th game, once it has finished."""
        async with asyncio.timeout(timeout):
            while len(self.games) <= index:
                await asyncio.sleep(0.01)
            await self.games[index].finished.wait()
        return self.games[index]

    # ---- events from clients -------------------------------------------------------------------

    def _register(self) -> None:
        sio = self.sio

        @sio.on(SET_USERNAME)
        async def set_username(sid: str, user_id: Any = None, username: Any = None, *_: Any) -> None:
            if not isinstance(user_id, str) or not user_id or not isinstance(username, str) or not username:
                await sio.emit(ERROR_SET_USERNAME, "a user id and a username are needed", to=sid)
                return
            self.usernames[sid] = username
            await sio.emit(ERROR_SET_USERNAME, "", to=sid)

        @sio.on(JOIN_1V1)
        async def join_1v1(sid: str, *_: Any) -> None:
            await self._join(sid, "1v1")

        @sio.on(JOIN_FFA)
        async def join_ffa(sid: str, *_: Any) -> None:
            await self._join(sid, "ffa")

        @sio.on(JOIN_PRIVATE)
        async def join_private(sid: str, room: Any = None, *_: Any) -> None:
            if isinstance(room, str) and room:
                await self._join(sid, f"private:{room}")

        @sio.on(SET_FORCE_START)
        async def set_force_start(sid: str, room: Any = None, flag: Any = True, *_: Any) -> None:
            key = f"private:{room}" if isinstance(room, str) and room else "ffa"
            votes = self.votes.setdefault(key, set())
            if flag:
                votes.add(sid)
            else:
                votes.discard(sid)
            self._maybe_start(key)

        @sio.on(ATTACK)
        async def attack(sid: str, start: Any = None, end: Any = None, is50: Any = False, *_: Any) -> None:
            seat = self._seat(sid)
            if seat is None:
                return
            seat.attacks += 1
            ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
            if not ok or not isinstance(is50, bool):
                seat.malformed += 1
                return
            seat.queue.append(Attack(start=start, end=end, is50=is50))

        @sio.on(CLEAR_MOVES)
        async def clear_moves(sid: str, *_: Any) -> None:
            seat = self._seat(sid)
            if seat is not None:
                seat.cleared += 1
                seat.queue.clear()

        @sio.on(LEAVE_GAME)
        async def leave_game(sid: str, *_: Any) -> None:
            self._leave(sid)

        @sio.event
        async def disconnect(sid: str, *_: Any) -> None:
            self._leave(sid)
            for waiting in self.rooms.values():
                if sid in waiting:
                    waiting.remove(sid)
            self.usernames.pop(sid, None)

    def _seat(self, sid: str) -> Seat | None:
        found = self.playing.get(sid)
        return None if found is None else found[0].seats[found[1]]

    def _leave(self, sid: str) -> None:
        found = self.playing.pop(sid, None)
        if found is not None:
            seat = found[0].seats[found[1]]
            seat.left = True
            seat.gone.set()

    async def _join(self, sid: str, room: str) -> None:
        if sid in self.playing:
            return
        waiting = self.rooms.setdefault(room, [])
        if sid not in waiting:
            waiting.append(sid)
        self._maybe_start(room)

    def _maybe_start(self, room: str) -> None:
        waiting = self.rooms.get(room, [])
        needed = self.config.players - len(self.config.bots)
        if len(waiting) < needed:
            return
        if room.startswith("private:") and not set(waiting[:needed]) <= self.votes.get(room, set()):
            return
        sids, self.rooms[room] = waiting[:needed], waiting[needed:]
        self.votes.pop(room, None)
        seats = [Seat(name=self.usernames.get(sid, f"Anonymous {sid[:4]}"), sid=sid) for sid in sids]
        seats += [Seat(name=f"[Bot] {name} (server)") for name in self.config.bots]
        record = GameRecord(room=room, seats=seats)
        for index, sid in enumerate(sids):
            self.playing[sid] = (record, index)
        self.games.append(record)
        task = asyncio.get_running_loop().create_task(self._play(record, len(self.games) - 1))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the game loop ---------------------------------------------------------------------------

    def _maps(self, number: int) -> Maps:
        if self.config.maps is not None:
            return self.config.maps
        players = self.config.players
        config = MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)
        return generate_maps(1, config.with_side(self.config.side), seed=self.config.seed + number)

    async def _play(self, record: GameRecord, number: int) -> None:
        try:
            await self._run(record, number)
        except Exception:
            logger.exception("the local server's game failed", extra={"room": record.room})
            raise
        finally:
            for seat in record.seats:
                if seat.sid is not None:
                    self.playing.pop(seat.sid, None)
            record.finished.set()

    async def _run(self, record: GameRecord, number: int) -> None:
        config = self.config
        players = config.players
        engine = EngineConfig(move_order=config.move_order, max_ticks=config.max_ticks)
        state = initial_state(self._maps(number))
        height, width = (int(v) for v in state.map_size[0])
        bots: dict[int, Agent] = {
            index: make_agent(name, config.seed + index)
            for index, name in enumerate(config.bots, start=players - len(config.bots))
        }
        usernames = tuple(seat.name for seat in record.seats)
        for index, seat in enumerate(record.seats):
            if seat.sid is not None:
                start = GameStart(
                    player_index=index,
                    usernames=usernames,
                    replay_id=f"local-{number}",
                    chat_room=f"game_{number}",
                )
                await self._send(seat, GAME_START, 0, start.to_payload())
        views = [PlayerView() for _ in range(players)]
        while True:
            await self._send_updates(record, state, views)
            if bool(state.done[0]):
                break
            obs = observe(state)
            actions = torch.zeros(1, players, dtype=torch.int64)
            for index, seat in enumerate(record.seats):
                if index in bots:
                    actions[0, index] = bots[index].act(obs.player(index))[0]
                elif seat.queue:
                    attack = seat.queue.popleft()
                    try:
                        action = action_of(attack, width, height, (state.height, state.width))
                    except ValueError:
                        action = 0
                    if action and bool(obs.action_mask[0, index, action]):
                        actions[0, index] = action
                        seat.executed += 1
                    else:
                        seat.illegal += 1
            leave = torch.tensor([[seat.left for seat in record.seats]])
            before = state
            state = step(state, actions, engine, leave=leave)
            record.ticks = int(state.tick[0])
            await self._tell_the_fallen(record, before, state)
            if config.tick_seconds:
                await asyncio.sleep(config.tick_seconds)
        record.winner = int(state.winner[0])
        teams = state.teams[0].tolist()
        for index, seat in enumerate(record.seats):
            if seat.sid is None or seat.left or seat.told:
                continue
            if record.winner >= 0 and teams[index] == record.winner:
                await self._send(seat, GAME_WON, record.ticks, None)
            else:
                await self._send(seat, GAME_LOST, record.ticks, {"killer": -1})

    async def _send_updates(self, record: GameRecord, state: GameState, views: list[PlayerView]) -> None:
        calls = []
        for index, seat in enumerate(record.seats):
            if seat.sid is None or seat.left or seat.told:
                continue
            update, views[index] = player_update(state, index, views[index], attack_index=seat.executed)
            calls.append(
                self._send(seat, GAME_UPDATE, update.turn, update.to_payload(), ack=self.config.lockstep)
            )
        await asyncio.gather(*calls)

    async def _tell_the_fallen(self, record: GameRecord, before: GameState, after: GameState) -> None:
        fallen = (before.alive[0] & ~after.alive[0]).tolist()
        for index, seat in enumerate(record.seats):
            if not fallen[index] or seat.sid is None or seat.left:
                continue
            general = int(before.generals[0, index])
            killer = int(after.owner.view(-1)[general]) if general >= 0 else -1
            await self._send(seat, GAME_LOST, int(after.tick[0]), {"killer": killer})

    async def _send(self, seat: Seat, event: str, turn: int, payload: Any, ack: bool = False) -> None:
        if self.config.tamper is not None:
            payload = self.config.tamper(event, turn, payload)
        if event in (GAME_WON, GAME_LOST):
            seat.told = event
        args = () if payload is None else payload
        if not ack:
            await self.sio.emit(event, args, to=seat.sid)
            return
        # Wait for the acknowledgement, or until the player leaves (it may never come then).
        call = asyncio.ensure_future(self.sio.call(event, args, to=seat.sid, timeout=self.config.ack_timeout))
        gone = asyncio.ensure_future(seat.gone.wait())
        await asyncio.wait({call, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not call.done():
            call.cancel()
        elif call.exception() is not None:
            logger.warning(
                "a client did not acknowledge", extra={"event": event, "error": repr(call.exception())}
            )
