"""Opponent sampling for self-play actors (SampleOpponents): latest version, uniform, or PFSP.

Candidates are the newest ``window`` accepted model versions from the Model Service (all of them
when ``window`` is 0), plus the scripted bots when asked. The learner's win rate x against each
comes from the Elo Service's head-to-head records, smoothed as if the two had also played two
even games (``HeadToHead.score_rate(prior_games=2)``: 0.5 when they never met). Weights:

- LATEST: everything on the newest accepted version (the learner may be that version);
- UNIFORM: equal over the candidates, the learner excluded;
- PFSP: ``elo.rating.pfsp.pfsp_weights`` with no floor, f(x) = (1 - x)^exponent (HARD) or
  x (1 - x) (VARIANCE): opponents that beat the learner are drawn more often.

``count`` opponents are drawn with replacement from a ``numpy`` generator seeded by ``seed``, so
the same seed and records give the same opponents.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from generals_rl.services.common.errors import FailedPrecondition, InvalidArgument
from generals_rl.services.elo.ratings import HeadToHead, pfsp_weights
from generals_rl.services.matchmaker.core import Models as ModelRegistry
from generals_rl.services.matchmaker.core import PlayerRef, Ratings, check_player
from generals_rl.services.matchmaker.pairing import Kind

MAX_COUNT = 1024
_H2H_CONCURRENCY = 32


class Strategy(StrEnum):
    LATEST = "latest"
    UNIFORM = "uniform"
    PFSP = "pfsp"


class Weighting(StrEnum):
    HARD = "hard"
    VARIANCE = "variance"


@dataclass(frozen=True)
class SampleRequest:
    """A SampleOpponents request; 0 and empty fields take the contract's defaults."""

    strategy: str
    learner: PlayerRef | None = None
    count: int = 0
    window: int = 0
    include_bots: bool = False
    architecture: str = ""
    weighting: str = Weighting.HARD
    exponent: float = 0.0
    mode: str = "1v1"
    seed: int = 0


@dataclass(frozen=True)
class Candidate:
    """One candidate of the distribution drawn from."""

    player: PlayerRef
    probability: float
    learner_win_rate: float
    games: int


@dataclass(frozen=True)
class Sample:
    """The opponents drawn, in draw order, and the distribution, most probable first."""

    opponents: tuple[PlayerRef, ...]
    candidates: tuple[Candidate, ...]


async def sample_opponents(
    request: SampleRequest, models: ModelRegistry, ratings: Ratings, bots: tuple[str, ...]
) -> Sample:
    """Draw opponents as the module docstring says; errors as the SampleOpponents contract lists."""
    try:
        strategy = Strategy(request.strategy)
    except ValueError:
        raise InvalidArgument(
            f"strategy: expected latest, uniform or pfsp, got {request.strategy!r}"
        ) from None
    try:
        weighting = Weighting(request.weighting)
    except ValueError:
        raise InvalidArgument(f"weighting: expected hard or variance, got {request.weighting!r}") from None
    count = request.count or 1
    if not 1 <= count <= MAX_COUNT:
        raise InvalidArgument(f"count: 1..{MAX_COUNT}, got {request.count}")
    exponent = request.exponent or 2.0
    if not math.isfinite(exponent) or exponent <= 0:
        raise InvalidArgument(f"exponent: a number > 0, got {request.exponent}")
    if request.window < 0:
        raise InvalidArgument(f"window: >= 0, got {request.window}")
    if request.mode not in ("1v1", "ffa"):
        raise InvalidArgument(f"mode: expected 1v1 or FFA, got {request.mode!r}")
    learner = check_player(request.learner, "learner") if request.learner is not None else None
    if strategy is Strategy.PFSP and learner is None:
        raise InvalidArgument("learner: PFSP weighs opponents by the learner's record, name the learner")

    versions = await models.accepted(request.architecture)
    if request.window:
        versions = versions[: request.window]
    if strategy is Strategy.LATEST:
        if not versions:
            raise FailedPrecondition("no accepted model version to play against")
        players = [PlayerRef.model(versions[0])]
    else:
        players = [PlayerRef.model(v) for v in versions]
        if request.include_bots:
            players += [PlayerRef(Kind.BOT, name) for name in bots]
        players = [p for p in players if p != learner]
        if not players:
            raise FailedPrecondition(
                "no candidate: no accepted model version (other than the learner) and no bots"
            )

    records = await _records(learner, players, ratings, request.mode)
    rates = [rec.score_rate(prior_games=2) for rec in records]
    if strategy is Strategy.PFSP:
        weights = pfsp_weights(rates, weighting.value, k=exponent, floor=0.0)
    else:
        weights = np.full(len(players), 1.0 / len(players))
    seed = request.seed or secrets.randbits(63)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(players), size=count, p=weights / weights.sum())
    candidates = [
        Candidate(p, float(w), rate, rec.games)
        for p, w, rate, rec in zip(players, weights, rates, records, strict=True)
    ]
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].probability)
    return Sample(tuple(players[int(i)] for i in picks), tuple(candidates[i] for i in order))


async def _records(
    learner: PlayerRef | None, players: list[PlayerRef], ratings: Ratings, mode: str
) -> list[HeadToHead]:
    """The learner's record against each player (empty without a learner, or against itself)."""
    limit = asyncio.Semaphore(_H2H_CONCURRENCY)

    async def one(player: PlayerRef) -> HeadToHead:
        if learner is None or player == learner:
            return HeadToHead()
        async with limit:
            return await ratings.head_to_head(learner, player, mode)

    return list(await asyncio.gather(*(one(p) for p in players)))
