"""REST routes for people and ratings: guest login, players, the leaderboard with 95% intervals,
rating history and head-to-head records (the Elo Service)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Response

from generals_rl.services.common import sessions
from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.elo.domain import PlayerRating, PlayerRef
from generals_rl.services.gateway.auth import BackendDep, Session, SessionToken
from generals_rl.services.gateway.schemas import (
    HeadToHeadOut,
    HistoryOut,
    KindFilter,
    LeaderboardOut,
    Mode,
    PlayerDetailOut,
    PlayerOut,
    RatingOut,
    RatingPointOut,
    SessionIn,
    SessionOut,
)
from generals_rl.services.gateway.views import when

router = APIRouter(prefix="/api")

Kind = Annotated[KindFilter, Query(description="only players of this kind")]
PageSize = Annotated[int, Query(ge=0, le=500)]


def rating_out(r: PlayerRating) -> RatingOut:
    return RatingOut(
        player=str(r.player),
        mode=r.mode,
        rating=r.rating,
        deviation=r.deviation,
        lower=r.lower,
        upper=r.upper,
        elo=r.elo,
        games=r.games,
        wins=r.wins,
        losses=r.losses,
        draws=r.draws,
        rank=r.rank,
        updated_at=when(r.updated_at),
    )


# -- sessions --------------------------------------------------------------------------------------


@router.post("/session", status_code=201, tags=["sessions"])
async def login(body: SessionIn, backend: BackendDep) -> SessionOut:
    """A guest session: the name shown to others, a fresh user id (``<name>#<4 hex>``), a token."""
    name = body.name.strip()
    if not name or not name.isprintable() or "#" in name:
        raise InvalidArgument("a name is 1..32 printable characters without '#'")
    user_id = f"{name}#{secrets.token_hex(2)}"
    ttl = backend.config.session_ttl_s
    token = await asyncio.to_thread(sessions.create_session, backend.stores.cache, name, ttl, user_id=user_id)
    return SessionOut(token=token, user_id=user_id, name=name, expires_in_s=ttl)


@router.get("/session", tags=["sessions"])
async def whoami(session: Session, backend: BackendDep) -> SessionOut:
    """The session of the bearer token (401 when unknown or expired)."""
    return SessionOut(user_id=session.user_id, name=session.name, expires_in_s=backend.config.session_ttl_s)


@router.delete("/session", status_code=204, tags=["sessions"])
async def logout(token: SessionToken, backend: BackendDep) -> Response:
    """Forget the token (a no-op for an unknown one)."""
    await asyncio.to_thread(sessions.end_session, backend.stores.cache, token)
    return Response(status_code=204)


# -- players and ratings ------------------------------------------------------------------------------


@router.get("/players", tags=["players"])
async def list_players(
    backend: BackendDep,
    kind: Kind = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PlayerOut]:
    """Players who have played a stored game, oldest first."""
    players = await asyncio.to_thread(
        backend.stores.database.players.list,
        kind=kind or None,
        limit=limit,
        offset=offset,
    )
    return [PlayerOut(key=f"{p.kind}:{p.name}", kind=p.kind, name=p.name) for p in players]


@router.get("/players/{key}", tags=["players"])
async def get_player(key: str, backend: BackendDep) -> PlayerDetailOut:
    """A player's ratings in every mode (``key`` is ``<kind>:<id>``, like ``bot:random``)."""
    ref = PlayerRef.parse(key)
    ratings = await asyncio.gather(*(backend.elo.get_rating(ref, mode) for mode in ("1v1", "ffa")))
    return PlayerDetailOut(player=str(ref), ratings={r.mode: rating_out(r) for r in ratings})


@router.get("/players/{key}/history", tags=["players"])
async def rating_history(
    key: str, backend: BackendDep, mode: Mode = "1v1", page_size: PageSize = 0, page_token: str = ""
) -> HistoryOut:
    """A player's rating after each rated game, oldest first."""
    ref = PlayerRef.parse(key)
    page = await backend.elo.rating_history(ref, mode, page_size=page_size, page_token=page_token)
    return HistoryOut(
        player=str(ref),
        mode=mode,
        points=[
            RatingPointOut(
                game_id=p.game_id,
                at=p.at.isoformat(),
                outcome=p.outcome,
                place=p.place,
                opponents=[str(o) for o in p.opponents],
                elo=p.elo,
                rating=p.rating,
                deviation=p.deviation,
            )
            for p in page.points
        ],
        next_page_token=page.page.next_page_token,
    )


@router.get("/leaderboard", tags=["ratings"])
async def leaderboard(
    backend: BackendDep,
    mode: Mode = "1v1",
    kind: Kind = "",
    min_games: Annotated[int, Query(ge=0)] = 0,
    order: Annotated[str, Query(pattern="^(rating|lower|elo)$")] = "rating",
    page_size: PageSize = 0,
    page_token: str = "",
) -> LeaderboardOut:
    """Ratings best first, each with its 95% interval (``lower`` .. ``upper``)."""
    page = await backend.elo.leaderboard(
        mode, kind=kind, min_games=min_games, order=order, page_size=page_size, page_token=page_token
    )
    return LeaderboardOut(
        mode=mode,
        entries=[rating_out(r) for r in page.entries],
        next_page_token=page.page.next_page_token,
        total_size=page.page.total_size,
        as_of=when(page.as_of),
    )


@router.get("/head-to-head", tags=["ratings"])
async def head_to_head(a: str, b: str, backend: BackendDep, mode: Mode = "1v1") -> HeadToHeadOut:
    """Two players' record against each other, from ``a``'s side."""
    record = await backend.elo.head_to_head(PlayerRef.parse(a), PlayerRef.parse(b), mode, recent=10)
    return HeadToHeadOut(
        a=str(record.a),
        b=str(record.b),
        games=record.games,
        a_wins=record.a_wins,
        b_wins=record.b_wins,
        draws=record.draws,
        a_score=record.a_score,
        a_expected=record.a_expected,
        recent_game_ids=list(record.recent_game_ids),
    )
