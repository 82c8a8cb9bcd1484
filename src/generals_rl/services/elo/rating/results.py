"""Game results as the rating methods read them: one pairwise result per pair of players.

A 1v1 game is one `PairResult`. A free-for-all game of n players is decomposed by placement into
its n(n-1)/2 pairs, each weighted 1/(n-1), so that every player's total weight in one game is 1
whatever the number of players (the usual "pairwise Elo" for multiplayer games).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

#: Scores a player can get from one game against one opponent.
WIN, DRAW, LOSS = 1.0, 0.5, 0.0


@dataclass(frozen=True)
class PairResult:
    """One game (or one pair within a free-for-all game) from `player`'s side.

    `score` is `player`'s score: 1 win, 0.5 draw, 0 loss. `weight` is how much the pair counts
    (1 for a 1v1 game, 1/(n-1) for a pair within an n-player game).
    """

    player: str
    opponent: str
    score: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.player == self.opponent:
            raise ValueError(f"a player cannot play itself: {self.player!r}")
        if self.score not in (WIN, DRAW, LOSS):
            raise ValueError(f"score must be 1 (win), 0.5 (draw) or 0 (loss), got {self.score!r}")
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"weight must be positive and finite, got {self.weight!r}")

    def reversed(self) -> PairResult:
        """The same result from the opponent's side."""
        return PairResult(self.opponent, self.player, 1.0 - self.score, self.weight)


def placement_pairs(places: Mapping[str, int]) -> list[PairResult]:
    """Decompose one game with placements (1 = winner; equal places are draws) into weighted pairs.

    Works for 1v1 (`{a: 1, b: 2}`; a draw is `{a: 1, b: 1}`) and free-for-all games alike. Each pair
    appears once, from the side of the player listed first in `places`, with weight 1/(n-1).
    """
    players = list(places)
    if len(players) < 2:
        raise ValueError(f"a game needs at least two players, got {players!r}")
    for name, place in places.items():
        if isinstance(place, bool) or not isinstance(place, numbers.Integral) or place < 1:
            raise ValueError(f"place of {name!r} must be an integer >= 1, got {place!r}")
    weight = 1.0 / (len(players) - 1)
    pairs = []
    for i, a in enumerate(players):
        for b in players[i + 1 :]:
            pa, pb = places[a], places[b]
            score = WIN if pa < pb else LOSS if pa > pb else DRAW
            pairs.append(PairResult(a, b, score, weight))
    return pairs
