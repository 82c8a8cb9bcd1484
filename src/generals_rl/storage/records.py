"""Plain records the SQL stores take and return: frozen dataclasses, never ORM objects.

Timestamps are timezone-aware UTC ``datetime``s on every backend. String enums are ``Literal``s and
their allowed values are listed in the ``*_VALUES`` tuples, which the schema's check constraints use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

PlayerKind = Literal["human", "bot", "model"]
GameMode = Literal["1v1", "ffa"]
GameStatus = Literal["pending", "running", "finished", "aborted"]
Outcome = Literal["win", "loss", "draw"]
ModelStatus = Literal["pending", "accepted", "rejected", "retired"]
ModelEventKind = Literal["created", "status", "alias_set", "alias_deleted"]

PLAYER_KINDS: tuple[str, ...] = get_args(PlayerKind)
GAME_MODES: tuple[str, ...] = get_args(GameMode)
GAME_STATUSES: tuple[str, ...] = get_args(GameStatus)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
MODEL_STATUSES: tuple[str, ...] = get_args(ModelStatus)
MODEL_EVENT_KINDS: tuple[str, ...] = get_args(ModelEventKind)

# A game may move forward only: pending -> running -> finished | aborted (or pending -> aborted).
GAME_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"pending", "running", "finished", "aborted"}),
    "running": frozenset({"running", "finished", "aborted"}),
    "finished": frozenset({"finished"}),
    "aborted": frozenset({"aborted"}),
}


@dataclass(frozen=True)
class Player:
    """Someone who plays: a human, a scripted bot, or a model version (``model_version`` set)."""

    id: str
    kind: PlayerKind
    name: str
    created_at: datetime
    model_version: int | None = None


@dataclass(frozen=True)
class NewGame:
    """What the Game Service knows when it creates a game. ``id`` is generated when left empty."""

    mode: GameMode
    map: str
    width: int
    height: int
    player_ids: tuple[str, ...]
    speed: float = 1.0
    id: str = ""
    status: GameStatus = "pending"
    started_at: datetime | None = None


@dataclass(frozen=True)
class Game:
    """A game as stored: players in seat order (seat 0 first), clocks, result summary, replay blob key."""

    id: str
    mode: GameMode
    map: str
    width: int
    height: int
    player_ids: tuple[str, ...]
    speed: float
    status: GameStatus
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    ticks: int
    winner_id: str | None
    replay_location: str | None


@dataclass(frozen=True)
class MatchResult:
    """One player's result in one game; unique per (game, player). Placement 1 is the best."""

    game_id: str
    player_id: str
    seat: int
    outcome: Outcome
    placement: int


@dataclass(frozen=True)
class HeadToHead:
    """Games two players played together, counted from ``a``'s side by placement."""

    a: str
    b: str
    games: int
    a_ahead: int
    b_ahead: int
    even: int


@dataclass(frozen=True)
class Rating:
    """A player's current rating in one mode's pool (1v1 and FFA are rated apart): Elo, plus an uncertainty
    model's numbers on its own scale (``mu``/``sigma`` for OpenSkill or a Bayesian fit; rating/RD/volatility
    for Glicko-2)."""

    player_id: str
    elo: float
    mu: float | None = None
    sigma: float | None = None
    volatility: float | None = None
    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    updated_at: datetime | None = None
    mode: GameMode = "1v1"


@dataclass(frozen=True)
class RatingChange:
    """One player's rating before and after one game (``elo_before`` is ``None`` when it was the first)."""

    player_id: str
    game_id: str
    elo_before: float | None
    elo_after: float
    mu_before: float | None
    mu_after: float | None
    sigma_before: float | None
    sigma_after: float | None
    at: datetime


@dataclass(frozen=True)
class AppliedRatings:
    """What ``RatingStore.apply_game`` did: ``applied`` is False when the game had been applied before
    (then ``changes`` are the ones stored the first time)."""

    applied: bool
    changes: tuple[RatingChange, ...]


@dataclass(frozen=True)
class NewModelVersion:
    """A model version as a learner publishes it; the store assigns the version number."""

    architecture: str
    config: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None
    training_step: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    weights_location: str | None = None
    checksum: str | None = None
    status: ModelStatus = "pending"
    reason: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    """A stored model version; weights live in the blob store at ``weights_location``."""

    version: int
    architecture: str
    config: dict[str, Any]
    parent: int | None
    training_step: int
    metrics: dict[str, Any]
    weights_location: str | None
    checksum: str | None
    status: ModelStatus
    reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ModelAlias:
    """A name (``champion``, ``latest``) pointing at a version, with the last change's who and why."""

    alias: str
    version: int
    updated_at: datetime
    updated_by: str
    reason: str | None


@dataclass(frozen=True)
class ModelEvent:
    """One change to the model registry: a version created, its status changed, an alias set or deleted."""

    id: int
    kind: ModelEventKind
    at: datetime
    actor: str
    reason: str | None
    version: int | None
    alias: str | None
    previous_version: int | None
    status: ModelStatus | None
