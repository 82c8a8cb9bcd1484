"""Head-to-head records: wins, losses and draws per ordered pair, score rates with Wilson intervals.

Every `PairResult` counts as one meeting whatever its weight, so a free-for-all game adds one
meeting to each pair of its players (won by the better placed). Records are kept for both
orientations: `records[a, b]` is a's record against b and `records[b, a]` its mirror.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from generals_rl.services.elo.rating.results import DRAW, WIN, PairResult
from generals_rl.stats import Z95, wilson_interval


@dataclass(frozen=True)
class HeadToHead:
    """One player's record against one opponent."""

    wins: int = 0
    losses: int = 0
    draws: int = 0

    @property
    def games(self) -> int:
        """Meetings played."""
        return self.wins + self.losses + self.draws

    @property
    def score(self) -> float:
        """Points scored: a win is 1, a draw 0.5."""
        return self.wins + 0.5 * self.draws

    def score_rate(self, prior_games: float = 0.0) -> float:
        """Score per game, shrunk towards 0.5 by `prior_games` virtual games (0.5 with no games at all).

        `prior_games=2` (one virtual win and one virtual loss, Laplace's rule) keeps the rate away from
        0 and 1 after a few games, which is what opponent sampling wants.
        """
        total = self.games + prior_games
        return 0.5 if total <= 0 else (self.score + 0.5 * prior_games) / total

    def interval(self, z: float = Z95) -> tuple[float, float]:
        """Wilson interval of the score rate (draws as half wins), (0, 1) with no games."""
        return wilson_interval(self.score, self.games, z)

    def mirrored(self) -> HeadToHead:
        """The same record from the opponent's side."""
        return HeadToHead(self.losses, self.wins, self.draws)

    def add(self, score: float) -> HeadToHead:
        """The record after one more meeting with `score` (1, 0.5 or 0)."""
        if score == WIN:
            return HeadToHead(self.wins + 1, self.losses, self.draws)
        if score == DRAW:
            return HeadToHead(self.wins, self.losses, self.draws + 1)
        return HeadToHead(self.wins, self.losses + 1, self.draws)


def head_to_head(results: Iterable[PairResult]) -> dict[tuple[str, str], HeadToHead]:
    """Records of every pair that met, keyed (player, opponent), both orientations present."""
    records: dict[tuple[str, str], HeadToHead] = {}
    for r in results:
        key = (r.player, r.opponent)
        records[key] = records.get(key, HeadToHead()).add(r.score)
        records[key[::-1]] = records[key].mirrored()
    return records


def records_of(player: str, records: dict[tuple[str, str], HeadToHead]) -> dict[str, HeadToHead]:
    """`player`'s record against each opponent it met."""
    return {b: rec for (a, b), rec in records.items() if a == player}
