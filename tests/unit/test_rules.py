"""One test (or a few) per numbered rule of docs/RULES.md 1-20 that the live engine implements.

Most tests play one tick on a small hand-written map, with armies placed by hand, and check the
tiles the rule is about. Directions: 0 up, 1 down, 2 left, 3 right.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
import torch

from generals_rl.game import (
    PLANES,
    EngineConfig,
    GameState,
    MapConfig,
    Maps,
    encode_action,
    generate_maps,
    initial_state,
    num_actions,
    observe,
    step,
)
from generals_rl.game.engine import eliminate, neutralize_players
from generals_rl.game.rewards import outcome
from generals_rl.game.state import NEUTRAL

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
PASS = 0
P0_FIRST = EngineConfig(move_order="generals-bots")


def new_game(text: str, teams: list[int] | None = None, pad_to: tuple[int, int] | None = None) -> GameState:
    teams_t = None if teams is None else torch.tensor(teams)
    return initial_state(Maps.from_string(text, pad_to=pad_to), teams_t)


def put(
    state: GameState, tiles: dict[tuple[int, int], tuple[int, int]], tick: int | None = None
) -> GameState:
    """A copy of ``state`` with tiles set to (owner, army) and optionally another tick."""
    state = state.clone()
    for (r, c), (who, army) in tiles.items():
        state.owner[0, r, c] = who
        state.armies[0, r, c] = army
    if tick is not None:
        state.tick.fill_(tick)
    return state


def move(state: GameState, row: int, col: int, direction: int, half: bool = False) -> int:
    return int(encode_action(row * state.width + col, direction, half, state.num_tiles))


def play(state: GameState, *actions: int, config: EngineConfig | None = None) -> GameState:
    return step(state, torch.tensor([list(actions)]), config)


def tile(state: GameState, row: int, col: int) -> tuple[int, int]:
    return int(state.owner[0, row, col]), int(state.armies[0, row, col])


def assert_same(a: GameState, b: GameState) -> None:
    for name, value in a.tensors().items():
        assert torch.equal(value, getattr(b, name)), name


# RULES 1-2: time


def test_rule_1_one_action_per_player_per_tick() -> None:
    state = new_game("A..B")
    after = play(state, PASS, PASS)
    assert after.tick.tolist() == [1]
    with pytest.raises(ValueError, match="shape"):
        step(state, torch.zeros(1, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        step(state, torch.zeros(1, 2, 2, dtype=torch.int64))


def test_rule_2_moves_then_tick_then_growth() -> None:
    # At tick 1 the general holds 2: the move goes first (sends 1, keeps 1), then t = 2 and the
    # general grows to 2. Growth first would have sent 2 and left 1.
    state = put(new_game("A..B"), {(0, 0): (0, 2)}, tick=1)
    after = play(state, move(state, 0, 0, RIGHT), PASS)
    assert after.tick.tolist() == [2]
    assert tile(after, 0, 0) == (0, 2)
    assert tile(after, 0, 1) == (0, 1)


def test_rule_2_end_check_after_growth_on_the_last_tick() -> None:
    state = put(new_game("AB.."), {(0, 0): (0, 5)}, tick=1)
    after = play(state, move(state, 0, 0, RIGHT), PASS)
    assert after.done.tolist() == [True] and after.winner.tolist() == [0]
    assert after.tick.tolist() == [2]
    assert tile(after, 0, 1) == (0, 4)  # 4 - 1 = 3 taken, +1 as a city on the even tick
    assert tile(after, 0, 0) == (0, 2)  # kept 1, +1 as a general


# RULES 3-4: board


def test_rule_3_tile_index_is_row_times_width_plus_col() -> None:
    state = new_game("...\n..A\nB..")
    assert state.generals.tolist() == [[1 * 3 + 2, 2 * 3 + 0]]
    state = put(state, {(1, 2): (0, 5)})
    after = play(state, move(state, 1, 2, UP), PASS)
    assert tile(after, 0, 2) == (0, 4)


def test_rule_4_tiles_start_as_the_map_says() -> None:
    state = new_game("A#3\n.x.\n..B")
    assert state.owner[0].tolist() == [[0, NEUTRAL, NEUTRAL], [NEUTRAL] * 3, [NEUTRAL, NEUTRAL, 1]]
    assert state.armies[0].tolist() == [[1, 0, 43], [0, 50, 0], [0, 0, 1]]
    assert state.mountains[0].tolist() == [[False, True, False], [False] * 3, [False] * 3]
    assert state.cities[0].tolist() == [[False, False, True], [False, True, False], [False] * 3]


def test_rule_4_mountains_are_impassable_and_permanent() -> None:
    state = put(new_game("A#.\n...\n..B"), {(0, 0): (0, 30)})
    blocked = play(state, move(state, 0, 0, RIGHT), PASS)
    assert tile(blocked, 0, 0) == (0, 30) and tile(blocked, 0, 1) == (NEUTRAL, 0)
    for _ in range(60):
        blocked = play(blocked, move(blocked, 0, 0, RIGHT), PASS)
    assert bool(blocked.mountains[0, 0, 1]) and tile(blocked, 0, 1) == (NEUTRAL, 0)


def test_rule_4_neutral_cities_do_not_grow() -> None:
    state = new_game("A.3\n...\n..B")
    for _ in range(100):
        state = play(state, PASS, PASS)
    assert tile(state, 0, 2) == (NEUTRAL, 43)


# RULE 5: growth


def test_rule_5_growth_general_27_at_tick_50() -> None:
    state = new_game("A..\n...\n..B")
    for t in range(1, 51):
        state = play(state, PASS, PASS)
        if t == 49:
            assert tile(state, 0, 0) == (0, 25)
    assert state.tick.tolist() == [50]
    assert tile(state, 0, 0) == (0, 27)
    assert tile(state, 2, 2) == (1, 27)


def test_rule_5_owned_city_every_2_ticks_and_every_tile_every_50() -> None:
    state = put(new_game("A.3\n...\n..B"), {(0, 2): (0, 10), (1, 1): (0, 1), (2, 0): (NEUTRAL, 7)})
    for _ in range(49):
        state = play(state, PASS, PASS)
    assert tile(state, 0, 2) == (0, 10 + 24)  # even ticks 2..48
    assert tile(state, 1, 1) == (0, 1)  # plain land: nothing yet
    state = play(state, PASS, PASS)
    assert tile(state, 0, 2) == (0, 10 + 25 + 1)
    assert tile(state, 1, 1) == (0, 2)
    assert tile(state, 2, 0) == (NEUTRAL, 7)  # neutral land never grows


def test_rule_5_city_regeneration_is_an_option_for_old_replays() -> None:
    state = put(new_game("A.3\n...\n..B"), {(0, 2): (NEUTRAL, 37)})
    plain = state
    regen = EngineConfig(city_regeneration=True)
    seen = []
    for _ in range(8):
        state = play(state, PASS, PASS, config=regen)
        plain = play(plain, PASS, PASS)
        seen.append(tile(state, 0, 2)[1])
    assert seen == [37, 38, 38, 39, 39, 40, 40, 40]  # +1 on even ticks while below 40
    assert tile(plain, 0, 2) == (NEUTRAL, 37)


# RULES 6-9: moves


def _invalid_moves(state: GameState) -> dict[str, int]:
    return {
        "not owned": move(state, 0, 3, LEFT),  # player 1's general
        "one army": move(state, 1, 0, RIGHT),
        "into a mountain": move(state, 0, 0, RIGHT),
        "off the top": move(state, 0, 0, UP),
        "off the left": move(state, 0, 0, LEFT),
        "off the bottom": move(state, 1, 3, DOWN),
        "off the right": move(state, 1, 3, RIGHT),
        "index too large": num_actions(state.height, state.width),
        "index far too large": 10**9,
        "negative index": -3,
    }


@pytest.mark.parametrize("name", list(_invalid_moves(new_game("A#.B\n...."))))
def test_rule_6_invalid_moves_are_no_ops(name: str) -> None:
    state = put(new_game("A#.B\n...."), {(0, 0): (0, 9), (1, 0): (0, 1), (1, 3): (0, 5), (0, 3): (1, 6)})
    action = _invalid_moves(state)[name]
    assert_same(play(state, action, PASS), play(state, PASS, PASS))


def test_rule_6_padding_is_a_mountain() -> None:
    state = put(new_game("A.B", pad_to=(2, 4)), {(0, 2): (1, 9)})
    assert state.map_size.tolist() == [[1, 3]]
    for direction in (DOWN, RIGHT):
        assert_same(play(state, PASS, move(state, 0, 2, direction)), play(state, PASS, PASS))


def test_rule_7_full_move_sends_all_but_one() -> None:
    state = put(new_game("A..B"), {(0, 0): (0, 9)})
    after = play(state, move(state, 0, 0, RIGHT), PASS)
    assert tile(after, 0, 0) == (0, 1) and tile(after, 0, 1) == (0, 8)


@pytest.mark.parametrize(("army", "sent"), [(2, 1), (3, 1), (7, 3), (8, 4), (101, 50)])
def test_rule_7_half_move_sends_floor_half(army: int, sent: int) -> None:
    state = put(new_game("A..B"), {(0, 0): (0, army)})
    after = play(state, move(state, 0, 0, RIGHT, half=True), PASS)
    assert tile(after, 0, 0) == (0, army - sent) and tile(after, 0, 1) == (0, sent)


def test_rule_8_own_tile_armies_add() -> None:
    state = put(new_game("A..B"), {(0, 0): (0, 9), (0, 1): (0, 4)})
    after = play(state, move(state, 0, 0, RIGHT), PASS)
    assert tile(after, 0, 1) == (0, 12)


@pytest.mark.parametrize(
    ("defender", "garrison", "sent", "expected"),
    [
        (NEUTRAL, 3, 8, (0, 5)),  # neutral land taken with m - d
        (NEUTRAL, 9, 4, (NEUTRAL, 5)),  # defender keeps d - m
        (1, 3, 8, (0, 5)),  # enemy land taken
        (1, 9, 4, (1, 5)),
    ],
)
def test_rule_8_attack_larger_takes_else_defender_keeps_rest(
    defender: int, garrison: int, sent: int, expected: tuple[int, int]
) -> None:
    state = put(new_game("A...B"), {(0, 1): (0, sent + 1), (0, 2): (defender, garrison)})
    after = play(state, move(state, 0, 1, RIGHT), PASS)
    assert tile(after, 0, 2) == expected
    assert tile(after, 0, 1) == (0, 1)


@pytest.mark.parametrize("defender", [NEUTRAL, 1])
def test_rule_8_tie_leaves_zero_owner_unchanged(defender: int) -> None:
    state = put(new_game("A.5.B"), {(0, 1): (0, 46), (0, 2): (defender, 45)})
    after = play(state, move(state, 0, 1, RIGHT), PASS)
    assert tile(after, 0, 2) == (defender, 0)
    assert bool(after.cities[0, 0, 2])
    # A tile left with 0 falls to the next attack of 1 (on an odd tick: no city growth yet).
    after = put(after, {(0, 1): (0, 2)}, tick=2)
    after = play(after, move(after, 0, 1, RIGHT), PASS)
    assert tile(after, 0, 2) == (0, 1)


def test_rule_8_city_and_general_are_attacked_like_land() -> None:
    state = put(new_game("A4B"), {(0, 0): (0, 50)})
    after = play(state, move(state, 0, 0, RIGHT), PASS)
    assert tile(after, 0, 1) == (0, 49 - 44)
    assert bool(after.cities[0, 0, 1])


def test_rule_9_teams_ally_tile_taken_but_not_general() -> None:
    state = new_game("A.C\n...\nB.D", teams=[0, 1, 0, 1])  # players 0 and 2 are allies
    state = put(state, {(0, 0): (0, 9), (0, 1): (2, 3), (1, 2): (0, 7), (2, 2): (3, 4)})
    after = play(state, move(state, 0, 0, RIGHT), PASS, PASS, PASS)
    assert tile(after, 0, 1) == (0, 3 + 8)  # armies add, ownership passes to the mover
    after = play(state, move(state, 1, 2, UP), PASS, PASS, PASS)
    assert tile(after, 0, 2) == (2, 1 + 6)  # onto an ally's general: armies add, owner stays
    assert after.alive.all() and after.generals.tolist() == state.generals.tolist()
    after = play(state, move(state, 1, 2, DOWN), PASS, PASS, PASS)
    assert tile(after, 2, 2) == (0, 6 - 4)  # the enemy team's general: captured as usual
    assert after.alive.tolist() == [[True, True, True, False]] and after.done.tolist() == [False]


def test_rule_9_without_teams_another_player_is_an_enemy() -> None:
    state = new_game("A.C\n...\nB.D")
    state = put(state, {(0, 0): (0, 9), (0, 1): (2, 3)})
    after = play(state, move(state, 0, 0, RIGHT), PASS, PASS, PASS)
    assert tile(after, 0, 1) == (0, 8 - 3)


# RULES 10-12: order of moves within a tick


def _three_way(tick: int) -> GameState:
    # Three generals around the empty middle tile, each with 5: whoever moves last owns it
    # (the first takes it with 4, the second ties it back to 0, the third takes it with 4).
    return put(new_game(".C.\nA.B\n..."), {(1, 0): (0, 5), (1, 2): (1, 5), (0, 1): (2, 5)}, tick=tick)


@pytest.mark.parametrize(("tick", "last"), [(0, 2), (1, 0), (6, 2), (7, 0)])
def test_rule_10_alternating_order_by_parity(tick: int, last: int) -> None:
    state = _three_way(tick)
    actions = (move(state, 1, 0, RIGHT), move(state, 1, 2, LEFT), move(state, 0, 1, DOWN))
    after = play(state, *actions)
    assert tile(after, 1, 1) == (last, 4)


@pytest.mark.parametrize(("tick", "p0_first"), [(0, True), (1, False)])
def test_rule_10_alternating_order_in_1v1(tick: int, p0_first: bool) -> None:
    # Player 0 leaves (0,2) for (0,1); player 1 attacks (0,2).
    state = put(new_game("A....B"), {(0, 2): (0, 10), (0, 3): (1, 5)}, tick=tick)
    after = play(state, move(state, 0, 2, LEFT), move(state, 0, 3, LEFT))
    if p0_first:
        assert [tile(after, 0, c) for c in (1, 2, 3)] == [(0, 9), (1, 3), (1, 1)]
    else:
        assert [tile(after, 0, c) for c in (1, 2, 3)] == [(0, 5), (0, 1), (1, 1)]


@pytest.mark.parametrize("tick", [0, 1])
def test_rule_11_generals_bots_order_chasing_goes_first(tick: int) -> None:
    # Player 1 moves onto player 0's source: player 1 first, although player 0 has more army.
    state = put(new_game("A....B"), {(0, 2): (0, 10), (0, 3): (1, 5)}, tick=tick)
    after = play(state, move(state, 0, 2, LEFT), move(state, 0, 3, LEFT), config=P0_FIRST)
    assert [tile(after, 0, c) for c in (1, 2, 3)] == [(0, 5), (0, 1), (1, 1)]
    # Player 0 chases player 1, which has more army: player 0 first.
    state = put(new_game("A....B"), {(0, 2): (0, 5), (0, 3): (1, 10)}, tick=tick)
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 3, RIGHT), config=P0_FIRST)
    assert [tile(after, 0, c) for c in (2, 3, 4)] == [(0, 1), (1, 1), (1, 5)]


@pytest.mark.parametrize("tick", [0, 1])
def test_rule_11_generals_bots_order_reinforcing_beats_larger_army(tick: int) -> None:
    # Player 1 reinforces (0,3) from (0,4) with 6; player 0 attacks (0,3) with 9. Player 1 first:
    # 3 + 6 = 9, then 9 vs 9 ties and player 1 keeps the tile with 0 (player 0 first: 0, player 0).
    state = put(new_game("A.....B"), {(0, 2): (0, 10), (0, 3): (1, 3), (0, 4): (1, 7)}, tick=tick)
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 4, LEFT), config=P0_FIRST)
    assert tile(after, 0, 3) == (1, 0)
    # And player 0 reinforcing against a larger attack of player 1 goes first.
    state = put(new_game("A.....B"), {(0, 2): (0, 7), (0, 3): (0, 3), (0, 4): (1, 10)}, tick=tick)
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 4, LEFT), config=P0_FIRST)
    assert tile(after, 0, 3) == (0, 0)


@pytest.mark.parametrize("tick", [0, 1])
@pytest.mark.parametrize(("army0", "army1", "expected"), [(5, 7, (1, 0)), (7, 5, (0, 0)), (6, 6, (1, 2))])
def test_rule_11_generals_bots_order_larger_army_then_player_0(
    tick: int, army0: int, army1: int, expected: tuple[int, int]
) -> None:
    # Both attack the neutral (0,2) holding 2. The larger army first; a tie: player 0 first.
    state = put(new_game("A...B"), {(0, 1): (0, army0), (0, 2): (NEUTRAL, 2), (0, 3): (1, army1)}, tick=tick)
    after = play(state, move(state, 0, 1, RIGHT), move(state, 0, 3, LEFT), config=P0_FIRST)
    assert tile(after, 0, 2) == expected


def test_rule_11_generals_bots_order_with_a_pass() -> None:
    state = put(new_game("A...B"), {(0, 1): (0, 5), (0, 2): (NEUTRAL, 2), (0, 3): (1, 7)}, tick=1)
    after = play(state, move(state, 0, 1, RIGHT), PASS, config=P0_FIRST)
    assert tile(after, 0, 2) == (0, 2)
    after = play(state, PASS, move(state, 0, 3, LEFT), config=P0_FIRST)
    assert tile(after, 0, 2) == (1, 4)


def test_rule_11_generals_bots_order_is_for_two_players() -> None:
    state = new_game("A.C\n...\nB..")
    with pytest.raises(ValueError, match="two players"):
        play(state, PASS, PASS, PASS, config=P0_FIRST)


@pytest.mark.parametrize("config", [EngineConfig(), P0_FIRST])
def test_rule_12_second_move_revalidated(config: EngineConfig) -> None:
    # Player 0 moves first in both orders here (tick 0; player 0 chases player 1's source).
    base = new_game("A....B")
    # The second mover lost its source.
    state = put(base, {(0, 2): (0, 10), (0, 3): (1, 3)})
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 3, RIGHT), config=config)
    assert [tile(after, 0, c) for c in (3, 4)] == [(0, 6), (NEUTRAL, 0)]
    # The second mover's source fell below 2.
    state = put(base, {(0, 2): (0, 5), (0, 3): (1, 5)})
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 3, RIGHT), config=config)
    assert [tile(after, 0, c) for c in (3, 4)] == [(1, 1), (NEUTRAL, 0)]
    # A half move halves what is left, not what was there.
    state = put(base, {(0, 2): (0, 5), (0, 3): (1, 10)})
    after = play(state, move(state, 0, 2, RIGHT), move(state, 0, 3, RIGHT, half=True), config=config)
    assert [tile(after, 0, c) for c in (3, 4)] == [(1, 3), (1, 3)]


# RULES 13-14: general capture and elimination


def test_rule_13_general_capture_halves_round_half_up_and_city_1v1_ends() -> None:
    state = new_game("A..B\n....")
    state = put(state, {(0, 2): (0, 10), (0, 3): (1, 3), (1, 3): (1, 5), (1, 2): (1, 4), (1, 1): (1, 1)})
    state = put(state, {(1, 0): (1, 0), (0, 0): (0, 7)})
    after = play(state, move(state, 0, 2, RIGHT), move(state, 1, 3, LEFT))
    assert tile(after, 0, 3) == (0, 9 - 3)  # the capturing move is not halved
    assert [tile(after, 1, c) for c in range(4)] == [(0, 0), (0, 1), (0, 2), (0, 3)]  # 0 1 4 5 halved up
    assert tile(after, 0, 0) == (0, 7)  # the capturer's own tiles are untouched
    assert bool(after.cities[0, 0, 3])
    assert after.generals.tolist() == [[0, -1]]
    assert after.alive.tolist() == [[True, False]]
    assert after.done.tolist() == [True] and after.winner.tolist() == [0]
    assert outcome(after).tolist() == [[1.0, -1.0]]


def test_rule_13_general_capture_in_ffa_game_goes_on() -> None:
    state = new_game("A.C\n...\n..B")
    state = put(state, {(0, 0): (0, 5), (0, 1): (0, 9), (1, 2): (2, 7), (1, 1): (2, 2)})
    # Even tick: order 0, 1, 2; player 2's move (after the capture) must not happen.
    after = play(state, move(state, 0, 1, RIGHT), PASS, move(state, 1, 2, DOWN))
    assert tile(after, 0, 2) == (0, 8 - 1)
    assert tile(after, 1, 2) == (0, 4) and tile(after, 1, 1) == (0, 1)
    assert tile(after, 2, 2) == (1, 1)  # player 2's attack on player 1 did not happen
    assert after.alive.tolist() == [[True, True, False]]
    assert after.done.tolist() == [False] and after.winner.tolist() == [-1]
    # The captured general is now a city of player 0 and grows as one.
    after = play(after, PASS, PASS, PASS)
    assert tile(after, 0, 2) == (0, 8)
    # Capturing the last other general ends the game.
    after = put(after, {(2, 1): (0, 9)})
    after = play(after, move(after, 2, 1, RIGHT), PASS, PASS)
    assert after.done.tolist() == [True] and after.winner.tolist() == [0]


def test_rule_14_leaver_eliminated_and_neutralized_1v1() -> None:
    state = put(new_game("A..B\n...."), {(0, 3): (1, 8), (1, 3): (1, 4)})
    after = eliminate(state, torch.tensor([[False, True]]))
    assert tile(after, 0, 3) == (NEUTRAL, 8) and tile(after, 1, 3) == (NEUTRAL, 4)
    assert bool(after.cities[0, 0, 3])
    assert after.generals.tolist() == [[0, -1]]
    assert after.done.tolist() == [True] and after.winner.tolist() == [0]


def test_rule_14_leaver_with_live_teammate_passes_tiles_to_it() -> None:
    state = new_game("A.C\n...\nB.D", teams=[0, 1, 0, 1])
    state = put(state, {(0, 1): (2, 6), (1, 1): (3, 2)})
    after = eliminate(state, torch.tensor([[False, False, True, False]]))
    assert tile(after, 0, 2) == (0, 1) and tile(after, 0, 1) == (0, 6)  # to teammate 0
    assert bool(after.cities[0, 0, 2]) and after.generals[0, 2].item() == -1
    assert after.alive.tolist() == [[True, True, False, True]]
    assert after.done.tolist() == [False]
    after = eliminate(after, torch.tensor([[False, True, False, False]]))
    assert tile(after, 2, 0) == (3, 1) and bool(after.cities[0, 2, 0])  # to teammate 3
    assert after.done.tolist() == [False]
    # Without a live teammate the tiles turn neutral; the last team standing wins.
    after = eliminate(after, torch.tensor([[False, False, False, True]]))
    assert [tile(after, r, c) for r, c in ((2, 2), (1, 1), (2, 0))] == [
        (NEUTRAL, 1),
        (NEUTRAL, 2),
        (NEUTRAL, 1),
    ]
    assert after.done.tolist() == [True] and after.winner.tolist() == [0]
    assert outcome(after).tolist() == [[1.0, -1.0, 1.0, -1.0]]


def test_rule_14_eliminated_player_keeps_tiles_growing_until_neutralized() -> None:
    state = put(new_game("A.C\n...\n..B"), {(0, 2): (2, 5), (1, 2): (2, 3)})
    after = eliminate(state, torch.tensor([[False, False, True]]), neutralize=False)
    assert after.alive.tolist() == [[True, True, False]] and after.done.tolist() == [False]
    assert not bool(observe(after).action_mask[0, 2, 1:].any())
    after = play(after, PASS, PASS, move(after, 0, 2, DOWN))  # its moves are no-ops
    after = play(after, PASS, PASS, move(after, 0, 2, DOWN))
    assert tile(after, 0, 2) == (2, 6) and tile(after, 1, 2) == (2, 3)
    neutralize_players(after, torch.tensor([[False, False, True]]))
    assert tile(after, 0, 2) == (NEUTRAL, 6) and tile(after, 1, 2) == (NEUTRAL, 3)
    assert bool(after.cities[0, 0, 2]) and after.generals[0, 2].item() == -1


# RULES 15-17: vision


def _plane(obs_planes: torch.Tensor, name: str) -> list[list[bool]]:
    return obs_planes[PLANES.index(name)].tolist()


def test_rule_15_16_fog_and_obstacles() -> None:
    state = new_game("A#..2\n.....\n...#.\n#....\n2...B")
    state = put(state, {(4, 4): (1, 7), (4, 3): (1, 3)})
    obs = observe(state)
    planes = obs.planes[0, 0]
    seen = [[r <= 1 and c <= 1 for c in range(5)] for r in range(5)]
    assert _plane(planes, "fog") == [[not v for v in row] for row in seen]
    obstacle = [[False] * 5 for _ in range(5)]
    for r, c in ((0, 4), (2, 3), (3, 0), (4, 0)):  # fogged cities and mountains alike
        obstacle[r][c] = True
    assert _plane(planes, "obstacle_in_fog") == obstacle
    assert planes[PLANES.index("mountain"), 0, 1]  # a visible mountain is a mountain
    assert not planes[PLANES.index("city")].any()  # fogged cities are not shown as cities
    assert not planes[PLANES.index("general"), 4, 4] and not planes[PLANES.index("enemy")].any()
    assert obs.armies[0, 0].tolist() == [[1] + [0] * 4] + [[0] * 5] * 4
    # Diagonals count: owning (1, 1) opens the 3x3 block around it.
    obs = observe(put(state, {(1, 1): (0, 1)}))
    assert not obs.planes[0, 0, PLANES.index("fog"), 2, 2]
    assert obs.planes[0, 0, PLANES.index("fog"), 2, 3]
    # Player 1 sees its corner: owner, army, general.
    p1 = obs.planes[0, 1]
    assert p1[PLANES.index("mine"), 4, 4] and p1[PLANES.index("general"), 4, 4]
    assert obs.armies[0, 1, 4, 4] == 7 and obs.armies[0, 1, 3, 3] == 0
    assert p1[PLANES.index("neutral"), 3, 3] and not p1[PLANES.index("fog"), 3, 3]


def test_rule_15_visible_enemy_city_and_general() -> None:
    state = put(new_game("A1B\n..."), {(0, 1): (1, 12), (1, 1): (0, 1)})
    obs = observe(state)
    p0 = obs.planes[0, 0]
    assert p0[PLANES.index("enemy"), 0, 1] and p0[PLANES.index("city"), 0, 1]
    assert p0[PLANES.index("enemy"), 0, 2] and p0[PLANES.index("general"), 0, 2]
    assert obs.armies[0, 0, 0].tolist() == [1, 12, 1]


def test_rule_17_totals_visible() -> None:
    state = new_game("A......\n.......\n......C\n.......\nB......")
    state = put(state, {(0, 1): (0, 4), (4, 1): (1, 9), (3, 6): (2, 2), (1, 6): (2, 3)})
    scalars = observe(state).scalars[0].tolist()
    land = [2, 2, 3]
    army = [5, 10, 6]
    for p in range(3):
        order = [(p + j) % 3 for j in range(3)]
        expected = [0] + [v for q in order for v in (land[q], army[q])]
        assert scalars[p] == expected


# RULE 18: game end and limits


def test_rule_18_truncation_draw() -> None:
    config = EngineConfig(max_ticks=10)
    state = new_game("A..B")
    for _ in range(9):
        state = play(state, PASS, PASS, config=config)
    assert state.done.tolist() == [False]
    state = play(state, PASS, PASS, config=config)
    assert state.done.tolist() == [True] and state.winner.tolist() == [-1]
    assert outcome(state).tolist() == [[0.0, 0.0]]
    # A finished game stands still.
    frozen = put(state, {(0, 0): (0, 5)})
    assert_same(play(frozen, move(frozen, 0, 0, RIGHT), PASS, config=config), frozen)
    assert not observe(frozen).action_mask[0, :, 1:].any()


# RULES 19-20: maps


def _bfs(passable: list[list[bool]], start: tuple[int, int]) -> dict[tuple[int, int], int]:
    h, w = len(passable), len(passable[0])
    dist = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < h and 0 <= nc < w and passable[nr][nc] and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


def test_rule_19_generator_fairness() -> None:
    config = MapConfig.generalsio_1v1()
    maps = generate_maps(12, config, seed=19)
    assert maps.shape == (23, 23)
    for b in range(maps.batch_size):
        h, w = maps.size[b].tolist()
        assert 18 <= h <= 23 and 18 <= w <= 23
        mountains = maps.mountains[b].tolist()
        cities = maps.cities[b].tolist()
        armies = maps.armies[b].tolist()
        assert all(
            mountains[r][c] and not cities[r][c] for r in range(23) for c in range(23) if r >= h or c >= w
        )
        share = sum(mountains[r][c] for r in range(h) for c in range(w)) / (h * w)
        assert 0.18 <= share <= 0.26, share
        city_tiles = [(r, c) for r in range(h) for c in range(w) if cities[r][c]]
        assert 9 <= len(city_tiles) <= 11
        assert all(40 <= armies[r][c] <= 50 for r, c in city_tiles)
        assert all(armies[r][c] == 0 for r in range(h) for c in range(w) if not cities[r][c])
        generals = [divmod(g, 23) for g in maps.generals[b].tolist()]
        free = [[not mountains[r][c] and not cities[r][c] for c in range(w)] for r in range(h)]
        assert all(free[r][c] for r, c in generals)
        dist = _bfs(free, generals[0])
        assert dist.get(generals[1], -1) >= 15  # a path avoiding mountains and cities, >= 15 steps
        walkable = [[not mountains[r][c] for c in range(w)] for r in range(h)]
        reach = _bfs(walkable, generals[0])
        assert len(reach) == sum(row.count(True) for row in walkable)  # every free tile reachable
        room = []
        for g in generals:
            near = _bfs(free, g)
            room.append(sum(1 for d in near.values() if 1 <= d <= config.fair_radius))
        assert min(room) >= config.min_room
        assert max(room) - min(room) <= config.fair_tolerance * max(room)


def test_rule_20_maps_from_string_and_file(tmp_path: Path) -> None:
    text = "\n  A..#\n  .3x.  \n\n  #..B\n"
    maps = Maps.from_string(text)
    assert maps.size.tolist() == [[3, 4]]
    assert maps.generals.tolist() == [[0, 11]]
    assert maps.mountains[0].tolist() == [
        [False, False, False, True],
        [False] * 4,
        [True, False, False, False],
    ]
    assert maps.armies[0, 1].tolist() == [0, 43, 50, 0]
    assert maps.to_string() == "A..#\n.3x.\n#..B"
    path = tmp_path / "map.txt"
    maps.save(path)
    loaded = Maps.load(path)
    for name, value in maps.tensors().items():
        assert torch.equal(value, getattr(loaded, name)), name
    state = initial_state(Maps.load(path, pad_to=(5, 6)))
    assert state.map_size.tolist() == [[3, 4]] and state.generals.tolist() == [[0, 2 * 6 + 3]]


def test_rule_13_capture_leaves_the_general_on_tile_0_growing() -> None:
    # Regression: a captured general (-1) used to clear the "general" flag of tile 0.
    state = put(new_game("A.C\n...\n..B"), {(2, 1): (1, 9)}, tick=1)
    after = play(state, PASS, PASS, PASS)
    after = put(after, {(1, 2): (1, 9)})
    after = play(after, PASS, move(after, 1, 2, UP), PASS)  # tick 2 -> 3: player 1 takes C
    assert after.alive.tolist() == [[True, True, False]]
    assert bool(after.general_tiles()[0, 0, 0]) and bool(
        observe(after).planes[0, 0, PLANES.index("general"), 0, 0]
    )
    before = tile(after, 0, 0)[1]
    after = play(after, PASS, PASS, PASS)  # tick 4: generals grow
    assert tile(after, 0, 0) == (0, before + 1)


@pytest.mark.parametrize("tick", [0, 1])
def test_rule_11_generals_bots_order_both_chasing_player_0_first(tick: int) -> None:
    # A swap: each moves onto the other's source. generals-bots 2.5.0 checks player 0's chase
    # first, so player 0 goes first although player 1 moves the larger army: 3 vs 10 leaves
    # (0,2) 7, whose half (3) then takes (0,1) holding 1. (Player 1 first: (0,1) 1, (0,2) 5.)
    state = put(new_game("A...B"), {(0, 1): (0, 4), (0, 2): (1, 10)}, tick=tick)
    after = play(state, move(state, 0, 1, RIGHT), move(state, 0, 2, LEFT, half=True), config=P0_FIRST)
    assert [tile(after, 0, c) for c in (1, 2)] == [(1, 2), (1, 4)]
