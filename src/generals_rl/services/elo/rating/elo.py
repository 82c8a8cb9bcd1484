"""Incremental Elo: expected score, K per player by games played, updates for 1v1 and free-for-all games.

Conventions: logistic Elo on the 400-point scale (a 400-point edge is 10:1 odds), new players start
at 1500. After a game, player i moves by K_i * sum_j w * (S_ij - E_ij) over its opponents j, with
S_ij its score against j (1, 0.5, 0), E_ij the expected score from the ratings *before* the game
and w = 1/(n-1) in an n-player game (1 in a 1v1), so one free-for-all game moves a rating about as
much as one 1v1 game. K is `provisional_k` for a player's first `provisional_games` games, `k`
after: new players find their level fast, established ones are stable.

The update is deterministic and, with equal K on both sides, zero-sum. Incremental Elo is
*order-dependent* by nature: the same games replayed in another order give other ratings (each
game is scored against the ratings of the moment). Use the Bradley-Terry fit for an
order-independent estimate with confidence intervals, and Glicko-2 for an online rating with an
uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from generals_rl.services.elo.rating.results import DRAW, WIN, PairResult, placement_pairs

ELO_SCALE = 400.0
ELO_PER_NAT = ELO_SCALE / math.log(10.0)  # 173.7178: logistic units to Elo points
INITIAL_RATING = 1500.0


def expected_score(rating: float, opponent: float, scale: float = ELO_SCALE) -> float:
    """Expected score of a player rated `rating` against one rated `opponent`: 1 / (1 + 10^(-d/scale)).

    Numerically stable for any finite difference; `expected_score(a, b) + expected_score(b, a) == 1`.
    """
    z = (rating - opponent) * math.log(10.0) / scale
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class EloConfig:
    """Elo settings: K for established and provisional players, the start rating and the scale."""

    k: float = 20.0
    provisional_k: float = 40.0
    provisional_games: int = 30
    initial_rating: float = INITIAL_RATING
    scale: float = ELO_SCALE

    def __post_init__(self) -> None:
        if not (self.k > 0 and self.provisional_k > 0 and self.scale > 0):
            raise ValueError("k, provisional_k and scale must be positive")
        if self.provisional_games < 0:
            raise ValueError("provisional_games must be >= 0")

    def k_for(self, games_played: int) -> float:
        """K of a player who has played `games_played` games before this one."""
        return self.provisional_k if games_played < self.provisional_games else self.k


@dataclass(frozen=True)
class EloRating:
    """A player's Elo rating and the number of games it rests on."""

    rating: float = INITIAL_RATING
    games: int = 0


def elo_update(
    ratings: Mapping[str, EloRating], places: Mapping[str, int], config: EloConfig = EloConfig()
) -> dict[str, EloRating]:
    """New ratings of the players of one game, given their placements (1 = winner, equal = draw).

    Players missing from `ratings` start at `config.initial_rating`. Only the game's players are
    returned; every expected score uses the ratings before the game (simultaneous update).
    """
    before = {p: ratings.get(p, EloRating(config.initial_rating, 0)) for p in places}
    delta = dict.fromkeys(places, 0.0)
    for pair in placement_pairs(places):
        a, b = before[pair.player], before[pair.opponent]
        surprise = pair.weight * (pair.score - expected_score(a.rating, b.rating, config.scale))
        delta[pair.player] += surprise
        delta[pair.opponent] -= surprise
    return {p: EloRating(r.rating + config.k_for(r.games) * delta[p], r.games + 1) for p, r in before.items()}


def elo_update_1v1(
    a: EloRating, b: EloRating, score_a: float, config: EloConfig = EloConfig()
) -> tuple[EloRating, EloRating]:
    """New ratings after one 1v1 game; `score_a` is a's score (1 win, 0.5 draw, 0 loss)."""
    PairResult("a", "b", score_a)  # validates the score
    places = {"a": 1, "b": 1} if score_a == DRAW else {"a": 1, "b": 2} if score_a == WIN else {"a": 2, "b": 1}
    new = elo_update({"a": a, "b": b}, places, config)
    return new["a"], new["b"]


def replay_elo(
    games: Iterable[Mapping[str, int]],
    config: EloConfig = EloConfig(),
    start: Mapping[str, EloRating] | None = None,
) -> dict[str, EloRating]:
    """Ratings after playing `games` (placements, in the order given) from `start` (default: none)."""
    ratings = dict(start or {})
    for places in games:
        ratings.update(elo_update(ratings, places, config))
    return ratings
