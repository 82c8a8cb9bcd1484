"""Prioritized fictitious self-play: AlphaStar's weights with a floor, and the seeded opponent sampler."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.services.elo.ratings import OpponentMix, OpponentSampler, pfsp_weights

rates = st.lists(st.floats(0, 1), min_size=1, max_size=30)
schemes = st.sampled_from(["hard", "variance", "uniform"])


def test_weights_follow_the_schemes() -> None:
    assert pfsp_weights([0.0, 0.5, 1.0], "hard", k=2, floor=0) == pytest.approx([0.8, 0.2, 0.0])
    assert pfsp_weights([0.0, 0.5, 1.0], "hard", k=1, floor=0) == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert pfsp_weights([0.1, 0.5, 0.9], "variance", floor=0) == pytest.approx(
        np.array([0.09, 0.25, 0.09]) / 0.43
    )
    assert pfsp_weights([0.2, 0.7], "uniform") == pytest.approx([0.5, 0.5])
    # the floor: every opponent keeps floor / n, the rest follows f
    floored = pfsp_weights([0.0, 0.5, 1.0], "hard", k=2, floor=0.3)
    assert floored == pytest.approx(0.1 + 0.7 * np.array([0.8, 0.2, 0.0]))
    # an opponent the learner always beats, or nothing to prioritize: uniform
    assert pfsp_weights([1.0, 1.0], "hard", floor=0) == pytest.approx([0.5, 0.5])
    hard = pfsp_weights(np.linspace(0, 1, 11), "hard")
    assert np.all(np.diff(hard) < 0)
    variance = pfsp_weights(np.linspace(0, 1, 11), "variance")
    assert np.argmax(variance) == 5


@given(rates, schemes, st.floats(0.01, 1), st.floats(0.5, 4))
def test_weights_are_a_distribution_with_the_floor(
    p: list[float], scheme: str, floor: float, k: float
) -> None:
    w = pfsp_weights(p, scheme, k=k, floor=floor)  # type: ignore[arg-type]
    assert w.sum() == pytest.approx(1.0)
    assert np.all(w >= floor / len(p) - 1e-12)


def test_weights_reject_bad_input() -> None:
    for args in (([],), ([1.5],), ([np.nan],), ([0.5], "greedy"), ([0.5], "hard", 0.0)):
        with pytest.raises(ValueError):
            pfsp_weights(*args)
    with pytest.raises(ValueError):
        pfsp_weights([0.5], floor=2)
    with pytest.raises(ValueError):
        OpponentMix(latest=-1)


def test_sampler_mixes_latest_uniform_and_pfsp() -> None:
    sampler = OpponentSampler(OpponentMix(latest=0.5, uniform=0.2, pfsp=0.3), scheme="hard", k=2, floor=0)
    rates = {"v1": 0.0, "v2": 1.0}  # v3 has no record: p = 0.5
    probs = sampler.probabilities("v4", ["v1", "v2", "v3", "v4"], rates)
    pfsp = {"v1": 1 / 1.25, "v2": 0.0, "v3": 0.25 / 1.25}
    assert probs["v4"] == pytest.approx(0.5)
    for name in ("v1", "v2", "v3"):
        assert probs[name] == pytest.approx(0.2 / 3 + 0.3 * pfsp[name])
    assert sum(probs.values()) == pytest.approx(1.0)
    assert sampler.probabilities("v1", [], {}) == {"v1": 1.0}
    assert OpponentSampler(seed=0).sample("v1", [], {}, size=3) == ["v1"] * 3


def test_sampler_is_seeded_and_matches_its_probabilities() -> None:
    past = [f"v{i}" for i in range(8)]
    rates = {name: i / 8 for i, name in enumerate(past)}
    draws = OpponentSampler(seed=42).sample("latest", past, rates, size=20_000)
    assert draws == OpponentSampler(seed=42).sample("latest", past, rates, size=20_000)
    assert draws[:50] != OpponentSampler(seed=43).sample("latest", past, rates, size=50)
    probs = OpponentSampler().probabilities("latest", past, rates)
    for name, p in probs.items():
        assert draws.count(name) / len(draws) == pytest.approx(p, abs=0.015)
    generator = np.random.default_rng(5)
    assert OpponentSampler(seed=generator).rng is generator
