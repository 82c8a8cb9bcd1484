"""Rewards: the outcome (+1 / -1 / 0) and potential-based shaping as rewards.py documents it."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.game import EngineConfig, GameState, Maps, encode_action, initial_state, observe, step
from generals_rl.game.engine import eliminate
from generals_rl.game.rewards import RewardConfig, danger, outcome, potential, rewards

SHAPED = RewardConfig(land=0.5, army=0.3, city=0.2, gamma=1.0)
GUARDED = RewardConfig(land=0.5, army=0.3, city=0.2, guard=0.4, gamma=1.0)


def game(text: str, teams: list[int] | None = None) -> GameState:
    return initial_state(Maps.from_string(text), None if teams is None else torch.tensor(teams))


def put(state: GameState, tiles: dict[tuple[int, int], tuple[int, int]]) -> GameState:
    state = state.clone()
    for (r, c), (who, army) in tiles.items():
        state.owner[0, r, c] = who
        state.armies[0, r, c] = army
    return state


def test_outcome_win_loss_draw_and_playing() -> None:
    state = put(game("AB."), {(0, 0): (0, 5)})
    assert outcome(state).tolist() == [[0.0, 0.0]]
    won = step(state, torch.tensor([[int(encode_action(0, 3, False, 3)), 0]]))
    assert outcome(won).tolist() == [[1.0, -1.0]]
    drawn = step(state, torch.zeros(1, 2, dtype=torch.int64), EngineConfig(max_ticks=1))
    assert bool(drawn.done[0]) and outcome(drawn).tolist() == [[0.0, 0.0]]


def test_outcome_by_team() -> None:
    state = game("A.C\n...\nB.D", teams=[0, 1, 0, 1])
    over = eliminate(state, torch.tensor([[False, True, False, True]]))
    assert outcome(over).tolist() == [[1.0, -1.0, 1.0, -1.0]]


def test_potential_is_the_documented_weighted_sum_of_shares() -> None:
    # Player 0: land 4 (general, city, two plain), army 1+9+5+0; player 1: land 2, army 20+10.
    state = game("A2.\n..B\n...")
    state = put(state, {(0, 1): (0, 9), (0, 2): (0, 5), (1, 0): (0, 0), (1, 2): (1, 20), (2, 2): (1, 10)})
    phi = potential(state, SHAPED)[0].tolist()
    land = [4 / 6, 2 / 6]
    army = [15 / 45, 30 / 45]
    city = [1.0, 0.0]  # generals are not cities
    raw = [0.5 * land[p] + 0.3 * army[p] + 0.2 * city[p] for p in range(2)]
    expected = [value - sum(raw) / 2 for value in raw]  # centred: the potentials sum to zero
    assert phi == pytest.approx(expected, abs=1e-6)
    # A captured general counts as a city of its new owner.
    captured = state.clone()
    captured.cities[0, 1, 2] = True
    captured.generals[0, 1] = -1
    assert potential(captured, RewardConfig(city=1.0))[0].tolist() == pytest.approx([0.0, 0.0])


def test_potential_share_is_zero_when_nobody_has_any() -> None:
    state = game("A.\n.B")  # no cities at all
    assert potential(state, RewardConfig(city=1.0)).tolist() == [[0.0, 0.0]]
    assert potential(state, RewardConfig()).tolist() == [[0.0, 0.0]]


def test_danger_is_how_far_the_largest_enemy_army_near_a_general_outweighs_it() -> None:
    # A's general holds 10; B's armies stand 2, 4 and 5 steps from it (Manhattan).
    state = put(game("A......\n.......\n......B"), {(0, 0): (0, 10), (1, 1): (1, 30), (2, 2): (1, 50)})
    assert danger(state, radius=4)[0].tolist() == pytest.approx([40 / 60, 0.0])  # the 50, 4 steps away
    assert danger(state, radius=3)[0].tolist() == pytest.approx([20 / 40, 0.0])  # only the 30 is near
    assert danger(state, radius=1)[0].tolist() == [0.0, 0.0]
    stronger = put(state, {(0, 0): (0, 60)})
    assert danger(stronger, radius=4)[0].tolist() == [0.0, 0.0]  # the general outweighs both
    # B's general (1 army) is 2 steps from A's 40: B is in danger now.
    near_b = put(state, {(1, 5): (0, 40)})
    assert danger(near_b, radius=2)[0].tolist() == pytest.approx([20 / 40, 39 / 41])
    # As a potential: the danger counts against its player, centred so the two sum to zero.
    phi = potential(state, RewardConfig(guard=1.0, guard_radius=4))[0].tolist()
    assert phi == pytest.approx([-(40 / 60) / 2, (40 / 60) / 2])


def test_danger_comes_from_enemies_only_and_ends_with_the_general() -> None:
    state = game("A.C\n...\nB.D", teams=[0, 1, 0, 1])
    ally = put(state, {(0, 1): (2, 99)})  # C's army next to A's general
    assert danger(ally, radius=2)[0].tolist() == [0.0, 0.0, 0.0, 0.0]
    enemy = put(state, {(0, 1): (3, 99)})  # D's
    value = danger(enemy, radius=2)[0].tolist()
    assert value[0] == pytest.approx(98 / 100) and value[2] == pytest.approx(98 / 100)  # C's general too
    gone = enemy.clone()
    gone.generals[0, 0] = -1
    assert danger(gone, radius=2)[0, 0].item() == 0.0


def test_shaped_reward_formula_on_one_transition() -> None:
    config = RewardConfig(land=1.0, army=0.5, gamma=0.9)
    before = put(game("A...B"), {(0, 0): (0, 6)})
    after = step(before, torch.tensor([[int(encode_action(0, 3, False, 5)), 0]]))
    expected = 0.9 * potential(after, config) - potential(before, config)
    assert torch.allclose(rewards(before, after, config), expected)
    assert rewards(before, after).tolist() == [[0.0, 0.0]]  # unshaped: the outcome only


def test_finished_games_earn_nothing() -> None:
    state = put(game("AB."), {(0, 0): (0, 5)})
    over = step(state, torch.tensor([[int(encode_action(0, 3, False, 3)), 0]]))
    # The terminal transition: the outcome minus phi(before); no potential after the end.
    expected = outcome(over) - potential(state, SHAPED)
    assert torch.allclose(rewards(state, over, SHAPED), expected)
    assert expected.tolist() != outcome(over).tolist()
    later = step(over, torch.zeros(1, 2, dtype=torch.int64))
    assert rewards(over, later, SHAPED).tolist() == [[0.0, 0.0]]


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31), max_ticks=st.sampled_from([20, 60]))
def test_shaped_rewards_telescope_to_outcome_minus_initial_potential(seed: int, max_ticks: int) -> None:
    """With gamma = 1, sum_t r_t = outcome(final) - phi(s0): the shaping adds nothing over a game."""
    maps = Maps.cat([Maps.from_string(t) for t in ("A1.\n..B", "AB\n..", "A.x..\n.....\n..#.B")])
    state = initial_state(maps)
    first = state
    config = EngineConfig(max_ticks=max_ticks)
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(state.batch_size, state.num_players)
    while not bool(state.done.all()):
        mask = observe(state).action_mask.float()
        mask[..., 0] = 0.05  # mostly move
        actions = torch.multinomial(mask.flatten(0, 1), 1, generator=gen).view(state.batch_size, -1)
        after = step(state, actions, config)
        total += rewards(state, after, GUARDED)
        state = after
    expected = outcome(state) - potential(first, GUARDED)
    assert torch.allclose(total, expected, atol=1e-4)


def test_shaped_1v1_rewards_are_zero_sum_every_tick() -> None:
    maps = Maps.cat([Maps.from_string(t) for t in ("A1.\n..B", "A.x..\n.....\n..#.B")])
    state = initial_state(maps)
    config = RewardConfig(land=0.5, army=0.3, city=0.2, guard=0.4, gamma=0.99)
    gen = torch.Generator().manual_seed(1)
    shaped_ticks = 0
    for _ in range(60):
        mask = observe(state).action_mask.float()
        actions = torch.multinomial(mask.flatten(0, 1), 1, generator=gen).view(state.batch_size, -1)
        after = step(state, actions, EngineConfig(max_ticks=50))
        reward = rewards(state, after, config)
        assert torch.allclose(reward.sum(dim=1), torch.zeros(2), atol=1e-6)
        shaped_ticks += int(bool((reward != 0).any()))
        state = after
    assert shaped_ticks > 10  # the shaping was at work, not only zero
