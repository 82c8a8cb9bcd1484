"""WebSockets for live games: play a seat (``/ws/play/{game_id}``), wait in a Matchmaker queue
(``/ws/queue``) and spectate any game of the Game Service (``/ws/watch/{game_id}``, its WatchGame
stream). Every message is one JSON object with a ``type``; docs/gateway.md lists them.

A bad message (not JSON, an unknown type, a move off the board, a move from a tile the player
does not own, ...) is answered with ``{"type": "error", "message": ...}`` and changes nothing;
the connection stays open. A bad or expired session token closes it with code 4401 after the
error message; a game that does not exist closes it with 4404; a bad spectator fog seat with 4400.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Gauge

from generals_rl.services.common.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unauthenticated,
)
from generals_rl.services.game.domain import GameInfo, Joiner
from generals_rl.services.gateway.auth import backend_of, lookup_session
from generals_rl.services.gateway.backend import Backend
from generals_rl.services.gateway.views import encode_move, game_json, spectator_json, view_json
from generals_rl.v1 import common_pb2
from generals_rl.v1 import matchmaker_pb2 as mm

router = APIRouter()
log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
CLOSE_BAD_REQUEST, CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND = 4400, 4401, 4404
OPEN = Gauge("grl_gateway_websockets", "Open WebSocket connections of the gateway", ["kind"])
TICKET_STATUS = {
    mm.TICKET_STATUS_QUEUED: "queued",
    mm.TICKET_STATUS_MATCHED: "matched",
    mm.TICKET_STATUS_CANCELLED: "cancelled",
    mm.TICKET_STATUS_EXPIRED: "expired",
}


class Connection:
    """One WebSocket: JSON messages in and out; sends from several tasks go out one at a time."""

    def __init__(self, socket: WebSocket, backend: Backend) -> None:
        self.socket = socket
        self.backend = backend
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.socket.send_text(json.dumps(message, separators=(",", ":")))

    async def error(self, message: str) -> None:
        await self.send({"type": "error", "message": message})

    async def receive(self) -> dict[str, Any] | None:
        """The next message as an object; None (after an error reply) for one that is not."""
        raw = await self.socket.receive()
        if raw["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(raw.get("code", 1000))
        text = raw.get("text")
        if text is None:
            await self.error("messages are JSON text, not binary")
            return None
        if len(text) > self.backend.config.max_ws_message_bytes:
            await self.error(f"a message is at most {self.backend.config.max_ws_message_bytes} bytes")
            return None
        try:
            message = json.loads(text)
        except ValueError:
            await self.error('a message is one JSON object, like {"type": "move", ...}')
            return None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.error("a message is a JSON object with a string 'type'")
            return None
        return message

    async def authenticate(self) -> tuple[str, str] | None:
        """Waits for ``{"type": "auth", "token": ...}``: the session's (token, display name); None
        after closing the socket with 4401 when it does not come or names no live session."""
        try:
            message = await asyncio.wait_for(self.receive(), AUTH_TIMEOUT_S)
        except TimeoutError:
            message = None
        token = None if message is None else message.get("token")
        if message is None or message.get("type") != "auth" or not isinstance(token, str):
            await self.error('the first message is {"type": "auth", "token": <session token>}')
            await self.socket.close(CLOSE_UNAUTHENTICATED)
            return None
        try:
            session = await lookup_session(self.backend, token)
        except Unauthenticated as error:
            await self.error(str(error))
            await self.socket.close(CLOSE_UNAUTHENTICATED)
            return None
        return token, session.name


@router.websocket("/ws/play/{game_id}")
async def play(socket: WebSocket, game_id: str) -> None:
    """Play the caller's seat: views out, moves in (module docstring)."""
    await socket.accept()
    conn = Connection(socket, backend_of(socket))
    games = conn.backend.games
    OPEN.labels("play").inc()
    try:
        auth = await conn.authenticate()
        if auth is None:
            return
        token, name = auth
        try:
            joined = await games.join_game(game_id, Joiner(session_token=token), display_name=name[:64])
        except (NotFound, InvalidArgument) as error:
            await conn.error(str(error))
            await socket.close(CLOSE_NOT_FOUND)
            return
        except ServiceError as error:
            await conn.error(str(error))
            await socket.close(1008)
            return
        info = joined.game
        log.info("player joined", extra={"game_id": game_id, "seat": joined.seat})
        await conn.send({"type": "joined", "seat": joined.seat, "game": game_json(info)})
        views = asyncio.create_task(_relay_views(conn, info, joined.player_token, joined.seat))
        moves = asyncio.create_task(_take_moves(conn, info, joined.player_token))
        _, pending = await asyncio.wait((views, moves), return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in (views, moves):
            try:
                await task
            except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                pass  # the browser went away (a send after its close raises RuntimeError)
            except ServiceError as error:  # the view stream broke (the Game Service went away)
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await conn.error(str(error))
        log.info("player left", extra={"game_id": game_id, "seat": joined.seat})
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await socket.close(1000)
    except WebSocketDisconnect:
        pass
    finally:
        OPEN.labels("play").dec()


async def _relay_views(conn: Connection, info: GameInfo, player_token: str, seat: int) -> None:
    """The seat's views from the Game Service to the browser, until done."""
    async for view in conn.backend.games.stream_view(info.game_id, player_token):
        if view.tick == 0 or view.done:
            info = await conn.backend.games.get_game(info.game_id)  # seats joined, result
        await conn.send(view_json(view, info))
        if view.done:
            await conn.send({"type": "over", "game": game_json(info)})
            return


async def _take_moves(conn: Connection, info: GameInfo, player_token: str) -> None:
    """Moves, clears and surrenders from the browser to the Game Service, until it disconnects."""
    games, game_id = conn.backend.games, info.game_id
    height, width = info.board.height, info.board.width
    while True:
        message = await conn.receive()
        if message is None:
            continue
        kind = message["type"]
        try:
            if kind == "move":
                action = encode_move(message, height, width)
                queued = await games.submit_moves(game_id, player_token, [action])
                await conn.send({"type": "queued", "queue_length": queued.queue_length, "tick": queued.tick})
            elif kind == "clear":
                cleared = await games.clear_moves(game_id, player_token)
                await conn.send({"type": "cleared", "cleared": cleared})
            elif kind == "surrender":
                tick = await games.surrender(game_id, player_token)
                await conn.send({"type": "surrendered", "tick": tick})
            elif kind == "ping":
                await conn.send({"type": "pong"})
            else:
                await conn.error(f"unknown message type {kind!r:.40}: send move, clear, surrender or ping")
        except ServiceError as error:  # the Game Service said no: nothing changed
            await conn.error(str(error))


@router.websocket("/ws/queue")
async def queue(socket: WebSocket) -> None:
    """Wait in a Matchmaker queue: ``{"type": "find", "mode": "1v1"}`` after auth, then ticket
    updates and finally ``matched`` with the game id (play it on ``/ws/play``). Closing the
    socket while queued cancels the ticket."""
    await socket.accept()
    conn = Connection(socket, backend_of(socket))
    matchmaker = conn.backend.matchmaker
    OPEN.labels("queue").inc()
    ticket_id = ""
    final = False
    try:
        auth = await conn.authenticate()
        if auth is None:
            return
        token, _ = auth
        while not ticket_id:
            message = await conn.receive()
            if message is None:
                continue
            if message["type"] != "find":
                await conn.error('send {"type": "find", "mode": "1v1"} to queue')
                continue
            mode = message.get("mode", "1v1")
            if mode not in ("1v1", "ffa"):
                await conn.error(f"find: mode is 1v1 or ffa, got {mode!r:.40}")
                continue
            number = common_pb2.GAME_MODE_1V1 if mode == "1v1" else common_pb2.GAME_MODE_FFA
            try:
                ticket_id = (await matchmaker.find_match(session_token=token, mode=number)).ticket_id
            except ServiceError as error:
                await conn.error(str(error))
        async for ticket in matchmaker.watch_ticket(ticket_id):
            status = TICKET_STATUS.get(ticket.status, "unknown")
            out: dict[str, Any] = {"type": "ticket", "status": status, "waited_s": round(ticket.waited_s, 1)}
            if ticket.status == mm.TICKET_STATUS_MATCHED:
                out.update(type="matched", game_id=ticket.match.game_id, seat=ticket.match.seat)
                log.info("queue matched", extra={"game_id": ticket.match.game_id, "seat": ticket.match.seat})
            final = status in ("matched", "cancelled", "expired")
            await conn.send(out)
            if final:
                break
        await socket.close(1000)
    except WebSocketDisconnect:
        pass
    except ServiceError as error:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await conn.error(str(error))
            await socket.close(1011)
    finally:
        OPEN.labels("queue").dec()
        if ticket_id and not final:
            with contextlib.suppress(ServiceError):
                await matchmaker.cancel(ticket_id)


def fog_param(text: str) -> int | None:
    """``?fog=`` of ``/ws/watch``: empty, ``none`` or ``-1`` for the whole board, else a seat."""
    if text in ("", "none", "-1"):
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 2):
        raise InvalidArgument(f"fog: a seat number, or none for the whole board; got {text!r:.40}")
    return int(text)


@router.websocket("/ws/watch/{game_id}")
async def watch(socket: WebSocket, game_id: str) -> None:
    """Spectate any game of the Game Service (WatchGame): the whole board, or ``?fog=N`` what
    seat N sees, one frame a tick until the game ends. Public: no token."""
    await socket.accept()
    conn = Connection(socket, backend_of(socket))
    OPEN.labels("watch").inc()
    relay = asyncio.create_task(_relay_frames(conn, game_id, socket.query_params.get("fog", "")))
    closed = asyncio.create_task(_until_closed(socket))
    try:
        await asyncio.wait((relay, closed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (relay, closed):
            task.cancel()
        for task in (relay, closed):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
                await task  # the spectator went away (a send after its close raises RuntimeError)
        OPEN.labels("watch").dec()


async def _relay_frames(conn: Connection, game_id: str, fog_text: str) -> None:
    """``game``, the Game Service's spectator frames as ``board`` or ``view`` messages, ``over``."""
    games = conn.backend.games
    try:
        fog_of = fog_param(fog_text)
        info = await games.get_game(game_id)
        await conn.send({"type": "game", "game": game_json(info)})
        async for frame in games.watch_game(game_id, fog_of):
            if frame.tick == 0 or frame.done:
                info = await games.get_game(game_id)  # seats joined, result
            await conn.send(spectator_json(frame, info))
            if frame.done:
                await conn.send({"type": "over", "game": game_json(info)})
                break
    except (NotFound, PermissionDenied) as error:
        await conn.error(str(error))
        await conn.socket.close(CLOSE_NOT_FOUND)
        return
    except InvalidArgument as error:
        await conn.error(str(error))
        await conn.socket.close(CLOSE_BAD_REQUEST)
        return
    except ServiceError as error:  # the Game Service went away
        await conn.error(str(error))
        await conn.socket.close(1011)
        return
    await conn.socket.close(1000)


async def _until_closed(socket: WebSocket) -> None:
    """Returns when the spectator goes away (anything it sends is ignored)."""
    while (await socket.receive())["type"] != "websocket.disconnect":
        pass
