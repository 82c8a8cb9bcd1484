"""The Game Service in one process: the ``GameManager``, the loop that plays its ticks, StepBatch
sessions, and what happens at game end (storage, Elo report), behind async methods.

``GameHost`` and ``GameClient`` (``client``) offer the same async operations with the same
domain types and errors, one in process and one over gRPC; the servicer is a thin translation
of ``GameHost``.

Background work, started by ``start()`` and stopped by ``close()``:

- the tick loop: ``manager.advance()`` whenever something is due or the manager wakes it;
- storing ended games (``archive.GameArchive.store``), retried with exponential backoff while
  storage is down; the result of a rated game then goes to the pending-results hash;
- the reporter: every pending result is sent to the Elo Service and removed once acknowledged;
  while the Elo Service is down it retries with exponential backoff (results stay pending in the
  cache across restarts, never dropped); a result it refuses for good is set aside as rejected;
- the active-games listing in the cache, rewritten on changes and refreshed before it expires.

Hosted model seats: CreateGame and JoinGame load the version's network first (``models``:
``HostedModels``, from the Model Service, kept in memory), so a version that is unknown, not
accepted or unreachable fails that call alone and no game is touched.

``close()`` aborts the games still live (stored as aborted, never rated) and waits a while for
their storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio
from torch import Tensor

from generals_rl.services.common import sessions
from generals_rl.services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    ServiceError,
    from_rpc_error,
)
from generals_rl.services.game import convert
from generals_rl.services.game.archive import GameArchive, rateable
from generals_rl.services.game.clocks import Clock, SystemClock
from generals_rl.services.game.core import GameManager, GameServiceConfig, joiner_player
from generals_rl.services.game.domain import (
    BatchSpec,
    BatchStep,
    GameFilter,
    GameInfo,
    GamePage,
    GameResult,
    GameSpec,
    Joiner,
    JoinResult,
    MovesQueued,
    SeatView,
    SpectatorFrame,
)
from generals_rl.services.game.lockstep import BatchSession
from generals_rl.services.game.models import HostedModels
from generals_rl.services.game.requests import hosted_models
from generals_rl.services.game.rooms import EndedGame
from generals_rl.v1 import elo_pb2, elo_pb2_grpc

log = logging.getLogger(__name__)

T = TypeVar("T")

ResultSender = Callable[[GameResult], Awaitable[None]]
"""Delivers one result to the Elo Service; raises a ``ServiceError`` when it did not."""

PERMANENT = (InvalidArgument, AlreadyExists)
"""Answers of the Elo Service that no retry will change: the result is set aside as rejected."""


def elo_sender(channel: Callable[[], grpc.aio.Channel], timeout_s: float = 10.0) -> ResultSender:
    """Send results with the Elo Service's ReportResult over ``channel()``, asked for at every call
    (``Peers.channel``: the peer's address may be known only once every server listens)."""

    async def send(result: GameResult) -> None:
        request = elo_pb2.ReportResultRequest(result=convert.result_to_proto(result))
        try:
            await elo_pb2_grpc.EloServiceStub(channel()).ReportResult(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error

    return send


class LocalBatch:
    """A StepBatch session in this process: ``first`` is step 0, ``step`` plays the next tick."""

    def __init__(self, host: GameHost, session: BatchSession) -> None:
        self.host = host
        self.session = session
        self.first = session.first()

    async def step(self, actions: Tensor, number: int | None = None) -> BatchStep:
        return await self.step_then(actions, number, lambda result: result)

    async def step_then(self, actions: Tensor, number: int | None, then: Callable[[BatchStep], T]) -> T:
        """Play the step and apply ``then`` to its result, both in one worker thread (the servicer
        encodes the response there: one hop off the event loop instead of two)."""
        number = self.session.step_number + 1 if number is None else number
        out = await asyncio.to_thread(lambda: then(self.session.step(number, actions)))
        for ended in self.session.drain_ended():
            self.host.game_ended(ended)
        return out

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> LocalBatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class GameHost:
    """The Game Service's operations in one process (module docstring)."""

    def __init__(
        self,
        archive: GameArchive | None = None,
        send_result: ResultSender | None = None,
        config: GameServiceConfig | None = None,
        clock: Clock | None = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        models: HostedModels | None = None,
    ) -> None:
        self.config = config or GameServiceConfig()
        self.clock: Clock = clock or SystemClock()
        self.archive = archive
        self.send_result = send_result
        self.models = models or HostedModels(None)
        self.backoff = backoff
        self._tick_wake = asyncio.Event()
        self._report_wake = asyncio.Event()
        self._active_wake = asyncio.Event()
        self.manager = GameManager(self.config, self.clock, listener=self, wake=self._tick_wake.set)
        self._loops: list[asyncio.Task[None]] = []
        self._stores: set[asyncio.Task[None]] = set()
        self._published: set[str] = set()
        self._closing = False

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the tick loop and, with storage, the reporter and the active-games listing."""
        if self._loops:
            return
        self._loops.append(asyncio.create_task(self._tick_loop(), name="game-ticks"))
        if self.archive is not None:
            self._loops.append(asyncio.create_task(self._active_loop(), name="game-active"))
            if self.send_result is not None:
                self._loops.append(asyncio.create_task(self._report_loop(), name="game-reports"))

    async def close(self, grace_s: float = 10.0) -> None:
        """Abort the live games, wait up to ``grace_s`` for storage, stop the background work."""
        self._closing = True
        self.manager.abort_all()
        if self._stores:
            await asyncio.wait(list(self._stores), timeout=grace_s)
        for task in [*self._stores, *self._loops]:
            task.cancel()
        for task in [*self._stores, *self._loops]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops.clear()
        if self.archive is not None and self._published:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.archive.publish_active, [], sorted(self._published), self.clock.now(), 1.0
                )

    async def __aenter__(self) -> GameHost:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- operations -----------------------------------------------------------------------------

    async def create_game(self, spec: GameSpec) -> GameInfo:
        known = self.manager.known_request(spec.request_id)
        if known is not None:
            return known
        networks = await self.models.load_all(hosted_models(spec))
        # Drawing or replaying a map can take a while: in a worker thread, registered here.
        room = await asyncio.to_thread(self.manager.prepare_game, spec, networks)
        return self.manager.add_game(room, spec.request_id)

    async def join_game(
        self,
        game_id: str,
        joiner: Joiner,
        *,
        hosted: bool = False,
        seat: int | None = None,
        display_name: str = "",
    ) -> JoinResult:
        self.manager.get_game(game_id)  # NOT_FOUND before UNAUTHENTICATED
        if joiner.session_token is not None and self.archive is not None:
            cache = self.archive.cache
            token = joiner.session_token
            user = await asyncio.to_thread(sessions.resolve, cache, token)
            player = joiner_player(joiner, lambda _: user)
        else:
            player = joiner_player(joiner)
        network = await self.models.load(int(player.id)) if hosted and player.kind == "model" else None
        return self.manager.join_game(
            game_id, player, hosted=hosted, seat=seat, display_name=display_name, network=network
        )

    async def stream_view(self, game_id: str, player_token: str) -> AsyncGenerator[SeatView, None]:
        """The seat's views: the current one, then one per tick, the last with ``done``."""
        ready = asyncio.Event()
        feed = self.manager.watch(game_id, player_token, ready.set)
        try:
            while True:
                await ready.wait()
                ready.clear()
                for view in feed.take():
                    yield view
                    if view.done:
                        return
        finally:
            self.manager.unwatch(feed)

    async def watch_game(
        self, game_id: str, fog_of: int | None = None
    ) -> AsyncGenerator[SpectatorFrame, None]:
        """A spectator's frames: the current one, then one per tick (some lost by a slow reader),
        the last with ``done`` and the result."""
        ready = asyncio.Event()
        feed = self.manager.spectate(game_id, fog_of, ready.set)
        try:
            while True:
                ready.clear()
                frame = feed.pop()  # one at a time: what waits stays in the bounded feed
                if frame is None:
                    await ready.wait()
                    continue
                yield frame
                if frame.done:
                    return
        finally:
            self.manager.unspectate(feed)

    async def submit_moves(self, game_id: str, player_token: str, actions: list[int]) -> MovesQueued:
        return self.manager.submit_moves(game_id, player_token, actions)

    async def clear_moves(self, game_id: str, player_token: str) -> int:
        return self.manager.clear_moves(game_id, player_token)

    async def surrender(self, game_id: str, player_token: str) -> int:
        return self.manager.surrender(game_id, player_token)

    async def get_game(self, game_id: str) -> GameInfo:
        return self.manager.get_game(game_id)

    async def list_games(
        self, filter: GameFilter | None = None, page_size: int = 0, page_token: str = ""
    ) -> GamePage:
        return self.manager.list_games(filter or GameFilter(), page_size, page_token)

    async def open_batch(self, spec: BatchSpec) -> LocalBatch:
        """A StepBatch session (use ``async with``); its ``first`` step holds the first observations."""
        session = await asyncio.to_thread(BatchSession, spec, self.config, self.clock)
        return LocalBatch(self, session)

    # -- GameListener ---------------------------------------------------------------------------

    def game_changed(self, info: GameInfo) -> None:
        self._active_wake.set()

    def game_ended(self, ended: EndedGame) -> None:
        if self.archive is None:
            return
        self._spawn(self._store(ended))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._stores.add(task)
        task.add_done_callback(self._stores.discard)

    # -- background work ------------------------------------------------------------------------

    async def _retry(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        delay, most = self.backoff
        while True:
            try:
                return await asyncio.to_thread(fn, *args)
            except Exception as error:  # storage down: try again later, never give up
                log.warning("%s failed, retrying in %.1f s: %s", what, delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, most)

    async def _store(self, ended: EndedGame) -> None:
        game_id = ended.info.game_id
        assert self.archive is not None
        result: GameResult = await self._retry(f"storing game {game_id}", self.archive.store, ended)
        if ended.rated and rateable(result) and self.send_result is not None:
            await self._retry(f"queueing the result of {game_id}", self.archive.queue_result, result)
            self._report_wake.set()

    # The loops end on their own once ``close`` began: Python 3.11's ``wait_for`` can swallow a
    # cancellation that arrives as its event is set (``close`` sets them by aborting games).

    async def _tick_loop(self) -> None:
        while not self._closing:
            self._tick_wake.clear()
            try:
                delay = self.manager.advance()
            except Exception:
                log.exception("the tick loop failed; going on")
                delay = 0.1
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick_wake.wait(), timeout=delay)

    async def _report_loop(self) -> None:
        assert self.archive is not None and self.send_result is not None
        delay, most = self.backoff
        while True:
            self._report_wake.clear()
            try:
                pending = await asyncio.to_thread(self.archive.pending)
            except Exception as error:
                log.warning("reading pending results failed: %s", error)
                pending = None
            failed = pending is None
            for result in pending or []:
                try:
                    await self.send_result(result)
                except PERMANENT as error:
                    log.error("the Elo Service refuses the result of %s: %s", result.game_id, error)
                    await self._retry("setting a result aside", self.archive.reject, result, str(error))
                    continue
                except (ServiceError, OSError) as error:
                    log.warning("reporting %s failed, retrying in %.1f s: %s", result.game_id, delay, error)
                    failed = True
                    break
                await self._retry("marking a result delivered", self.archive.delivered, result.game_id)
            if failed:
                await asyncio.sleep(delay)
                delay = min(delay * 2, most)
                continue
            delay = self.backoff[0]
            await self._report_wake.wait()

    async def _active_loop(self) -> None:
        assert self.archive is not None
        period = self.config.active_ttl_s / 3
        while not self._closing:
            self._active_wake.clear()
            infos = self.manager.live_games()
            ids = {info.game_id for info in infos}
            gone = sorted(self._published - ids)
            try:
                await asyncio.to_thread(
                    self.archive.publish_active, infos, gone, self.clock.now(), self.config.active_ttl_s
                )
                self._published = ids
            except Exception as error:
                log.warning("updating the active games in the cache failed: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._active_wake.wait(), timeout=period)
