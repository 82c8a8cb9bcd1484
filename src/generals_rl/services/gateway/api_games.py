"""REST routes for games (the Game Service) and the Matchmaker's queues: list, show, and create a
1v1 between the caller and a scripted bot or a model version. Playing happens over the WebSocket
of ``live``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.game.domain import (
    EngineOptions,
    GameFilter,
    GameSpec,
    GeneratorSpec,
    PlayerRef,
    SeatSpec,
)
from generals_rl.services.gateway.api_models import selector
from generals_rl.services.gateway.auth import BackendDep, Session
from generals_rl.services.gateway.backend import Backend
from generals_rl.services.gateway.schemas import CreateGameIn, GameOut, GamePageOut, QueueOut
from generals_rl.services.gateway.views import game_json

router = APIRouter(prefix="/api", tags=["games"])

GAME_ID = r"^[A-Za-z0-9_-]{1,64}$"
"""Game and replay ids: URL-safe (the Game Service's ids are ``token_urlsafe``)."""


async def opponent_ref(backend: Backend, opponent: str) -> PlayerRef:
    """``bot:<name>``, or ``model:<version or alias>`` resolved to its version by the Model Service."""
    kind, _, name = opponent.partition(":")
    if kind == "bot" and name:
        return PlayerRef("bot", name)  # the Game Service checks the name
    if kind == "model" and name:
        info = await backend.models.get_version(selector(name))
        return PlayerRef("model", str(info.version))
    raise InvalidArgument(f"opponent: write bot:<name> or model:<version or alias>, got {opponent!r:.80}")


@router.get("/games")
async def list_games(
    backend: BackendDep,
    status: Annotated[str, Query(pattern="^(|pending|running|finished|aborted)$")] = "",
    mode: Annotated[str, Query(pattern="^(|1v1|ffa)$")] = "",
    player: str = "",
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: str = "",
) -> GamePageOut:
    """Live and recently finished games of the Game Service, newest first."""
    ref = None
    if player:
        kind, _, name = player.partition(":")
        if kind not in ("human", "bot", "model") or not name:
            raise InvalidArgument(f"player: write <kind>:<id>, got {player!r:.80}")
        ref = PlayerRef(kind, name)  # type: ignore[arg-type]
    page = await backend.games.list_games(
        GameFilter(status=status or None, mode=mode or None, player=ref),  # type: ignore[arg-type]
        page_size=page_size,
        page_token=page_token,
    )
    return GamePageOut(
        games=[GameOut.model_validate(game_json(g)) for g in page.games],
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )


@router.get("/games/{game_id}")
async def get_game(game_id: Annotated[str, Path(pattern=GAME_ID)], backend: BackendDep) -> GameOut:
    """One game: seats, status, tick and, once over, its result."""
    return GameOut.model_validate(game_json(await backend.games.get_game(game_id)))


@router.post("/games", status_code=201)
async def create_game(body: CreateGameIn, session: Session, backend: BackendDep) -> GameOut:
    """A real-time 1v1 between the caller and a hosted bot or model version. It starts when the
    caller connects to ``/ws/play/{game_id}``; a game nobody joins is aborted after 5 minutes."""
    opponent = await opponent_ref(backend, body.opponent)
    human = SeatSpec(PlayerRef("human", session.user_id))
    hosted = SeatSpec(opponent, hosted=True)
    seats = (hosted, human) if body.seat == 1 else (human, hosted)
    generator = None
    if body.side is not None:
        generator = GeneratorSpec(
            side=(body.side, body.side),
            cities=(0, max(0, body.side // 4)),
            min_distance=(body.side // 2, body.side - 1),
            fair_radius=2,
            min_room=3,
        )
    spec = GameSpec(
        mode="1v1",
        map=generator,
        seed=body.seed,
        speed=body.speed,
        clock="real_time",
        engine=EngineOptions(max_ticks=body.max_ticks),
        seats=seats,
        unrated=body.unrated,
    )
    return GameOut.model_validate(game_json(await backend.games.create_game(spec)))


@router.get("/queues")
async def list_queues(backend: BackendDep) -> list[QueueOut]:
    """The Matchmaker's queues: who waits, and for how long."""
    queues = await backend.matchmaker.list_queues()
    return [
        QueueOut(
            name=q.name, waiting=q.waiting, longest_wait_s=q.longest_wait_s, median_wait_s=q.median_wait_s
        )
        for q in queues
    ]
