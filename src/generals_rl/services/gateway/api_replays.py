"""REST routes for replays: the stored games' ``.gioreplay`` files (blobs, ``replays`` bucket,
written by the Game Service), official ``.gioreplay`` / ``.gior`` files uploaded for viewing, and
both simulated for the browser's viewer (``frames``).

Replay ids: a game's id for our games (``replays/<game id>.gioreplay``), ``upload-<20 hex>``
for uploads (``replays/uploads/<id>.gioreplay``, the file as parsed and written back: a checked
``.gioreplay``; the id is a digest of it, so uploading a file twice gives one replay)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from generals_rl.game.replay_format import Replay, ReplayError
from generals_rl.services.common.errors import InvalidArgument, NotFound
from generals_rl.services.game.archive import REPLAYS, replay_key
from generals_rl.services.gateway.api_games import GAME_ID
from generals_rl.services.gateway.auth import BackendDep
from generals_rl.services.gateway.backend import Backend
from generals_rl.services.gateway.frames import replay_frames
from generals_rl.services.gateway.schemas import ReplayListOut, StoredReplayOut, UploadOut
from generals_rl.services.gateway.views import when
from generals_rl.storage import NotFoundError

router = APIRouter(prefix="/api/replays", tags=["replays"])

UPLOADS = "uploads/"
ReplayId = Annotated[str, Path(pattern=GAME_ID, description="a game id, or upload-<hex> for an upload")]


def blob_key(replay_id: str) -> str:
    return f"{UPLOADS}{replay_key(replay_id)}" if replay_id.startswith("upload-") else replay_key(replay_id)


async def read_replay(backend: Backend, replay_id: str) -> bytes:
    try:
        return await asyncio.to_thread(backend.stores.blobs.get, REPLAYS, blob_key(replay_id))
    except NotFoundError:
        raise NotFound(
            f"no replay {replay_id!r}: the game is unknown, not over yet, or was not stored"
        ) from None


@router.get("")
async def list_replays(
    backend: BackendDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReplayListOut:
    """Finished games with a stored replay (newest first), then the uploads."""
    database = backend.stores.database

    def stored() -> list[StoredReplayOut]:
        names: dict[str, str] = {}

        def name(player_id: str) -> str:
            if player_id not in names:
                player = database.players.get(player_id)
                names[player_id] = f"{player.kind}:{player.name}"
            return names[player_id]

        games = database.games.list(status="finished", limit=limit, offset=offset)
        out = [
            StoredReplayOut(
                id=g.id,
                mode=g.mode,
                players=[name(p) for p in g.player_ids],
                ticks=g.ticks,
                ended_at=when(g.ended_at),
                winner=None if g.winner_id is None else name(g.winner_id),
            )
            for g in games
            if g.replay_location
        ]
        if offset == 0:
            keys = backend.stores.blobs.list(REPLAYS, UPLOADS)
            uploads = [k.removeprefix(UPLOADS).removesuffix(".gioreplay") for k in keys]
            out += [StoredReplayOut(id=u, uploaded=True) for u in sorted(uploads)]
        return out

    return ReplayListOut(replays=await asyncio.to_thread(stored))


@router.get(
    "/{replay_id}.gioreplay",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "the .gioreplay file"}},
)
async def download(replay_id: ReplayId, backend: BackendDep) -> Response:
    """The replay as an official ``.gioreplay`` file (generals.io's own viewer reads it)."""
    data = await read_replay(backend, replay_id)
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{replay_id}.gioreplay"'},
    )


@router.get(
    "/{replay_id}/frames",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "frames (docs/gateway.md)"}},
)
async def frames(replay_id: ReplayId, backend: BackendDep) -> Response:
    """Every tick of the replay for the viewer: the first board, then each tick's changes."""
    cached = backend.frames.get(replay_id)
    if cached is None:
        data = await read_replay(backend, replay_id)

        def simulate() -> bytes:
            replay = Replay.from_bytes(data)
            out = replay_frames(replay, replay_id, backend.config.max_replay_ticks)
            return json.dumps(out, separators=(",", ":")).encode()

        try:
            cached = await asyncio.to_thread(simulate)
        except ReplayError as error:
            raise InvalidArgument(f"replay {replay_id!r} cannot be shown: {error}") from None
        backend.frames.put(replay_id, cached)
    return Response(cached, media_type="application/json")


@router.post(
    "",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the bytes of a .gioreplay (JSON) or .gior (lz-string) file",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(request: Request, backend: BackendDep) -> UploadOut:
    """Upload an official replay to watch it here (the format is read from the content)."""
    limit = backend.config.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"a replay upload is at most {limit} bytes, this one has {declared}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"a replay upload is at most {limit} bytes")
    if not body:
        raise InvalidArgument("the upload is empty: send the bytes of a .gioreplay or .gior file")

    def check_and_store() -> UploadOut:
        replay = Replay.from_bytes(bytes(body))
        text = replay.to_gioreplay().encode("utf-8")
        replay_id = "upload-" + hashlib.sha256(text).hexdigest()[:20]
        frames = replay_frames(replay, replay_id, backend.config.max_replay_ticks)  # fails here, not later
        backend.stores.blobs.put(REPLAYS, blob_key(replay_id), text)
        backend.frames.put(replay_id, json.dumps(frames, separators=(",", ":")).encode())
        names = [n or f"player {i}" for i, n in enumerate(replay.usernames)]
        return UploadOut(
            id=replay_id,
            names=names,
            width=replay.map_width,
            height=replay.map_height,
            turns=replay.last_turn,
        )

    try:
        return await asyncio.to_thread(check_and_store)
    except ReplayError as error:
        raise InvalidArgument(f"not a replay this viewer can show: {error}") from None
