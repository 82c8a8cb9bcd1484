"""REST routes for policy versions and their aliases (the Model Service), promote and rollback
(admin token), tournaments (the Matchmaker) and the training page's numbers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.elo.domain import PlayerRef as EloRef
from generals_rl.services.gateway.api_players import rating_out
from generals_rl.services.gateway.auth import Admin, BackendDep
from generals_rl.services.gateway.schemas import (
    AliasOut,
    EventOut,
    PromoteIn,
    RollbackIn,
    StateFilter,
    TournamentIn,
    TournamentPageOut,
    TrainingOut,
    VersionOut,
    VersionPageOut,
    WinRateOut,
)
from generals_rl.services.gateway.views import when
from generals_rl.services.matchmaker.core import BOT_NAMES
from generals_rl.services.model.domain import Actor, AliasInfo, Event, Selector, VersionInfo
from generals_rl.v1 import common_pb2, game_pb2
from generals_rl.v1 import matchmaker_pb2 as mm

router = APIRouter(prefix="/api")

KINDS = {
    "human": common_pb2.PLAYER_KIND_HUMAN,
    "bot": common_pb2.PLAYER_KIND_BOT,
    "model": common_pb2.PLAYER_KIND_MODEL,
}
KIND_NAMES = {number: name for name, number in KINDS.items()}
FORMATS = {
    "round_robin": mm.TOURNAMENT_FORMAT_ROUND_ROBIN,
    "swiss": mm.TOURNAMENT_FORMAT_SWISS,
    "single_elimination": mm.TOURNAMENT_FORMAT_SINGLE_ELIMINATION,
}
STATUSES = {
    mm.TOURNAMENT_STATUS_RUNNING: "running",
    mm.TOURNAMENT_STATUS_FINISHED: "finished",
    mm.TOURNAMENT_STATUS_FAILED: "failed",
}


def selector(target: str) -> Selector:
    """A version number (ASCII digits: ``"¹".isdigit()`` is true too) or else an alias name."""
    if target.isascii() and target.isdigit():
        return Selector(version=int(target))
    return Selector(alias=target)


def version_out(v: VersionInfo) -> VersionOut:
    m = v.metadata
    return VersionOut(
        version=v.version,
        state=v.state,
        status_reason=v.status_reason,
        aliases=list(v.aliases),
        architecture=m.architecture,
        parent_version=m.parent_version,
        training_step=m.training_step,
        metrics=dict(m.metrics),
        run_id=m.run_id,
        description=m.description,
        created_at=when(v.created_at),
    )


def alias_out(a: AliasInfo) -> AliasOut:
    return AliasOut(
        name=a.name,
        version=a.version,
        previous_version=a.previous_version,
        updated_at=when(a.updated_at),
        updated_by=a.updated_by.name,
        reason=a.updated_by.reason,
    )


def event_out(e: Event) -> EventOut:
    return EventOut(
        id=e.id,
        kind=e.kind,
        at=when(e.at),
        actor=e.actor.name,
        reason=e.actor.reason,
        version=e.version,
        alias=e.alias,
        state=e.state,
        previous_version=e.previous_version,
    )


# -- models --------------------------------------------------------------------------------------


@router.get("/models", tags=["models"])
async def list_models(
    backend: BackendDep,
    state: StateFilter = "",
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: str = "",
) -> VersionPageOut:
    """Policy versions, newest first."""
    page = await backend.models.list_versions(
        state=state or None,
        page_size=page_size,
        page_token=page_token,
    )
    return VersionPageOut(
        versions=[version_out(v) for v in page.versions],
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )


@router.get("/models/{target}", tags=["models"])
async def get_model(
    target: Annotated[str, Path(max_length=64, description="a version number or an alias")],
    backend: BackendDep,
) -> VersionOut:
    """One version, by number or alias (``champion``, ``latest``, ``candidate``)."""
    return version_out(await backend.models.get_version(selector(target)))


@router.get("/aliases", tags=["models"])
async def list_aliases(backend: BackendDep) -> list[AliasOut]:
    return [alias_out(a) for a in await backend.models.list_aliases()]


@router.get("/events", tags=["models"])
async def list_events(
    backend: BackendDep,
    version: Annotated[int, Query(ge=0)] = 0,
    alias: str = "",
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: str = "",
) -> list[EventOut]:
    """The registry's changes, newest first: who did what and why."""
    page = await backend.models.list_events(
        version=version, alias=alias, page_size=page_size, page_token=page_token
    )
    return [event_out(e) for e in page.events]


@router.post("/aliases/{alias}/promote", tags=["models"])
async def promote(alias: str, body: PromoteIn, actor: Admin, backend: BackendDep) -> AliasOut:
    """Point ``alias`` at a version (admin token); the reason is recorded."""
    return alias_out(await backend.models.promote(body.version, alias, Actor(actor, body.reason)))


@router.post("/aliases/{alias}/rollback", tags=["models"])
async def rollback(alias: str, body: RollbackIn, actor: Admin, backend: BackendDep) -> AliasOut:
    """Point ``alias`` back at an earlier version (admin token); the reason is recorded."""
    return alias_out(await backend.models.rollback(alias, body.to_version, Actor(actor, body.reason)))


# -- training --------------------------------------------------------------------------------------


@router.get("/training", tags=["training"])
async def training(backend: BackendDep) -> TrainingOut:
    """The training page: what ``grl train`` last reported (throughput, policy lag), the versions
    with their promotion reasons, model ratings with intervals, and win rates against the bots."""
    raw = await asyncio.to_thread(backend.stores.cache.get, backend.config.training_key)
    status: dict[str, Any] | None = None
    age = None
    if raw is not None:
        try:
            loaded = json.loads(raw)
            status = loaded if isinstance(loaded, dict) else {"value": loaded}
        except ValueError:
            status = {"error": "the training status in the cache is not JSON"}
        updated = status.get("updated_at")
        if isinstance(updated, int | float):
            age = max(0.0, time.time() - float(updated))
    versions, events, board = await asyncio.gather(
        backend.models.list_versions(page_size=50),
        backend.models.list_events(page_size=100),
        backend.elo.leaderboard("1v1", kind="model", page_size=200),
    )
    recent = [v.version for v in versions.versions if v.state == "accepted"][:8]
    pairs = [(v, bot) for v in recent for bot in BOT_NAMES]
    records = await asyncio.gather(
        *(backend.elo.head_to_head(EloRef("model", str(v)), EloRef("bot", bot), "1v1") for v, bot in pairs)
    )
    win_rates = [
        WinRateOut(version=v, opponent=f"bot:{bot}", games=r.games, score=r.a_score / r.games)
        for (v, bot), r in zip(pairs, records, strict=True)
        if r.games
    ]
    return TrainingOut(
        status=status,
        status_age_s=age,
        versions=[version_out(v) for v in versions.versions],
        events=[event_out(e) for e in events.events],
        ratings=[rating_out(r) for r in board.entries],
        win_rates=win_rates,
    )


# -- tournaments ------------------------------------------------------------------------------------


def ref_key(ref: common_pb2.PlayerRef) -> str | None:
    return f"{KIND_NAMES[ref.kind]}:{ref.id}" if ref.kind in KIND_NAMES else None


def tournament_json(t: mm.Tournament) -> dict[str, Any]:
    return {
        "tournament_id": t.tournament_id,
        "name": t.name,
        "format": next((k for k, v in FORMATS.items() if v == t.format), "unknown"),
        "status": STATUSES.get(t.status, "unknown"),
        "participants": [ref_key(p) for p in t.participants],
        "games_per_pairing": t.games_per_pairing,
        "total_rounds": t.total_rounds,
        "rounds": [
            {
                "number": r.number,
                "finished": r.finished,
                "pairings": [
                    {
                        "a": ref_key(p.a),
                        "b": ref_key(p.b),
                        "game_ids": list(p.game_ids),
                        "a_points": p.a_points,
                        "b_points": p.b_points,
                        "finished": p.finished,
                        "winner": ref_key(p.winner),
                    }
                    for p in r.pairings
                ],
            }
            for r in t.rounds
        ],
        "standings": [
            {
                "rank": s.rank,
                "player": ref_key(s.player),
                "points": s.points,
                "games": s.games,
                "wins": s.wins,
                "losses": s.losses,
                "draws": s.draws,
                "tiebreak": s.tiebreak,
                "eliminated": s.eliminated,
            }
            for s in t.standings
        ],
        "winner": ref_key(t.winner),
        "unrated": t.unrated,
        "created_at": t.created_at.ToJsonString() if t.HasField("created_at") else None,
        "ended_at": t.ended_at.ToJsonString() if t.HasField("ended_at") else None,
        "error": t.error,
    }


@router.get("/tournaments", tags=["tournaments"])
async def list_tournaments(
    backend: BackendDep, page_size: Annotated[int, Query(ge=0, le=100)] = 0, page_token: str = ""
) -> TournamentPageOut:
    """Tournaments, newest first, with rounds and standings."""
    page = await backend.matchmaker.list_tournaments(page_size=page_size, page_token=page_token)
    return TournamentPageOut(
        tournaments=[tournament_json(t) for t in page.tournaments],
        next_page_token=page.page.next_page_token,
    )


@router.get("/tournaments/{tournament_id}", tags=["tournaments"])
async def get_tournament(
    tournament_id: Annotated[str, Path(max_length=128)], backend: BackendDep
) -> dict[str, Any]:
    return tournament_json(await backend.matchmaker.get_tournament(tournament_id))


@router.post("/tournaments", status_code=201, tags=["tournaments"])
async def create_tournament(body: TournamentIn, actor: Admin, backend: BackendDep) -> dict[str, Any]:
    """Start a tournament between bots and model versions (admin token: it costs server time)."""
    participants = []
    for text in body.participants:
        kind, _, name = text.partition(":")
        if kind not in ("bot", "model") or not name:
            raise InvalidArgument(f"participants: write bot:<name> or model:<version>, got {text!r:.80}")
        participants.append(common_pb2.PlayerRef(kind=KINDS[kind], id=name))
    request = mm.CreateTournamentRequest(
        name=body.name,
        format=FORMATS[body.format],
        participants=participants,
        games_per_pairing=body.games_per_pairing,
        rounds=body.rounds,
        unrated=body.unrated,
    )
    if body.side is not None:
        request.generator.CopyFrom(game_pb2.MapConfig(side=game_pb2.IntRange(low=body.side, high=body.side)))
    return tournament_json(await backend.matchmaker.create_tournament(request))
