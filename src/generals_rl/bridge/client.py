"""The bot loop: one of our agents plays games on a generals.io bot server over socket.io.

``GeneralsBot(config, agent).run()`` connects, sets the username, and for each game joins the
queue (and votes to force-start where that exists), waits for ``game_start``, then on every
``game_update`` patches its copy of the map, rebuilds our engine's observation (``translate``),
asks the agent for one action and emits it as ``attack``; ``game_won`` / ``game_lost`` end the game
and it emits ``leave_game``.

Events are handled strictly in order by one loop (socket.io delivers each as its own task); the
agent thinks in a worker thread, so the connection is served meanwhile. When updates arrive
faster than the agent acts, the older ones are only patched in, the agent acts on the newest, and
``clear_moves`` first drops any attack the server still holds for a past turn.

A malformed message (``ProtocolError``), a map the policy cannot play, an agent failure, a
silent server or a dropped connection ends the game with a clear error in the log and in the
result: the bot leaves the game (``leave_game``) and disconnects instead of acting on garbage.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import socketio  # type: ignore[import-untyped]  # no stubs or py.typed

from generals_rl.agents import Agent
from generals_rl.bridge.protocol import (
    ATTACK,
    CLEAR_MOVES,
    ERROR_SET_USERNAME,
    GAME_LOST,
    GAME_START,
    GAME_UPDATE,
    GAME_WON,
    LEAVE_GAME,
    SERVER_URL,
    SET_USERNAME,
    GameStart,
    GameUpdate,
    MapState,
    ProtocolError,
    Queue,
)
from generals_rl.bridge.translate import BoardTooLargeError, attack_of, observation

logger = logging.getLogger(__name__)

DISCONNECT = "disconnect"

Outcome = Literal["won", "lost", "error"]


class BridgeError(RuntimeError):
    """The bot could not play: the server is unreachable or the connection failed."""


@dataclass(frozen=True)
class BotConfig:
    """Where and how the bot plays.

    Attributes:
        user_id: the bot's secret id on the server (it owns the username).
        username: display name; the bot server wants it to start with ``[Bot]``.
        queue: ``1v1``, ``ffa`` or a private room.
        server: socket.io URL of the server.
        games: games to play one after another.
        pad_to: (H, W) board the policy plays on; None plays on the map's own size.
        join_timeout: seconds to wait in the queue for a game (None: as long as it takes).
        update_timeout: seconds without a message in a running game before giving up.
        connect_timeout: seconds to wait for the connection.
    """

    user_id: str
    username: str = "[Bot] generals-rl"
    queue: Queue = field(default_factory=lambda: Queue("1v1"))
    server: str = SERVER_URL
    games: int = 1
    pad_to: tuple[int, int] | None = None
    join_timeout: float | None = None
    update_timeout: float = 60.0
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("a user id is needed (keep it secret: it owns the bot's name)")
        if self.games < 1:
            raise ValueError(f"games must be at least 1, got {self.games}")


@dataclass(frozen=True)
class GameResult:
    """How one game went for the bot."""

    outcome: Outcome
    player_index: int | None = None
    usernames: tuple[str, ...] = ()
    replay_id: str = ""
    turns: int = 0
    attacks: int = 0
    killer: int | None = None
    error: str = ""


@dataclass
class _Item:
    event: str
    args: tuple[Any, ...]
    handled: asyncio.Future[None] | None = None

    def done(self) -> None:
        if self.handled is not None and not self.handled.done():
            self.handled.set_result(None)


class _Inbox:
    """Events in arrival order; a sender's acknowledgement waits until its event is handled."""

    def __init__(self) -> None:
        self.items: deque[_Item] = deque()
        self.arrived = asyncio.Event()
        self.closed = False

    def put(self, item: _Item) -> None:
        if self.closed:
            item.done()
            return
        self.items.append(item)
        self.arrived.set()

    async def get(self, timeout: float | None) -> _Item | None:
        """The next event, or None after ``timeout`` seconds without one."""
        try:
            async with asyncio.timeout(timeout):
                while not self.items:
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            return None
        return self.items.popleft()

    def next_is(self, event: str) -> bool:
        return bool(self.items) and self.items[0].event == event

    def close(self) -> None:
        self.closed = True
        while self.items:
            self.items.popleft().done()


class GeneralsBot:
    """Plays ``agent`` on the server of ``config`` (``await bot.run()``)."""

    def __init__(
        self,
        config: BotConfig,
        agent: Agent,
        on_update: Callable[[GameStart, GameUpdate, MapState], None] | None = None,
    ) -> None:
        self.config = config
        self.agent = agent
        self.on_update = on_update
        self._inbox = _Inbox()
        self._sio: socketio.AsyncClient | None = None

    async def run(self) -> list[GameResult]:
        """Play ``config.games`` games; stops early after a game that ended in an error."""
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        self._sio = sio
        for event in (GAME_START, GAME_UPDATE, GAME_WON, GAME_LOST, ERROR_SET_USERNAME, DISCONNECT):
            sio.on(event, self._receiver(event))
        sio.on("*", self._ignore)
        try:
            await sio.connect(self.config.server, wait_timeout=self.config.connect_timeout)
        except socketio.exceptions.ConnectionError as error:
            raise BridgeError(f"cannot connect to {self.config.server}: {error}") from None
        results: list[GameResult] = []
        try:
            await sio.emit(SET_USERNAME, (self.config.user_id, self.config.username))
            for _ in range(self.config.games):
                result = await self._play_one()
                results.append(result)
                if result.outcome == "error":
                    break
        finally:
            self._inbox.close()
            if sio.connected:
                await sio.disconnect()
        return results

    # ---- receiving -------------------------------------------------------------------------------

    def _receiver(self, event: str) -> Callable[..., Any]:
        async def receive(*args: Any) -> None:
            # Runs as its own task per message: queue it at once (keeps arrival order). An update's
            # acknowledgement, if the sender asked for one, waits until the bot has answered it.
            # Nothing else waits: socket.io runs the disconnect handler inline while disconnecting.
            if event != GAME_UPDATE:
                self._inbox.put(_Item(event, args))
                return
            handled = asyncio.get_running_loop().create_future()
            self._inbox.put(_Item(event, args, handled))
            await handled

        return receive

    async def _ignore(self, event: str, *args: Any) -> None:
        logger.debug("ignored server event", extra={"event": event})

    async def _next(self, timeout: float | None) -> _Item | None:
        return await self._inbox.get(timeout)

    async def _emit(self, event: str, *args: Any) -> None:
        assert self._sio is not None
        if self._sio.connected:
            await self._sio.emit(event, args)

    # ---- one game --------------------------------------------------------------------------------

    async def _play_one(self) -> GameResult:
        config = self.config
        event, args = config.queue.join(config.user_id)
        await self._emit(event, *args)
        vote = config.queue.force_start()
        if vote is not None:
            await self._emit(vote[0], *vote[1])
        logger.info("joined the queue", extra={"queue": str(config.queue), "server": config.server})

        start: GameStart | None = None
        while start is None:
            item = await self._next(config.join_timeout)
            if item is None:
                return await self._fail(
                    None, f"no game started within {config.join_timeout} s in {config.queue}"
                )
            try:
                if item.event == GAME_START:
                    start = GameStart.parse(item.args[0] if item.args else None)
                elif item.event == DISCONNECT:
                    return await self._fail(None, "the server closed the connection before the game started")
                elif item.event == ERROR_SET_USERNAME:
                    self._username_reply(item.args)
            except ProtocolError as error:
                return await self._fail(None, f"bad game_start from the server: {error}")
            finally:
                item.done()
        logger.info(
            "game started",
            extra={
                "seat": start.player_index,
                "players": list(start.usernames),
                "replay_id": start.replay_id,
            },
        )
        self.agent.reset()
        return await self._play(start)

    async def _play(self, start: GameStart) -> GameResult:
        maps = MapState(start.num_players)
        turn, attacks, behind = 0, 0, False
        while True:
            item = await self._next(self.config.update_timeout)
            if item is None:
                message = f"no message from the server for {self.config.update_timeout} s"
                return await self._fail(start, message, turn, attacks)
            try:
                if item.event == GAME_UPDATE:
                    update = GameUpdate.parse(item.args[0] if item.args else None, start.num_players)
                    maps.apply(update)
                    turn = update.turn
                    if self.on_update is not None:
                        self.on_update(start, update, maps)
                    if self._inbox.next_is(GAME_UPDATE):
                        behind = True  # a newer update is waiting: act on that one instead
                        continue
                    if await self._act(start, update, maps, clear=behind):
                        attacks += 1
                    behind = False
                elif item.event in (GAME_WON, GAME_LOST):
                    won = item.event == GAME_WON
                    killer = _killer(item.args) if not won else None
                    await self._emit(LEAVE_GAME)
                    logger.info("game over", extra={"outcome": "won" if won else "lost", "turn": turn})
                    return GameResult(
                        outcome="won" if won else "lost",
                        player_index=start.player_index,
                        usernames=start.usernames,
                        replay_id=start.replay_id,
                        turns=turn,
                        attacks=attacks,
                        killer=killer,
                    )
                elif item.event == DISCONNECT:
                    return await self._fail(start, "the server closed the connection", turn, attacks)
                elif item.event == ERROR_SET_USERNAME:
                    self._username_reply(item.args)
            except ProtocolError as error:
                return await self._fail(start, f"bad {item.event} from the server: {error}", turn, attacks)
            except BoardTooLargeError as error:
                return await self._fail(start, str(error), turn, attacks)
            except Exception as error:  # the agent or the translation failed: leave, do not hang
                logger.exception("the bot failed")
                return await self._fail(start, f"the bot failed: {error!r}", turn, attacks)
            finally:
                item.done()

    async def _act(self, start: GameStart, update: GameUpdate, maps: MapState, clear: bool) -> bool:
        """Ask the agent and emit its attack; True when one was sent."""
        obs = observation(maps, update, start, self.config.pad_to)
        # In a worker thread: the connection stays served (pings, newer updates) while it thinks.
        action = int((await asyncio.to_thread(self.agent.act, obs))[0])
        if clear:  # whatever the agent does now, what it queued for past turns is stale
            await self._emit(CLEAR_MOVES)
        if not 0 <= action < obs.action_mask.shape[-1] or not bool(obs.action_mask[0, action]):
            logger.warning(
                "the agent chose an illegal action: passing", extra={"action": action, "turn": update.turn}
            )
            return False
        attack = attack_of(action, maps.width, maps.height, self.config.pad_to)
        if attack is None:
            return False
        await self._emit(ATTACK, attack.start, attack.end, attack.is50)
        return True

    async def _fail(
        self, start: GameStart | None, message: str, turn: int = 0, attacks: int = 0
    ) -> GameResult:
        logger.error("leaving the game: %s", message, extra={"turn": turn})
        await self._emit(LEAVE_GAME)
        return GameResult(
            outcome="error",
            player_index=None if start is None else start.player_index,
            usernames=() if start is None else start.usernames,
            replay_id="" if start is None else start.replay_id,
            turns=turn,
            attacks=attacks,
            error=message,
        )

    @staticmethod
    def _username_reply(args: tuple[Any, ...]) -> None:
        # "" means the name was accepted; a message (e.g. a name already set for this user id) is
        # worth showing but does not stop the bot from playing under the name it has.
        if args and args[0]:
            logger.warning("the server refused the username: %s", args[0])


def _killer(args: tuple[Any, ...]) -> int | None:
    payload = args[0] if args else None
    killer = payload.get("killer") if isinstance(payload, dict) else None
    return killer if isinstance(killer, int) and not isinstance(killer, bool) and killer >= 0 else None
