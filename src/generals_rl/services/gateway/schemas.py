"""The gateway's request and response bodies: pydantic models, so that FastAPI checks what comes
in, shapes what goes out, and writes both into ``/openapi.json``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["1v1", "ffa"]
KindFilter = Literal["", "human", "bot", "model"]
StateFilter = Literal["", "pending", "accepted", "rejected", "retired"]


class Body(BaseModel):
    """A request body: unknown fields are refused (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")


# -- sessions and players ----------------------------------------------------------------------


class SessionIn(Body):
    name: str = Field(min_length=1, max_length=32, description="the name other players see")


class SessionOut(BaseModel):
    token: str | None = Field(
        default=None, description="send as `Authorization: Bearer <token>`; only on login"
    )
    user_id: str
    name: str
    expires_in_s: float


class PlayerOut(BaseModel):
    key: str = Field(description="`<kind>:<id>`, as rated by the Elo Service")
    kind: str
    name: str


class RatingOut(BaseModel):
    player: str
    mode: str
    rating: float = Field(description="Glicko-2 rating on the Elo scale")
    deviation: float
    lower: float = Field(description="lower end of the 95% interval")
    upper: float = Field(description="upper end of the 95% interval")
    elo: float
    games: int
    wins: int
    losses: int
    draws: int
    rank: int
    updated_at: str | None


class PlayerDetailOut(BaseModel):
    player: str
    ratings: dict[str, RatingOut] = Field(description="by mode")


class RatingPointOut(BaseModel):
    game_id: str
    at: str
    outcome: str
    place: int
    opponents: list[str]
    elo: float
    rating: float
    deviation: float


class HistoryOut(BaseModel):
    player: str
    mode: str
    points: list[RatingPointOut]
    next_page_token: str


class LeaderboardOut(BaseModel):
    mode: str
    entries: list[RatingOut]
    next_page_token: str
    total_size: int
    as_of: str | None


class HeadToHeadOut(BaseModel):
    a: str
    b: str
    games: int
    a_wins: int
    b_wins: int
    draws: int
    a_score: float
    a_expected: float
    recent_game_ids: list[str]


# -- games ----------------------------------------------------------------------------------------


class SeatOut(BaseModel):
    index: int
    player: str | None
    name: str
    hosted: bool
    joined: bool
    connected: bool
    alive: bool


class ResultPlayerOut(BaseModel):
    player: str
    seat: int
    outcome: str
    place: int


class ResultOut(BaseModel):
    reason: str
    ticks: int
    winner: int | None
    players: list[ResultPlayerOut]


class GameOut(BaseModel):
    game_id: str
    mode: str
    status: str
    clock: str | None
    speed: float
    tick: int
    width: int
    height: int
    max_ticks: int
    unrated: bool
    seats: list[SeatOut]
    created_at: str | None
    started_at: str | None
    ended_at: str | None
    result: ResultOut | None


class GamePageOut(BaseModel):
    games: list[GameOut]
    next_page_token: str
    total_size: int


class CreateGameIn(Body):
    opponent: str = Field(
        description="`bot:<name>` (random, expander, gatherer) or `model:<version or alias>`",
        examples=["bot:random", "model:champion"],
    )
    side: int | None = Field(
        default=None, ge=4, le=32, description="square map side; unset: generals.io's 1v1 maps"
    )
    speed: float = Field(1.0, ge=0.25, le=16.0, description="ticks every 0.5 s / speed")
    max_ticks: int = Field(0, ge=0, le=100_000, description="a draw after this many ticks; 0: 2000")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    seat: int | None = Field(default=None, ge=0, le=1, description="the human's seat; unset: 0")
    unrated: bool = False


class QueueOut(BaseModel):
    name: str
    waiting: int
    longest_wait_s: float
    median_wait_s: float


# -- replays --------------------------------------------------------------------------------------


class StoredReplayOut(BaseModel):
    id: str
    mode: str | None = None
    players: list[str] = []
    ticks: int | None = None
    ended_at: str | None = None
    winner: str | None = None
    uploaded: bool = False


class ReplayListOut(BaseModel):
    replays: list[StoredReplayOut]


class UploadOut(BaseModel):
    id: str
    names: list[str]
    width: int
    height: int
    turns: int


# -- models, training, tournaments ----------------------------------------------------------------


class VersionOut(BaseModel):
    version: int
    state: str
    status_reason: str
    aliases: list[str]
    architecture: str
    parent_version: int
    training_step: int
    metrics: dict[str, float]
    run_id: str
    description: str
    created_at: str | None


class VersionPageOut(BaseModel):
    versions: list[VersionOut]
    next_page_token: str
    total_size: int


class AliasOut(BaseModel):
    name: str
    version: int
    previous_version: int
    updated_at: str | None
    updated_by: str
    reason: str


class EventOut(BaseModel):
    id: int
    kind: str
    at: str | None
    actor: str
    reason: str
    version: int
    alias: str
    state: str | None
    previous_version: int


class PromoteIn(Body):
    version: int = Field(ge=1)
    reason: str = Field("", max_length=1000)


class RollbackIn(Body):
    to_version: int = Field(0, ge=0, description="0: the version the alias pointed at before")
    reason: str = Field("", max_length=1000)


class WinRateOut(BaseModel):
    version: int
    opponent: str
    games: int
    score: float = Field(description="wins + draws / 2, per game")


class TrainingOut(BaseModel):
    status: dict[str, Any] | None = Field(description="what `grl train` last wrote (docs/gateway.md)")
    status_age_s: float | None
    versions: list[VersionOut]
    events: list[EventOut]
    ratings: list[RatingOut] = Field(description="model versions, 1v1")
    win_rates: list[WinRateOut]


class TournamentIn(Body):
    name: str = Field("", max_length=128)
    format: Literal["round_robin", "swiss", "single_elimination"] = "round_robin"
    participants: list[str] = Field(min_length=2, max_length=256, description="`bot:<name>` or `model:<n>`")
    games_per_pairing: int = Field(2, ge=1, le=100)
    rounds: int = Field(0, ge=0, le=64)
    side: int | None = Field(default=None, ge=4, le=32)
    unrated: bool = False


class TournamentPageOut(BaseModel):
    tournaments: list[dict[str, Any]]
    next_page_token: str
