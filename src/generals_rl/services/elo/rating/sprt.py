"""Sequential probability ratio test for promotion, as chess-engine testing (fishtest) runs it.

H0: the candidate is `elo0` Elo stronger than the champion; H1: it is `elo1` stronger (elo1 > elo0).
Elo is logistic Elo: a difference d means an expected score s(d) = 1 / (1 + 10^(-d/400)).

The log-likelihood ratio is the generalized SPRT of the trinomial (win/draw/loss) model, as
fishtest's `LLR_logistic`: under each hypothesis the outcome distribution is the one of maximum
likelihood for the observed counts *among the distributions whose expected score is s(elo)*, and
LLR = sum over outcomes of n_k log(q1_k / q0_k). With 3 outcomes and 2 constraints that maximum
has a closed form (the smaller root of a quadratic, `_constrained_mle`), so the LLR is exact, needs
no regularization, and is finite for any counts: a win can never add more than log(s1 / s0).
Games are not paired (no pentanomial statistics): each game is one independent trinomial draw.

Wald's bounds: accept H1 when LLR >= log((1 - beta) / alpha), accept H0 when
LLR <= log(beta / (1 - alpha)), otherwise play on. Then P(accept H1 | elo0) <= ~alpha and
P(accept H0 | elo1) <= ~beta (Wald's bounds are slightly conservative as the LLR overshoots them).

Defaults: elo0 = 0, elo1 = 50, alpha = beta = 0.05. Successive RL versions differ by tens of Elo,
not by the few points of an engine patch; with these the test decides in a few hundred games.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from generals_rl.services.elo.rating.elo import expected_score


class Decision(enum.StrEnum):
    """What the test says after the games so far."""

    ACCEPT_H1 = "accept_h1"
    ACCEPT_H0 = "accept_h0"
    CONTINUE = "continue"


@dataclass(frozen=True)
class SprtConfig:
    """Hypotheses (Elo of candidate minus champion) and error rates."""

    elo0: float = 0.0
    elo1: float = 50.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not self.elo1 > self.elo0:
            raise ValueError(f"elo1 must exceed elo0, got elo0={self.elo0}, elo1={self.elo1}")
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise ValueError("alpha and beta must lie in (0, 0.5)")

    def bounds(self) -> tuple[float, float]:
        """Wald's (lower, upper) LLR bounds."""
        return math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha)


@dataclass(frozen=True)
class SprtResult:
    """The decision with the evidence behind it."""

    decision: Decision
    llr: float
    lower: float
    upper: float
    wins: int
    draws: int
    losses: int


def _constrained_mle(
    n_w: NDArray[np.float64], n_d: NDArray[np.float64], n_l: NDArray[np.float64], s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The (win, draw, loss) probabilities of maximum likelihood for the counts with expected score s.

    With q_D = t the constraint leaves q_W = s - t/2 and q_L = 1 - s - t/2; setting the derivative
    of n_W log q_W + n_D log t + n_L log q_L to zero gives N t^2 - (2 n_D + 2(1-s) n_W + 2 s n_L) t
    + 4 s (1-s) n_D = 0, whose smaller root is the maximum (t = 0 when there are no draws).
    """
    n = n_w + n_d + n_l
    b = 2.0 * n_d + 2.0 * (1.0 - s) * n_w + 2.0 * s * n_l
    c = 4.0 * s * (1.0 - s) * n_d
    disc = np.sqrt(np.maximum(b * b - 4.0 * n * c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        # 2c / (b + disc) is the smaller root without the cancellation of (b - disc) / (2n)
        t = np.where(c > 0, 2.0 * c / (b + disc), 0.0)
    t = np.clip(t, 0.0, 2.0 * min(s, 1.0 - s))
    return s - t / 2.0, t, 1.0 - s - t / 2.0


def llr_trinomial(
    wins: ArrayLike, draws: ArrayLike, losses: ArrayLike, elo0: float, elo1: float
) -> NDArray[np.float64]:
    """The GSPRT log-likelihood ratio of H1 (elo1) against H0 (elo0), elementwise over count arrays.

    0 with no games; increases with wins and decreases with losses when elo1 > elo0.
    """
    n_w, n_d, n_l = (np.asarray(x, dtype=np.float64) for x in (wins, draws, losses))
    if np.any(n_w < 0) or np.any(n_d < 0) or np.any(n_l < 0):
        raise ValueError("counts must be >= 0")
    s0, s1 = expected_score(elo0, 0.0), expected_score(elo1, 0.0)
    q0, q1 = _constrained_mle(n_w, n_d, n_l, s0), _constrained_mle(n_w, n_d, n_l, s1)
    total = np.zeros(np.broadcast(n_w, n_d, n_l).shape)
    for count, a, b in zip((n_w, n_d, n_l), q1, q0, strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = count * (np.log(a) - np.log(b))
        total = total + np.where(count > 0, term, 0.0)
    return total


def sprt(wins: int, draws: int, losses: int, config: SprtConfig = SprtConfig()) -> SprtResult:
    """Run the test on the candidate's wins, draws and losses against the champion so far."""
    llr = float(llr_trinomial(wins, draws, losses, config.elo0, config.elo1))
    lower, upper = config.bounds()
    decision = (
        Decision.ACCEPT_H1 if llr >= upper else Decision.ACCEPT_H0 if llr <= lower else Decision.CONTINUE
    )
    return SprtResult(decision, llr, lower, upper, wins, draws, losses)
