"""Queue pairing: windows widen with waiting, pairs stay inside windows, FFA groups, 1,000 tickets."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.services.matchmaker.pairing import (
    MAX_FFA_PLAYERS,
    Kind,
    Match,
    PairingPolicy,
    PairingResult,
    Ticket,
    Window,
    mode_size,
    pair,
)

POLICY = PairingPolicy(Window(initial=50.0, growth_per_second=10.0, maximum=300.0))


def ticket(
    tid: str,
    rating: float,
    at: float = 0.0,
    mode: str = "1v1",
    player: str | None = None,
    kind: Kind = Kind.BOT,
) -> Ticket:
    return Ticket(tid, player or f"player-{tid}", kind, mode, rating, at)


def pairs_of(result: PairingResult) -> set[frozenset[str]]:
    return {frozenset(t.id for t in m.tickets) for m in result.matches}


def check_invariants(tickets: list[Ticket], result: PairingResult, now: float, policy: PairingPolicy) -> None:
    """Every ticket once; matches full, single-mode, distinct players, inside everyone's window."""
    seen = Counter(t.id for m in result.matches for t in m.tickets) + Counter(t.id for t in result.waiting)
    assert seen == Counter(t.id for t in tickets)
    assert [t.id for t in result.waiting] == [t.id for t in tickets if t.id in {w.id for w in result.waiting}]
    for m in result.matches:
        assert len(m.tickets) == mode_size(m.mode)
        assert {t.mode for t in m.tickets} == {m.mode}
        assert len({t.player_id for t in m.tickets}) == len(m.tickets)
        assert all(m.spread <= policy.width(t, now) for t in m.tickets)
        if not policy.mix_kinds:
            assert len({t.kind for t in m.tickets}) == 1


def test_modes_parse_and_match_the_engine_limit() -> None:
    from generals_rl.game.state import MAX_PLAYERS

    assert MAX_FFA_PLAYERS == MAX_PLAYERS
    assert mode_size("1v1") == 2
    assert mode_size("ffa-4") == 4
    for bad in ("2v2", "ffa-1", "ffa-9", "ffa-", "FFA-4", ""):
        with pytest.raises(ValueError):
            mode_size(bad)
    with pytest.raises(ValueError):
        ticket("a", 1500, mode="ffa-99")


def test_window_widens_with_time_up_to_the_maximum() -> None:
    w = Window(initial=100, growth_per_second=5, maximum=200)
    assert w.width(0) == 100
    assert w.width(-3) == 100  # a clock a little behind counts as no wait
    assert w.width(10) == 150
    assert w.width(1000) == 200
    with pytest.raises(ValueError):
        Window(initial=300, maximum=200)


def test_two_far_apart_tickets_pair_only_once_both_windows_have_widened() -> None:
    tickets = [ticket("a", 1500, at=0), ticket("b", 1620, at=0)]  # 120 apart; width 50 + 10/s
    assert pair(tickets, now=0, policy=POLICY).matches == ()
    assert pair(tickets, now=6, policy=POLICY).matches == ()  # width 110 < 120
    assert pairs_of(pair(tickets, now=7, policy=POLICY)) == {frozenset({"a", "b"})}  # width 120


def test_both_windows_must_accept_each_other() -> None:
    old, fresh = ticket("old", 1500, at=0), ticket("fresh", 1600, at=100)
    # old's window is 300 wide, fresh's only 50: no match until fresh has waited 5 s.
    assert pair([old, fresh], now=100, policy=POLICY).matches == ()
    assert len(pair([old, fresh], now=105, policy=POLICY).matches) == 1


def test_longest_waiting_ticket_picks_the_closest_rating() -> None:
    tickets = [
        ticket("mid", 1500, at=10),
        ticket("oldest", 1530, at=0),
        ticket("close", 1540, at=10),
        ticket("far", 1400, at=10),
    ]
    result = pair(tickets, now=20, policy=POLICY)
    assert frozenset({"oldest", "close"}) in pairs_of(result)


def test_equal_distance_goes_to_the_longer_waiting_ticket() -> None:
    tickets = [ticket("a", 1500, at=0), ticket("low", 1480, at=5), ticket("high", 1520, at=3)]
    assert pairs_of(pair(tickets, now=10, policy=POLICY)) == {frozenset({"a", "high"})}


def test_a_player_never_meets_itself() -> None:
    twins = [ticket("a1", 1500, player="p"), ticket("a2", 1500, player="p")]
    assert pair(twins, now=100, policy=POLICY).matches == ()
    result = pair([*twins, ticket("b", 1510, at=1)], now=100, policy=POLICY)
    assert len(result.matches) == 1
    assert {t.player_id for t in result.matches[0].tickets} == {"p", "player-b"}
    check_invariants([*twins, ticket("b", 1510, at=1)], result, 100, POLICY)


def test_duplicate_ticket_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        pair([ticket("a", 1500), ticket("a", 1600)], now=0)


def test_modes_never_mix_and_kinds_mix_unless_told_not_to() -> None:
    tickets = [
        ticket("h", 1500, kind=Kind.HUMAN),
        ticket("b", 1500, kind=Kind.BOT),
        ticket("m", 1500, kind=Kind.MODEL, mode="ffa-3"),
    ]
    assert pairs_of(pair(tickets, now=0, policy=POLICY)) == {frozenset({"h", "b"})}
    apart = PairingPolicy(POLICY.default, mix_kinds=False)
    assert pair(tickets, now=0, policy=apart).matches == ()


def test_window_per_mode() -> None:
    policy = PairingPolicy(Window(10, 0, 10), per_mode={"ffa-2": Window(500, 0, 500)})
    tickets = [
        ticket("a", 1000),
        ticket("b", 1300),
        ticket("c", 1000, mode="ffa-2"),
        ticket("d", 1300, mode="ffa-2"),
    ]
    assert pairs_of(pair(tickets, now=0, policy=policy)) == {frozenset({"c", "d"})}


def test_ffa_groups_form_only_when_full_and_inside_every_window() -> None:
    four = [ticket(f"t{i}", 1500 + 10 * i, mode="ffa-4") for i in range(4)]
    result = pair(four, now=0, policy=POLICY)
    assert len(result.matches) == 1 and len(result.matches[0].tickets) == 4
    assert pair(four[:3], now=0, policy=POLICY).matches == ()
    spread_out = [ticket(f"t{i}", 1500 + 40 * i, mode="ffa-4") for i in range(4)]  # spread 120 > 50
    assert pair(spread_out, now=0, policy=POLICY).matches == ()
    assert len(pair(spread_out, now=7, policy=POLICY).matches) == 1


def test_ffa_falls_back_to_the_tightest_group_around_the_anchor() -> None:
    policy = PairingPolicy(Window(100, 0, 100))
    # The two closest to the anchor (-60 and +70) span 130 > 100; {anchor, +70, +80} spans 80.
    tickets = [
        ticket("anchor", 1000, at=0, mode="ffa-3"),
        ticket("low", 940, at=1, mode="ffa-3"),
        ticket("high", 1070, at=1, mode="ffa-3"),
        ticket("higher", 1080, at=1, mode="ffa-3"),
    ]
    result = pair(tickets, now=1, policy=policy)
    assert pairs_of(result) == {frozenset({"anchor", "high", "higher"})}
    assert [t.id for t in result.waiting] == ["low"]


def test_same_inputs_and_seed_give_the_same_matches() -> None:
    rng = random.Random(7)
    tickets = [ticket(f"t{i}", rng.gauss(1500, 200), at=rng.uniform(0, 30)) for i in range(200)]
    assert pair(tickets, 30, POLICY, seed=3) == pair(list(tickets), 30, POLICY, seed=3)
    assert isinstance(pair(tickets, 30, POLICY).matches[0], Match)


@pytest.mark.parametrize("mode", ["1v1", "ffa-4", "ffa-8"])
def test_a_thousand_waiting_tickets(mode: str) -> None:
    rng = random.Random(1)
    policy = PairingPolicy()
    tickets = [
        ticket(f"t{i}", rng.gauss(1500, 300), at=rng.uniform(0, 60), mode=mode, player=f"p{i % 900}")
        for i in range(1000)
    ]
    result = pair(tickets, now=60, policy=policy)
    check_invariants(tickets, result, 60, policy)
    assert len(result.waiting) <= 50  # a dense queue: nearly everyone starts a game


ticket_lists = st.lists(
    st.tuples(
        st.integers(0, 7),  # player
        st.sampled_from(["1v1", "ffa-3", "ffa-4"]),
        st.floats(1000, 2000),
        st.floats(0, 60),
        st.sampled_from(list(Kind)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ticket_lists, st.floats(0, 90), st.booleans(), st.integers(0, 3))
def test_random_queues_keep_every_invariant(
    raw: list[tuple[int, str, float, float, Kind]], now: float, mix: bool, seed: int
) -> None:
    policy = PairingPolicy(Window(50, 5, 400), mix_kinds=mix)
    tickets = [Ticket(f"t{i}", f"p{p}", k, mode, r, at) for i, (p, mode, r, at, k) in enumerate(raw)]
    result = pair(tickets, now, policy, seed=seed)
    check_invariants(tickets, result, now, policy)
    # 1v1 is maximal: no two waiting tickets of one pool could still have been paired.
    waiting = [t for t in result.waiting if t.mode == "1v1"]
    for i, x in enumerate(waiting):
        for y in waiting[i + 1 :]:
            if x.player_id != y.player_id and (mix or x.kind == y.kind):
                assert abs(x.rating - y.rating) > min(policy.width(x, now), policy.width(y, now))
