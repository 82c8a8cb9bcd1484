"""Glicko-2 (Glickman, "Example of the Glicko-2 system", 2013): rating, rating deviation, volatility.

A rating period collects games; at its end every player is updated from its opponents' ratings at
the start of the period (steps 1-8 of the paper, with the Illinois root finder of step 5 for the
new volatility). A player who did not play keeps its rating and volatility, and its deviation grows
by the volatility (step 6), capped at `max_rd` (the deviation of a new player, as is usual).

Scale: the displayed rating r and deviation RD relate to the paper's internal mu, phi by
mu = (r - 1500) / (400 / ln 10), phi = RD / (400 / ln 10), the same logistic scale as Elo.
An approximate 95% interval is r +- 1.96 RD.

Extension: each game may carry a weight w (the pairwise decomposition of a free-for-all game gives
1/(n-1)); it multiplies the game's terms in v^-1 and Delta, i.e. the game's log-likelihood. With
w = 1 this is exactly Glickman's algorithm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from generals_rl.services.elo.rating.elo import ELO_PER_NAT
from generals_rl.services.elo.rating.results import PairResult
from generals_rl.stats import Z95

_MAX_ITERATIONS = 200


@dataclass(frozen=True)
class Glicko2Config:
    """Glicko-2 settings: tau (how fast volatility may change; 0.3-1.2), start values, tolerance."""

    tau: float = 0.5
    initial_rating: float = 1500.0
    initial_rd: float = 350.0
    initial_volatility: float = 0.06
    max_rd: float = 350.0
    epsilon: float = 1e-6

    def __post_init__(self) -> None:
        if not (self.tau > 0 and self.initial_rd > 0 and self.initial_volatility > 0 and self.epsilon > 0):
            raise ValueError("tau, initial_rd, initial_volatility and epsilon must be positive")
        if self.max_rd < self.initial_rd:
            raise ValueError("max_rd must be >= initial_rd")

    def new_player(self) -> Glicko2Rating:
        """The rating of a player who has not played yet."""
        return Glicko2Rating(self.initial_rating, self.initial_rd, self.initial_volatility)


@dataclass(frozen=True)
class Glicko2Rating:
    """A Glicko-2 rating: `rating` (Elo-like scale), deviation `rd`, `volatility` sigma."""

    rating: float = 1500.0
    rd: float = 350.0
    volatility: float = 0.06

    def interval(self, z: float = Z95) -> tuple[float, float]:
        """Approximate confidence interval rating +- z RD (95% by default)."""
        return self.rating - z * self.rd, self.rating + z * self.rd


def _g(phi: float) -> float:
    return 1.0 / math.sqrt(1.0 + 3.0 * phi * phi / (math.pi * math.pi))


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _new_volatility(phi: float, sigma: float, delta: float, v: float, tau: float, eps: float) -> float:
    """Step 5: the root of f by the Illinois (regula falsi) method, as in the paper."""
    a = math.log(sigma * sigma)

    def f(x: float) -> float:
        ex = math.exp(x)
        d = phi * phi + v + ex
        return ex * (delta * delta - phi * phi - v - ex) / (2.0 * d * d) - (x - a) / (tau * tau)

    big_a = a
    if delta * delta > phi * phi + v:
        big_b = math.log(delta * delta - phi * phi - v)
    else:
        k = 1
        while f(a - k * tau) < 0 and k < _MAX_ITERATIONS:
            k += 1
        big_b = a - k * tau
    f_a, f_b = f(big_a), f(big_b)
    for _ in range(_MAX_ITERATIONS):
        if abs(big_b - big_a) <= eps:
            break
        big_c = big_a + (big_a - big_b) * f_a / (f_b - f_a)
        f_c = f(big_c)
        if f_c * f_b <= 0:
            big_a, f_a = big_b, f_b
        else:
            f_a /= 2.0
        big_b, f_b = big_c, f_c
    return math.exp(big_a / 2.0)


def glicko2_update(
    player: Glicko2Rating,
    opponents: Sequence[Glicko2Rating],
    scores: Sequence[float],
    config: Glicko2Config = Glicko2Config(),
    weights: Sequence[float] | None = None,
) -> Glicko2Rating:
    """The player's rating at the end of a rating period in which it played `opponents` with `scores`.

    Opponents' ratings are theirs at the start of the period. With no games, only RD grows.
    """
    if len(opponents) != len(scores) or (weights is not None and len(weights) != len(scores)):
        raise ValueError("opponents, scores and weights must have the same length")
    ws = [1.0] * len(scores) if weights is None else list(weights)
    mu = (player.rating - config.initial_rating) / ELO_PER_NAT
    phi = player.rd / ELO_PER_NAT
    sigma = player.volatility
    info = 0.0  # 1 / v
    gain = 0.0  # sum w g (s - E)
    for opp, s, w in zip(opponents, scores, ws, strict=True):
        mu_j = (opp.rating - config.initial_rating) / ELO_PER_NAT
        g = _g(opp.rd / ELO_PER_NAT)
        e = _logistic(g * (mu - mu_j))
        info += w * g * g * e * (1.0 - e)
        gain += w * g * (s - e)
    max_phi = config.max_rd / ELO_PER_NAT
    if info <= 0.0:  # no games (or none carrying information): step 6 only
        phi_new = min(math.sqrt(phi * phi + sigma * sigma), max_phi)
        return Glicko2Rating(player.rating, phi_new * ELO_PER_NAT, sigma)
    v = 1.0 / info
    delta = v * gain
    sigma_new = _new_volatility(phi, sigma, delta, v, config.tau, config.epsilon)
    phi_star = math.sqrt(phi * phi + sigma_new * sigma_new)
    phi_new = min(1.0 / math.sqrt(1.0 / (phi_star * phi_star) + info), max_phi)
    mu_new = mu + phi_new * phi_new * gain
    return Glicko2Rating(config.initial_rating + mu_new * ELO_PER_NAT, phi_new * ELO_PER_NAT, sigma_new)


def glicko2_period(
    ratings: Mapping[str, Glicko2Rating],
    results: Iterable[PairResult],
    config: Glicko2Config = Glicko2Config(),
) -> dict[str, Glicko2Rating]:
    """Ratings of everyone at the end of one rating period (the players of `ratings` and of `results`).

    Each result counts for both its players; players without games only see their RD grow.
    """
    games: dict[str, list[tuple[str, float, float]]] = {p: [] for p in ratings}
    for r in results:
        games.setdefault(r.player, []).append((r.opponent, r.score, r.weight))
        games.setdefault(r.opponent, []).append((r.player, 1.0 - r.score, r.weight))
    before = {p: ratings.get(p) or config.new_player() for p in games}
    return {
        p: glicko2_update(
            before[p],
            [before[o] for o, _, _ in played],
            [s for _, s, _ in played],
            config,
            [w for _, _, w in played],
        )
        for p, played in games.items()
    }
