"""Rating mathematics of the Elo Service: Elo, Glicko-2, the Bradley-Terry fit and head-to-head records."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.services.elo.ratings import (
    DRAW,
    LOSS,
    WIN,
    EloConfig,
    EloRating,
    Glicko2Config,
    Glicko2Rating,
    HeadToHead,
    PairResult,
    elo_update,
    elo_update_1v1,
    expected_score,
    fit_bradley_terry,
    glicko2_period,
    glicko2_update,
    head_to_head,
    placement_pairs,
    records_of,
    replay_elo,
)
from generals_rl.stats import wilson_interval

ratings_st = st.floats(-5000, 5000, allow_nan=False)
scores_st = st.sampled_from([WIN, DRAW, LOSS])
names = ["a", "b", "c", "d", "e"]
result_st = st.tuples(st.sampled_from(names), st.sampled_from(names), scores_st).filter(
    lambda t: t[0] != t[1]
)
history_st = st.lists(result_st.map(lambda t: PairResult(*t)), min_size=1, max_size=40)


def simulate_round_robin(
    strengths: np.ndarray, games_per_pair: int, rng: np.random.Generator
) -> list[PairResult]:
    """Win/loss games between every pair, won with the Elo model's probability."""
    results = []
    for i in range(len(strengths)):
        for j in range(i + 1, len(strengths)):
            p = expected_score(float(strengths[i]), float(strengths[j]))
            for won in rng.random(games_per_pair) < p:
                results.append(PairResult(f"p{i}", f"p{j}", WIN if won else LOSS))
    return results


# ---------------------------------------------------------------- results and incremental Elo


def test_expected_score_values() -> None:
    assert expected_score(1500, 1500) == 0.5
    assert expected_score(1900, 1500) == pytest.approx(10 / 11)
    assert expected_score(1500, 1900) == pytest.approx(1 / 11)
    assert expected_score(-1e6, 1e6) == 0.0
    assert expected_score(1e6, -1e6) == 1.0


@given(ratings_st, ratings_st)
def test_expected_scores_sum_to_one(a: float, b: float) -> None:
    assert expected_score(a, b) + expected_score(b, a) == pytest.approx(1.0, abs=1e-12)
    assert 0.0 <= expected_score(a, b) <= 1.0


def test_k_by_games_played() -> None:
    config = EloConfig(k=20, provisional_k=40, provisional_games=30)
    assert config.k_for(0) == config.k_for(29) == 40
    assert config.k_for(30) == config.k_for(1000) == 20


def test_elo_1v1_win_draw_loss() -> None:
    established = EloRating(1500, games=100)
    a, b = elo_update_1v1(established, established, WIN)
    assert (a.rating, b.rating) == (1510, 1490) and (a.games, b.games) == (101, 101)
    a, b = elo_update_1v1(established, established, DRAW)
    assert (a.rating, b.rating) == (1500, 1500)
    a, b = elo_update_1v1(EloRating(1500, 0), EloRating(1500, 0), LOSS)  # provisional: K = 40
    assert (a.rating, b.rating) == (1480, 1520)
    # a draw against a weaker player costs the stronger one
    a, b = elo_update_1v1(EloRating(1900, 50), EloRating(1500, 50), DRAW)
    assert a.rating == pytest.approx(1900 - 20 * (10 / 11 - 0.5))
    assert b.rating == pytest.approx(1500 + 20 * (10 / 11 - 0.5))


@given(ratings_st, ratings_st, scores_st, st.integers(0, 100))
def test_elo_1v1_is_zero_sum(ra: float, rb: float, score: float, games: int) -> None:
    a, b = elo_update_1v1(EloRating(ra, games), EloRating(rb, games), score)
    assert a.rating + b.rating == pytest.approx(ra + rb, abs=1e-9)
    assert math.isfinite(a.rating) and math.isfinite(b.rating)
    # the winner never loses points, the loser never gains
    if score == WIN:
        assert a.rating >= ra and b.rating <= rb


def test_elo_ffa_is_pairwise_with_k_over_n_minus_1() -> None:
    config = EloConfig(k=30, provisional_games=0)
    new = elo_update({}, {"x": 1, "y": 2, "z": 3, "w": 4}, config)
    # equal ratings: x beats 3 players, each pair weighted 1/3: +30 * (3 * 0.5) / 3 = +15
    assert new["x"].rating == pytest.approx(1515)
    assert new["y"].rating == pytest.approx(1505)
    assert new["z"].rating == pytest.approx(1495)
    assert new["w"].rating == pytest.approx(1485)
    tie = elo_update({}, {"x": 1, "y": 1, "z": 2}, config)
    assert tie["x"].rating == tie["y"].rating == pytest.approx(1507.5)
    assert tie["z"].rating == pytest.approx(1485)
    # a two-player "FFA" is a 1v1 game
    pair = elo_update({"a": EloRating(1600, 40), "b": EloRating(1450, 40)}, {"a": 2, "b": 1})
    a, b = elo_update_1v1(EloRating(1600, 40), EloRating(1450, 40), LOSS)
    assert (pair["a"], pair["b"]) == (a, b)


@given(st.lists(ratings_st, min_size=2, max_size=8), st.data())
def test_elo_ffa_is_zero_sum_with_equal_k(rs: list[float], data: st.DataObject) -> None:
    players = [f"p{i}" for i in range(len(rs))]
    places = {p: data.draw(st.integers(1, len(rs))) for p in players}
    before = {p: EloRating(r, 10) for p, r in zip(players, rs, strict=True)}
    after = elo_update(before, places)
    assert sum(r.rating for r in after.values()) == pytest.approx(sum(rs), abs=1e-7)


def test_incremental_elo_is_deterministic_and_order_dependent() -> None:
    games = [{"a": 1, "b": 2}, {"b": 1, "c": 2}, {"c": 1, "a": 2}]
    first = replay_elo(games)
    assert replay_elo(games) == first
    assert replay_elo(games[::-1]) != first  # as documented: Elo depends on the order of games


def test_results_are_validated() -> None:
    with pytest.raises(ValueError, match="itself"):
        PairResult("a", "a", WIN)
    with pytest.raises(ValueError, match="score"):
        PairResult("a", "b", 0.7)
    with pytest.raises(ValueError, match="weight"):
        PairResult("a", "b", WIN, weight=0.0)
    with pytest.raises(ValueError, match="two players"):
        placement_pairs({"a": 1})
    with pytest.raises(ValueError, match="place"):
        placement_pairs({"a": 1, "b": 0})
    with pytest.raises(ValueError, match="place"):
        placement_pairs({"a": 1, "b": 1.5})  # type: ignore[dict-item]
    assert placement_pairs({"a": np.int64(1), "b": np.int64(2)}) == [PairResult("a", "b", WIN)]  # type: ignore[dict-item]
    pairs = placement_pairs({"a": 2, "b": 1, "c": 3})
    assert [(p.player, p.opponent, p.score, p.weight) for p in pairs] == [
        ("a", "b", LOSS, 0.5),
        ("a", "c", WIN, 0.5),
        ("b", "c", WIN, 0.5),
    ]


# ---------------------------------------------------------------- Glicko-2


def test_glicko2_worked_example_from_glickmans_paper() -> None:
    # "Example of the Glicko-2 system" (Glickman 2013): tau = 0.5; the paper rounds its intermediate
    # values (mu' = -0.2069, phi' = 0.8722), hence its 1464.06 for the exact 1464.05.
    player = Glicko2Rating(1500, 200, 0.06)
    opponents = [Glicko2Rating(1400, 30), Glicko2Rating(1550, 100), Glicko2Rating(1700, 300)]
    new = glicko2_update(player, opponents, [1, 0, 0], Glicko2Config(tau=0.5))
    assert new.rating == pytest.approx(1464.06, abs=0.015)
    assert new.rd == pytest.approx(151.52, abs=0.005)
    assert new.volatility == pytest.approx(0.05999, abs=1e-5)  # the paper truncates 0.059996
    low, high = new.interval()
    assert (low, high) == pytest.approx((new.rating - 1.96 * new.rd, new.rating + 1.96 * new.rd), abs=0.01)


def test_glicko2_period_updates_everyone_from_start_of_period_ratings() -> None:
    start = {
        "p": Glicko2Rating(1500, 200, 0.06),
        "x": Glicko2Rating(1400, 30),
        "y": Glicko2Rating(1550, 100),
        "z": Glicko2Rating(1700, 300),
        "idle": Glicko2Rating(1600, 200, 0.06),
    }
    results = [PairResult("p", "x", WIN), PairResult("y", "p", WIN), PairResult("p", "z", LOSS)]
    end = glicko2_period(start, results)
    assert end["p"].rating == pytest.approx(1464.05, abs=0.01)
    assert end["x"].rating < 1400 and end["y"].rating > 1550 and end["z"].rating > 1700
    # order within a period does not matter
    assert glicko2_period(start, results[::-1]) == end
    # no games: rating and volatility kept, RD grows by the volatility (step 6), capped at 350
    idle = end["idle"]
    assert idle.rating == 1600 and idle.volatility == 0.06
    assert idle.rd == pytest.approx(math.hypot(200, 0.06 * 400 / math.log(10)))
    assert glicko2_update(Glicko2Rating(1500, 349.9, 0.06), [], []).rd == 350
    # a new player starts from the configured defaults
    assert glicko2_period({}, [PairResult("new", "old", DRAW)])["new"].rd < 350


@settings(max_examples=60)
@given(history_st)
def test_glicko2_stays_finite_for_any_history(results: list[PairResult]) -> None:
    ratings: dict[str, Glicko2Rating] = {}
    for r in results:  # one period per game, the hardest case for volatility
        ratings.update(glicko2_period(ratings, [r]))
    for g in ratings.values():
        assert math.isfinite(g.rating) and 0 < g.rd <= 350 and 0 < g.volatility < 1


# ---------------------------------------------------------------- Bradley-Terry


def test_bradley_terry_two_players_matches_the_closed_form() -> None:
    results = [PairResult("a", "b", WIN)] * 75 + [PairResult("a", "b", LOSS)] * 25
    fit = fit_bradley_terry(results, prior_sd=1e6, reference="b")
    assert fit.rating("b") == 0.0 and fit.stderr("b") == 0.0
    assert fit.rating("a") == pytest.approx(400 * math.log10(3), abs=1e-3)
    # Fisher information of the difference: n p (1 - p) in logistic units
    se = (400 / math.log(10)) / math.sqrt(100 * 0.75 * 0.25)
    assert fit.stderr("a") == pytest.approx(se, rel=1e-4)
    assert fit.difference("a", "b") == pytest.approx((fit.rating("a"), se), rel=1e-4)
    assert fit.expected_score("a", "b") == pytest.approx(0.75, abs=1e-6)
    # draws are half wins: 50 wins + 50 draws = 75 points of 100
    half = [PairResult("a", "b", WIN)] * 50 + [PairResult("a", "b", DRAW)] * 50
    assert fit_bradley_terry(half, prior_sd=1e6).as_dict() == pytest.approx(
        fit_bradley_terry(results, prior_sd=1e6).as_dict()
    )


def test_bradley_terry_anchors_mean_or_reference() -> None:
    results = [PairResult("random", "bot", LOSS), PairResult("bot", "model", LOSS)] * 5
    by_mean = fit_bradley_terry(results, players=["idle"])
    assert np.mean(by_mean.ratings) == pytest.approx(1500)
    assert by_mean.players == ("bot", "idle", "model", "random")
    by_ref = fit_bradley_terry(results, reference="random")
    assert by_ref.rating("random") == 0 and by_ref.interval("random") == (0.0, 0.0)
    assert 0 < by_ref.rating("bot") < by_ref.rating("model")
    # the same differences either way (the prior is on absolute ratings, so up to the idle player)
    assert by_ref.difference("model", "bot")[0] == pytest.approx(
        fit_bradley_terry(results).difference("model", "bot")[0]
    )
    with pytest.raises(ValueError, match="reference"):
        fit_bradley_terry(results, reference="nobody")
    with pytest.raises(ValueError, match="no players"):
        fit_bradley_terry([])
    with pytest.raises(KeyError):
        by_ref.rating("nobody")


def test_bradley_terry_undefeated_and_unplayed_players_are_finite() -> None:
    fit = fit_bradley_terry([PairResult("champ", "random", WIN)] * 200, players=["new"], reference="random")
    low, high = fit.interval("champ")
    assert 500 < fit.rating("champ") < 2000 and low > 0 and math.isfinite(high)
    # no games: the prior's centre, which is the pool's centre
    assert fit.rating("new") == pytest.approx(fit.rating("champ") / 2)
    assert fit.stderr("new") > fit.stderr("champ")


@settings(max_examples=60)
@given(history_st)
def test_bradley_terry_finite_for_any_history(results: list[PairResult]) -> None:
    fit = fit_bradley_terry(results)
    assert np.all(np.isfinite(fit.ratings)) and np.all(np.isfinite(fit.covariance))
    assert np.mean(fit.ratings) == pytest.approx(1500)
    for p in fit.players:
        assert fit.stderr(p) > 0


@settings(max_examples=40)
@given(history_st, st.randoms(use_true_random=False))
def test_bradley_terry_is_invariant_to_the_order_of_games(results: list[PairResult], rnd: object) -> None:
    shuffled = list(results)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    shuffled = [r.reversed() if i % 2 else r for i, r in enumerate(shuffled)]
    a, b = fit_bradley_terry(results), fit_bradley_terry(shuffled)
    assert a.players == b.players
    assert np.array_equal(a.ratings, b.ratings) and np.array_equal(a.covariance, b.covariance)


def test_bradley_terry_all_draws_rate_everyone_equal() -> None:
    fit = fit_bradley_terry([PairResult("a", "b", DRAW), PairResult("b", "c", DRAW)] * 10)
    assert fit.ratings == pytest.approx([1500, 1500, 1500])


def test_bradley_terry_recovers_known_strengths_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(20240601)
    inside, total, errors = 0, 0, []
    for _ in range(30):
        strengths = rng.normal(0, 200, size=8)
        truth = strengths - strengths.mean() + 1500  # the fit's anchor: mean 1500
        fit = fit_bradley_terry(simulate_round_robin(strengths, 30, rng))
        for i, t in enumerate(truth):
            low, high = fit.interval(f"p{i}")
            inside += low <= t <= high
            total += 1
            errors.append(fit.rating(f"p{i}") - t)
    coverage = inside / total
    assert 0.90 <= coverage <= 0.99, coverage  # nominal 95%, 240 correlated intervals
    assert abs(np.mean(errors)) < 5 and np.sqrt(np.mean(np.square(errors))) < 40


def test_bradley_terry_reference_intervals_cover_differences() -> None:
    rng = np.random.default_rng(7)
    inside, total = 0, 0
    for _ in range(30):
        strengths = np.concatenate([[0.0], rng.normal(300, 200, size=5)])  # p0 plays the `random` bot
        fit = fit_bradley_terry(simulate_round_robin(strengths, 30, rng), reference="p0")
        for i in range(1, 6):
            low, high = fit.interval(f"p{i}")
            inside += low <= strengths[i] <= high
            total += 1
    assert 0.88 <= inside / total <= 1.0, inside / total


def test_bradley_terry_intervals_shrink_with_more_games() -> None:
    rng = np.random.default_rng(3)
    strengths = np.array([0.0, 100.0, -150.0, 250.0, 50.0])
    widths = {}
    for games in (10, 40, 160):
        fit = fit_bradley_terry(simulate_round_robin(strengths, games, rng))
        widths[games] = np.mean([fit.interval(p)[1] - fit.interval(p)[0] for p in fit.players])
    assert widths[10] > widths[40] > widths[160]
    assert widths[10] / widths[160] == pytest.approx(4.0, rel=0.2)  # 1 / sqrt(games)


# ---------------------------------------------------------------- head-to-head


def test_head_to_head_records_both_sides_with_wilson_intervals() -> None:
    results = (
        [PairResult("a", "b", WIN)] * 6 + [PairResult("b", "a", WIN)] * 2 + [PairResult("a", "b", DRAW)] * 2
    )
    results += placement_pairs({"a": 1, "b": 2, "c": 3})  # an FFA game: one meeting per pair
    records = head_to_head(results)
    assert records["a", "b"] == HeadToHead(wins=7, losses=2, draws=2)
    assert records["b", "a"] == records["a", "b"].mirrored()
    assert records["c", "a"] == HeadToHead(losses=1)
    ab = records["a", "b"]
    assert ab.games == 11 and ab.score == 8.0
    assert ab.score_rate() == pytest.approx(8 / 11)
    assert ab.score_rate(prior_games=2) == pytest.approx(9 / 13)
    assert ab.interval() == wilson_interval(8.0, 11)
    assert HeadToHead().score_rate() == 0.5 and HeadToHead().interval() == (0.0, 1.0)
    assert set(records_of("a", records)) == {"b", "c"}
