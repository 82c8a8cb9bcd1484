"""Prioritized fictitious self-play (AlphaStar, Vinyals et al. 2019): which past opponent to play next.

Given the learner's win rate p against each past opponent, an opponent is drawn with probability
proportional to f(p):
- "hard":     f(p) = (1 - p)^k   (k = 2 by default): opponents the learner does not beat yet;
- "variance": f(p) = p (1 - p):    opponents near the learner's level (most informative games);
- "uniform":  f(p) = 1:            plain fictitious self-play.
A floor mixes in the uniform distribution, P_i = floor / n + (1 - floor) f_i / sum f, so that every
opponent keeps a probability of at least floor / n (opponents beaten every time are not forgotten);
if every f_i is 0 the draw is uniform.

`OpponentSampler` mixes three sources, AlphaStar-like: the latest version (self-play), a uniform
draw over past versions, and a PFSP draw over past versions. Win rates should be smoothed
(`HeadToHead.score_rate(prior_games=2)`); opponents with no record count as p = 0.5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Scheme = Literal["hard", "variance", "uniform"]


def pfsp_weights(
    win_rates: ArrayLike, scheme: Scheme = "hard", k: float = 2.0, floor: float = 0.05
) -> NDArray[np.float64]:
    """Sampling probabilities over opponents from the learner's win rates against them (sum to 1)."""
    p = np.asarray(win_rates, dtype=np.float64).reshape(-1)
    if p.size == 0:
        raise ValueError("no opponents")
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("win rates must lie in [0, 1]")
    if not 0 <= floor <= 1:
        raise ValueError(f"floor must lie in [0, 1], got {floor!r}")
    if scheme == "hard":
        if k <= 0:
            raise ValueError(f"k must be positive, got {k!r}")
        f = (1.0 - p) ** k
    elif scheme == "variance":
        f = p * (1.0 - p)
    elif scheme == "uniform":
        f = np.ones_like(p)
    else:
        raise ValueError(f"unknown PFSP scheme {scheme!r}")
    uniform = np.full_like(p, 1.0 / p.size)
    total = float(f.sum())
    if total <= 0:
        return uniform
    return floor * uniform + (1.0 - floor) * f / total


@dataclass(frozen=True)
class OpponentMix:
    """Shares of the three opponent sources (normalized when used)."""

    latest: float = 0.35
    uniform: float = 0.15
    pfsp: float = 0.5

    def __post_init__(self) -> None:
        shares = (self.latest, self.uniform, self.pfsp)
        if min(shares) < 0 or sum(shares) <= 0:
            raise ValueError("shares must be >= 0 and not all 0")


class OpponentSampler:
    """Draws opponents for a learner from the latest version and its past versions, reproducibly."""

    def __init__(
        self,
        mix: OpponentMix = OpponentMix(),
        scheme: Scheme = "hard",
        k: float = 2.0,
        floor: float = 0.05,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.mix, self.scheme, self.k, self.floor = mix, scheme, k, floor
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def probabilities(
        self, latest: str, past: Sequence[str], win_rates: Mapping[str, float]
    ) -> dict[str, float]:
        """Probability of each opponent; with no past versions, the latest has them all."""
        past = [p for p in dict.fromkeys(past) if p != latest]
        if not past:
            return {latest: 1.0}
        total = self.mix.latest + self.mix.uniform + self.mix.pfsp
        if self.mix.uniform + self.mix.pfsp == 0:
            return {latest: 1.0}
        weights = pfsp_weights([win_rates.get(p, 0.5) for p in past], self.scheme, self.k, self.floor)
        probs = {latest: self.mix.latest / total}
        for name, w in zip(past, weights, strict=True):
            probs[name] = (self.mix.uniform / len(past) + self.mix.pfsp * float(w)) / total
        return probs

    def sample(
        self, latest: str, past: Sequence[str], win_rates: Mapping[str, float], size: int = 1
    ) -> list[str]:
        """`size` opponents drawn independently from `probabilities`."""
        probs = self.probabilities(latest, past, win_rates)
        names = list(probs)
        p = np.array([probs[n] for n in names])
        picks = self.rng.choice(len(names), size=size, p=p / p.sum())
        return [names[int(i)] for i in picks]
