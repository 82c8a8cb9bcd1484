"""Tournaments: round robin, Swiss and single elimination run to completion with valid rounds."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.services.matchmaker.tournaments import (
    DrawRule,
    Format,
    Game,
    Outcome,
    Participant,
    RoundRobin,
    SingleElimination,
    Standing,
    Swiss,
    SwissPairing,
    Tournament,
    bracket_order,
    create_tournament,
    run_tournament,
)


def players(n: int) -> list[str]:
    return [f"p{i:02d}" for i in range(n)]


def by_strength(a: str, b: str) -> Outcome:
    """p00 is the strongest: the lower number wins."""
    return Outcome.WIN if a < b else Outcome.LOSS


def scripted(winners: dict[frozenset[str], str | None]) -> Callable[[str, str], Outcome]:
    """Each pair's fixed result: the named winner, or a draw for None."""

    def play(a: str, b: str) -> Outcome:
        winner = winners[frozenset((a, b))]
        return Outcome.DRAW if winner is None else Outcome.WIN if winner == a else Outcome.LOSS

    return play


def seat_balance(t: Tournament) -> Counter[str]:
    balance: Counter[str] = Counter()
    for game, _ in t.results:
        balance[game.a] += 1
        balance[game.b] -= 1
    return balance


def check_standings(t: Tournament) -> tuple[Standing, ...]:
    table = t.standings()
    assert sorted(s.id for s in table) == sorted(t.ids)
    assert table[0].rank == 1
    for i, (prev, line) in enumerate(itertools.pairwise(table)):
        assert line.rank in (prev.rank, i + 2)
    return table


# -- seeding and the state machine ----------------------------------------------------------------
def test_seeding_orders_by_seed_then_rating_then_input() -> None:
    t = RoundRobin(
        [
            Participant("x"),
            Participant("y", rating=1600),
            Participant("z", seed=1),
            Participant("w", rating=1700),
        ]
    )
    assert t.ids == ("z", "w", "y", "x")
    for bad in ([], ["solo"], ["a", "a"], ["", "b"], [Participant("a", seed=1), Participant("b", seed=1)]):
        with pytest.raises(ValueError):
            RoundRobin(bad)


def test_the_state_machine_refuses_out_of_order_calls() -> None:
    t = Swiss(players(4))
    rnd = t.next_round()
    assert rnd is not None and len(rnd.games) == 2 and not t.finished
    with pytest.raises(ValueError, match="without a result"):
        t.next_round()
    game = rnd.games[0]
    with pytest.raises(ValueError, match="not a scheduled game"):
        t.record(Game(1, 9, game.a, game.b), Outcome.WIN)
    assert t.record(game, "win") == ()
    assert t.record(game, Outcome.WIN) == ()  # the same result again changes nothing
    with pytest.raises(ValueError, match="already has result"):
        t.record(game, Outcome.LOSS)
    with pytest.raises(ValueError):
        t.record(rnd.games[1], "resign")
    assert t.pending() == (rnd.games[1],)
    run_tournament(t, by_strength)
    assert t.finished and t.next_round() is None
    assert len(t.rounds) == 2


# -- round robin ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(2, 14))
def test_round_robin_meets_every_pair_exactly_once(n: int) -> None:
    t = RoundRobin(players(n))
    table = run_tournament(t, by_strength)
    games = [frozenset((g.a, g.b)) for g, _ in t.results]
    assert len(games) == len(set(games)) == n * (n - 1) // 2
    assert len(t.rounds) == (n - 1 if n % 2 == 0 else n)
    for rnd in t.rounds:
        seated = [p for g in rnd.games for p in (g.a, g.b)] + list(rnd.byes)
        assert sorted(seated) == sorted(t.ids)
    assert Counter(p for rnd in t.rounds for p in rnd.byes) == (Counter(t.ids) if n % 2 else Counter())
    assert max(map(abs, seat_balance(t).values())) <= (0 if n % 2 else 1)
    assert [s.id for s in table] == players(n)
    assert [s.points for s in table] == [float(n - 1 - i) for i in range(n)]


@pytest.mark.parametrize("n", [2, 5, 6])
def test_double_round_robin_swaps_seats_in_the_second_leg(n: int) -> None:
    t = RoundRobin(players(n), double=True)
    run_tournament(t, by_strength)
    ordered = Counter((g.a, g.b) for g, _ in t.results)
    assert len(ordered) == n * (n - 1) and set(ordered.values()) == {1}
    assert set(seat_balance(t).values()) == {0}


def test_round_robin_ties_share_a_rank_and_sonneborn_berger_breaks_them() -> None:
    t = RoundRobin(players(4))
    table = run_tournament(t, lambda a, b: Outcome.DRAW)
    assert [s.rank for s in table] == [1, 1, 1, 1] and [s.id for s in table] == players(4)
    # a > b, b > c, c > a, all beat d: three tied on 2 points with equal SB, d last.
    winners: dict[frozenset[str], str | None] = {
        frozenset(("a", "b")): "a",
        frozenset(("b", "c")): "b",
        frozenset(("a", "c")): "c",
    }
    winners.update({frozenset((x, "d")): x for x in "abc"})
    table = run_tournament(RoundRobin(list("abcd")), scripted(winners))
    assert [(s.id, s.rank, s.points, s.sonneborn_berger) for s in table] == [
        ("a", 1, 2.0, 2.0),
        ("b", 1, 2.0, 2.0),
        ("c", 1, 2.0, 2.0),
        ("d", 4, 0.0, 0.0),
    ]
    # With a v d drawn instead, a falls behind b and c on points; SB then orders b before c.
    winners[frozenset(("a", "d"))] = None
    table = run_tournament(RoundRobin(list("abcd")), scripted(winners))
    assert [(s.id, s.rank, s.points, s.sonneborn_berger) for s in table] == [
        ("b", 1, 2.0, 2.0 + 0.5),  # beat c (2 points) and d (1/2)
        ("c", 2, 2.0, 1.5 + 0.5),  # beat a (1.5 points) and d (1/2)
        ("a", 3, 1.5, 2.0 + 0.25),
        ("d", 4, 0.5, 1.5 / 2),
    ]


# -- Swiss ----------------------------------------------------------------------------------------
def test_swiss_first_round_fold_and_adjacent() -> None:
    fold = Swiss(players(8)).next_round()
    adjacent = Swiss(players(8), pairing=SwissPairing.ADJACENT).next_round()
    assert fold is not None and adjacent is not None
    assert {frozenset((g.a, g.b)) for g in fold.games} == {
        frozenset((f"p0{i}", f"p0{i + 4}")) for i in range(4)
    }
    assert {frozenset((g.a, g.b)) for g in adjacent.games} == {
        frozenset((f"p0{i}", f"p0{i + 1}")) for i in range(0, 8, 2)
    }


def test_swiss_rounds_default_and_limits() -> None:
    for n in range(2, 40):
        assert Swiss(players(n)).total_rounds == max(1, math.ceil(math.log2(n)))
    Swiss(players(5), rounds=5)
    with pytest.raises(ValueError):
        Swiss(players(6), rounds=6)
    with pytest.raises(ValueError):
        Swiss(players(6), rounds=0)


def test_swiss_bye_scores_a_point_and_goes_to_the_lowest_ranked_without_one() -> None:
    t = Swiss(players(5), rounds=5)
    first = t.next_round()
    assert first is not None and first.byes == ("p04",)
    assert t.points()["p04"] == 1.0
    run_tournament(t, by_strength)
    byes = [p for rnd in t.rounds for p in rnd.byes]
    assert sorted(byes) == players(5)
    table = {s.id: s for s in t.standings()}
    assert table["p04"].byes == 1 and table["p04"].wins + table["p04"].byes == table["p04"].points


def test_swiss_tie_breaks_by_hand() -> None:
    # R1: A v C (A wins), B v D (draw). R2 by score groups: A v B (B wins), D v C (D wins).
    t = Swiss(list("ABCD"), rounds=2)
    winners = {
        frozenset("AC"): "A",
        frozenset("BD"): None,
        frozenset("AB"): "B",
        frozenset("CD"): "D",
    }
    table = run_tournament(t, scripted(winners))
    assert [{frozenset((g.a, g.b)) for g in r.games} for r in t.rounds] == [
        {frozenset("AC"), frozenset("BD")},
        {frozenset("AB"), frozenset("CD")},
    ]
    assert [(s.id, s.rank, s.points, s.buchholz, s.sonneborn_berger) for s in table] == [
        ("B", 1, 1.5, 2.5, 1.75),
        ("D", 2, 1.5, 1.5, 0.75),
        ("A", 3, 1.0, 1.5, 0.0),
        ("C", 4, 0.0, 2.5, 0.0),
    ]


@pytest.mark.parametrize("n", range(2, 41))
def test_swiss_default_rounds_never_repeat_and_standings_are_sorted(n: int) -> None:
    rng = random.Random(n)
    t = Swiss(players(n))
    table = run_tournament(t, lambda a, b: rng.choice(list(Outcome)))
    games = [frozenset((g.a, g.b)) for g, _ in t.results]
    assert len(games) == len(set(games))
    byes = [p for rnd in t.rounds for p in rnd.byes]
    assert len(byes) == len(set(byes)) == (t.total_rounds if n % 2 else 0)
    keys = [(-s.points, -s.buchholz, -s.sonneborn_berger, -s.wins) for s in check_standings(t)]
    assert keys == sorted(keys)
    assert all(abs(b) <= 3 for b in seat_balance(t).values())  # score groups come before seats
    assert sum(s.points for s in table) == len(t.results) + len(byes)


def rematch_free_pairing_exists(pool: list[str], played: set[frozenset[str]]) -> bool:
    if not pool:
        return True
    first, rest = pool[0], pool[1:]
    return any(
        frozenset((first, q)) not in played
        and rematch_free_pairing_exists([x for x in rest if x != q], played)
        for q in rest
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9), st.data(), st.randoms(use_true_random=False))
def test_swiss_rematches_happen_only_when_unavoidable(
    n: int, data: st.DataObject, rng: random.Random
) -> None:
    rounds = data.draw(st.integers(1, n - 1 if n % 2 == 0 else n))
    t = Swiss(players(n), rounds=rounds)
    while True:
        played = {frozenset((g.a, g.b)) for g, _ in t.results}
        bye_count = Counter(p for rnd in t.rounds for p in rnd.byes)
        rnd = t.next_round()
        if rnd is None:
            break
        if rnd.byes:
            assert bye_count[rnd.byes[0]] == min(bye_count[p] for p in t.ids)
        if any(frozenset((g.a, g.b)) in played for g in rnd.games):
            fewest = min(bye_count[p] for p in t.ids)
            choices = [p for p in t.ids if bye_count[p] == fewest] if n % 2 else [None]
            assert not any(
                rematch_free_pairing_exists([p for p in t.ids if p != bye], played) for bye in choices
            )
        for game in rnd.games:
            t.record(game, rng.choice(list(Outcome)))
    assert t.finished


# -- single elimination ---------------------------------------------------------------------------
def test_bracket_order_puts_the_top_seeds_furthest_apart() -> None:
    assert bracket_order(1) == [1]
    assert bracket_order(2) == [1, 2]
    assert bracket_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    with pytest.raises(ValueError):
        bracket_order(6)


@pytest.mark.parametrize("n", range(2, 18))
def test_elimination_bracket_with_byes_and_the_strongest_wins(n: int) -> None:
    t = SingleElimination(players(n))
    size = 1 << (n - 1).bit_length()
    first = t.next_round()
    assert first is not None
    assert sorted(first.byes) == players(n)[: size - n]  # the top seeds sit out round one
    for game in first.games:
        sa, sb = int(game.a[1:]) + 1, int(game.b[1:]) + 1
        assert sa + sb == size + 1  # seed s meets seed size + 1 - s
    run_tournament(t, by_strength)
    assert t.champion == "p00" and len(t.rounds) == max(1, math.ceil(math.log2(n)))
    assert len(t.results) == n - 1
    bracket = t.bracket()
    assert [len(r) for r in bracket] == [size >> (k + 1) for k in range(len(bracket))]
    for earlier, later in itertools.pairwise(bracket):
        assert [m.winner for m in earlier] == [p for m in later for p in (m.a, m.b)]
    assert bracket[-1][0].winner == "p00" and {bracket[-1][0].a, bracket[-1][0].b} == {"p00", "p01"}
    assert sum(m.bye for m in bracket[0]) == size - n
    ranks = {s.id: s.rank for s in check_standings(t)}
    assert ranks["p00"] == 1 and ranks["p01"] == 2
    if n >= 4:
        assert ranks["p02"] == ranks["p03"] == 3
    lost_in = {pid: len(t.rounds) + 1 for pid in t.ids}
    for g, outcome in t.results:
        lost_in[g.b if outcome is Outcome.WIN else g.a] = g.round
    for pid, rank in ranks.items():
        assert rank == 1 + sum(other > lost_in[pid] for other in lost_in.values())


def test_elimination_draw_is_replayed_with_seats_swapped_then_the_higher_seed_advances() -> None:
    t = SingleElimination(["top", "low"], draw_rule=DrawRule.REPLAY, max_replays=1)
    rnd = t.next_round()
    assert rnd is not None
    (game,) = rnd.games
    (replay,) = t.record(game, Outcome.DRAW)
    assert (replay.a, replay.b, replay.replay) == (game.b, game.a, 1)
    assert t.pending() == (replay,) and not t.finished
    assert t.record(replay, Outcome.DRAW) == ()
    assert t.finished and t.champion == "top"
    assert [o for _, o in t.bracket()[0][0].games] == [Outcome.DRAW, Outcome.DRAW]

    t = SingleElimination(["top", "low"])
    run_tournament(t, lambda a, b: Outcome.DRAW if a == "top" else Outcome.WIN)
    assert t.champion == "low"  # seats swapped on the replay, and "low" won it

    t = SingleElimination(["top", "low"], draw_rule=DrawRule.HIGHER_SEED)
    run_tournament(t, lambda a, b: Outcome.DRAW)
    assert t.champion == "top" and len(t.results) == 1


# -- every format, random sizes and results -------------------------------------------------------
@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(list(Format)),
    st.integers(2, 20),
    st.booleans(),
    st.sampled_from(list(DrawRule)),
    st.randoms(use_true_random=False),
)
def test_any_tournament_runs_to_completion_with_valid_rounds(
    fmt: Format, n: int, double: bool, draw_rule: DrawRule, rng: random.Random
) -> None:
    t = create_tournament(fmt, players(n), double=double, draw_rule=draw_rule)
    calls = 0
    while True:
        while games := t.pending():
            for game in games:
                assert game.a != game.b and {game.a, game.b} <= set(t.ids)
                t.record(game, rng.choice(list(Outcome)))
            calls += 1
            assert calls < 10 * n * n
        rnd = t.next_round()
        if rnd is None:
            break
        seated = [p for g in rnd.games for p in (g.a, g.b)] + list(rnd.byes)
        assert len(seated) == len(set(seated)) and set(seated) <= set(t.ids)
        if fmt is not Format.SINGLE_ELIMINATION:
            assert set(seated) == set(t.ids)
        assert [g.table for g in rnd.games] == sorted({g.table for g in rnd.games})
    assert t.finished
    check_standings(t)
    if isinstance(t, SingleElimination):
        assert t.champion is not None and t.standings()[0].id == t.champion
