"""SPRT for promotion: the trinomial GSPRT's LLR, Wald's bounds, and its error rates on simulated matches."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.services.elo.ratings import Decision, SprtConfig, expected_score, llr_trinomial, sprt

counts = st.integers(0, 2000)
ORDER = {Decision.ACCEPT_H0: 0, Decision.CONTINUE: 1, Decision.ACCEPT_H1: 2}


def test_bounds_and_decisions() -> None:
    config = SprtConfig(elo0=0, elo1=50, alpha=0.05, beta=0.05)
    assert config.bounds() == pytest.approx((-math.log(19), math.log(19)))
    assert sprt(0, 0, 0, config).decision is Decision.CONTINUE and sprt(0, 0, 0, config).llr == 0
    assert sprt(300, 0, 100, config).decision is Decision.ACCEPT_H1
    assert sprt(100, 0, 110, config).decision is Decision.ACCEPT_H0
    result = sprt(30, 10, 25, config)
    assert result.decision is Decision.CONTINUE and result.lower < result.llr < result.upper
    assert (result.wins, result.draws, result.losses) == (30, 10, 25)
    for bad in ({"elo0": 5, "elo1": 5}, {"alpha": 0}, {"beta": 0.5}):
        with pytest.raises(ValueError):
            SprtConfig(**bad)
    with pytest.raises(ValueError):
        llr_trinomial(-1, 0, 0, 0, 50)


def test_llr_closed_forms() -> None:
    s0, s1 = expected_score(0, 0), expected_score(50, 0)
    # only wins: the best trinomial with mean s puts q_W = s, so each win adds log(s1 / s0)
    assert float(llr_trinomial(10, 0, 0, 0, 50)) == pytest.approx(10 * math.log(s1 / s0))
    assert float(llr_trinomial(0, 0, 10, 0, 50)) == pytest.approx(10 * math.log((1 - s1) / (1 - s0)))
    # only draws: q_D = 1 - |1 - 2s| under each hypothesis
    assert float(llr_trinomial(0, 10, 0, 0, 50)) == pytest.approx(10 * math.log(2 * (1 - s1)))
    # vectorized over arrays of counts
    many = llr_trinomial([10, 0], [0, 10], [0, 0], 0, 50)
    assert many.shape == (2,) and many[0] == pytest.approx(10 * math.log(s1 / s0))


@pytest.mark.parametrize("wdl", [(5, 3, 2), (40, 0, 60), (1, 20, 1), (0, 4, 9)])
def test_llr_is_the_generalized_likelihood_ratio(wdl: tuple[int, int, int]) -> None:
    """Against a brute-force maximization over the trinomials with the hypothesized expected score."""
    w, d, n_l = wdl

    def best_log_likelihood(s: float) -> float:
        t = np.linspace(0, 2 * min(s, 1 - s), 400_001)[(1 if d else 0) : -1]  # t = 0 is allowed without draws
        ll = w * np.log(s - t / 2) + (d * np.log(t) if d else 0) + n_l * np.log(1 - s - t / 2)
        return float(np.max(ll))

    expected = best_log_likelihood(expected_score(30, 0)) - best_log_likelihood(expected_score(-10, 0))
    assert float(llr_trinomial(w, d, n_l, -10, 30)) == pytest.approx(expected, abs=1e-6)


def test_llr_agrees_with_the_normal_approximation_for_many_games() -> None:
    """Fishtest's simplified LLR: n (s1 - s0) (2 s - s0 - s1) / (2 var) for large samples."""
    w, d, n_l = 4000, 3000, 3600
    n = w + d + n_l
    s = (w + d / 2) / n
    var = (w + d / 4) / n - s * s
    s0, s1 = expected_score(0, 0), expected_score(20, 0)
    approx = n * (s1 - s0) * (2 * s - s0 - s1) / (2 * var)
    assert float(llr_trinomial(w, d, n_l, 0, 20)) == pytest.approx(approx, rel=0.03)


@given(counts, counts, counts)
def test_decisions_are_monotone_in_evidence(w: int, d: int, n_l: int) -> None:
    config = SprtConfig(elo0=0, elo1=30)
    base = sprt(w, d, n_l, config)
    more_wins, more_losses = sprt(w + 1, d, n_l, config), sprt(w, d, n_l + 1, config)
    assert math.isfinite(base.llr)
    assert more_wins.llr >= base.llr - 1e-9 and more_losses.llr <= base.llr + 1e-9
    assert ORDER[more_wins.decision] >= ORDER[base.decision] >= ORDER[more_losses.decision]


def simulate_decisions(
    elo: float, draw_rate: float, config: SprtConfig, runs: int, max_games: int, seed: int
) -> dict[Decision, int]:
    """Run `runs` independent SPRTs on games from a candidate `elo` stronger; count the decisions."""
    rng = np.random.default_rng(seed)
    s = expected_score(elo, 0)
    p = [s - draw_rate / 2, draw_rate, 1 - s - draw_rate / 2]
    outcome = rng.choice(3, size=(runs, max_games), p=p)
    w, d, n_l = (np.cumsum(outcome == k, axis=1) for k in range(3))
    llr = llr_trinomial(w, d, n_l, config.elo0, config.elo1)
    lower, upper = config.bounds()
    decided = (llr >= upper) | (llr <= lower)
    first = np.argmax(decided, axis=1)
    tally = dict.fromkeys(Decision, 0)
    for run, k in enumerate(first):
        if not decided[run, k]:
            tally[Decision.CONTINUE] += 1
        else:
            tally[Decision.ACCEPT_H1 if llr[run, k] >= upper else Decision.ACCEPT_H0] += 1
    return tally


@pytest.mark.parametrize("draw_rate", [0.0, 0.3])
def test_error_rates_on_simulated_matches(draw_rate: float) -> None:
    config = SprtConfig(elo0=0, elo1=50, alpha=0.05, beta=0.05)
    runs = 300
    at_h0 = simulate_decisions(0, draw_rate, config, runs, 4000, seed=11)
    at_h1 = simulate_decisions(50, draw_rate, config, runs, 4000, seed=12)
    assert at_h0[Decision.CONTINUE] == at_h1[Decision.CONTINUE] == 0
    # type I and type II errors at most about 5% (Wald's bounds are conservative); 5% of 300 is 15
    assert at_h0[Decision.ACCEPT_H1] <= 27
    assert at_h1[Decision.ACCEPT_H0] <= 27
    # and the right hypothesis is accepted otherwise
    assert at_h0[Decision.ACCEPT_H0] >= 0.9 * runs and at_h1[Decision.ACCEPT_H1] >= 0.9 * runs
    # a clearly stronger candidate is promoted, a clearly weaker one rejected
    assert simulate_decisions(200, draw_rate, config, 100, 400, seed=13)[Decision.ACCEPT_H1] == 100
    assert simulate_decisions(-150, draw_rate, config, 100, 400, seed=14)[Decision.ACCEPT_H0] == 100
