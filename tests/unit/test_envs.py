"""The RL adapters: Gymnasium single and vector envs, PettingZoo parallel env (docs/envs.md)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from pettingzoo.test import parallel_api_test, parallel_seed_test
from torch import Tensor

from generals_rl.agents import Agent, sample_legal
from generals_rl.envs import (
    ENV_ID,
    GeneralsEnv,
    GeneralsParallelEnv,
    GeneralsVectorEnv,
    parallel_env,
)
from generals_rl.envs.core import encode
from generals_rl.game import EngineConfig, Maps, Observation, encode_action, observe, step
from generals_rl.game.observations import PLANE, action_mask
from generals_rl.game.rewards import RewardConfig, rewards

# Generals side by side: player 1 moves off its general at tick 4, player 0 takes it at tick 5.
DUEL = "AB..\n....\n....\n...."
FFA3 = "AB..\n....\n....\n...C"
N = 16  # tiles of the 4x4 maps
DOWN, RIGHT = 1, 3
B_DOWN = int(encode_action(1, DOWN, 0, N))  # player 1's general (tile 1) down, all but one
A_RIGHT = int(encode_action(0, RIGHT, 0, N))  # player 0's general (tile 0) onto tile 1
CAPTURE_SCRIPT = [(0, 0)] * 4 + [(0, B_DOWN), (A_RIGHT, 0)]  # (player 0, player 1) per tick


class CaptureBot(Agent):
    """Plays the capture script from whichever of the two general tiles it owns."""

    name = "capture"

    def act(self, obs: Observation) -> Tensor:
        tick = obs.scalars[:, 0]
        mine = obs.plane("mine").flatten(1)
        out = torch.zeros(tick.shape[0], dtype=torch.int64)
        out = torch.where(mine[:, 1] & (tick == 4), torch.tensor(B_DOWN), out)
        return torch.where(mine[:, 0] & ~mine[:, 1] & (tick == 5), torch.tensor(A_RIGHT), out)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """These batches are tiny: one intra-op thread is faster, and much faster on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_actions(mask: np.ndarray | Tensor, generator: torch.Generator) -> Tensor:
    mask = torch.as_tensor(mask).bool()
    return sample_legal(mask, torch.rand(mask.shape[:-1], generator=generator))


# ---------------------------------------------------------------- single env


def test_single_env_passes_gymnasium_checker_without_warnings() -> None:
    env = gym.make(ENV_ID)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


def test_single_env_spaces_and_info() -> None:
    env = gym.make(ENV_ID, players=3, seat=2)
    obs, info = env.reset(seed=3)
    space = env.observation_space
    assert obs in space
    assert isinstance(env.action_space, gym.spaces.Discrete)
    assert obs["board"].shape == (len(PLANE) + 1, 23, 23)
    assert obs["scalars"].shape == (1 + 2 * 3,)
    assert env.action_space.n == obs["action_mask"].shape[0] == 1 + 23 * 23 * 8
    assert info["seat"] == 2
    np.testing.assert_array_equal(info["action_mask"], obs["action_mask"])
    np.testing.assert_array_equal(env.unwrapped.action_masks(), obs["action_mask"].astype(bool))


def test_single_env_seeding_reproduces_maps_seats_and_bot() -> None:
    def episode(seed: int) -> list[tuple[np.ndarray, float]]:
        env = GeneralsEnv(opponent="random")
        obs, _ = env.reset(seed=seed)
        gen = torch.Generator().manual_seed(0)
        out = [(obs["board"].copy(), 0.0)]
        for _ in range(40):
            obs, reward, *_ = env.step(int(random_actions(obs["action_mask"], gen)))
            out.append((obs["board"].copy(), float(reward)))
        return out

    first, again, other = episode(7), episode(7), episode(8)
    for (b1, r1), (b2, r2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(b1, b2)
        assert r1 == r2
    assert not np.array_equal(first[0][0], other[0][0])


def test_single_env_win_terminates_with_plus_one() -> None:
    env = GeneralsEnv(opponent=CaptureBot, seat=1, maps=Maps.from_string(DUEL))
    obs, _ = env.reset(seed=0)
    # The bot takes the learner's general at tick 5 once the learner has moved off it.
    for tick, (_, learner) in enumerate(CAPTURE_SCRIPT):
        assert obs["action_mask"][learner] == 1
        obs, reward, terminated, truncated, info = env.step(learner)
        if tick < 5:
            assert (reward, terminated, truncated) == (0.0, False, False)
    assert (reward, terminated, truncated) == (-1.0, True, False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)

    env = GeneralsEnv(opponent=CaptureBot, seat=0, maps=Maps.from_string(DUEL))
    env.reset(seed=0)
    for learner, _ in CAPTURE_SCRIPT:
        _, reward, terminated, truncated, info = env.step(learner)
    assert (reward, terminated, truncated, info["tick"]) == (1.0, True, False, 6)


def test_single_env_truncates_at_max_ticks() -> None:
    env = GeneralsEnv(engine_config=EngineConfig(max_ticks=10))
    env.reset(seed=1)
    for t in range(10):
        _, reward, terminated, truncated, info = env.step(0)
        assert truncated == (t == 9)
    assert (reward, terminated, info["tick"]) == (0.0, False, 10)


def test_single_env_render_ansi_shows_the_board() -> None:
    env = gym.make(ENV_ID, render_mode="ansi", maps=Maps.from_string(DUEL))
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, str)
    assert "*1" in frame and "tick 0" in frame


def test_out_of_range_actions_raise_value_error() -> None:
    env = GeneralsEnv()
    env.reset(seed=0)
    n = env.action_space.n
    for bad in (-1, n, n + 5):
        with pytest.raises(ValueError, match="out of range"):
            env.step(bad)
    with pytest.raises(ValueError, match="integers"):
        env.step(1.5)  # type: ignore[arg-type]

    venv = GeneralsVectorEnv(num_envs=4, mode="self_play")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        venv.step(np.array([0, 0, n, 0]))
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros(3, dtype=np.int64))

    penv = GeneralsParallelEnv()
    penv.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        penv.step({"player_0": 0, "player_1": -3})
    with pytest.raises(ValueError, match="no action"):
        penv.step({"player_0": 0})
    with pytest.raises(ValueError, match="unknown"):
        penv.step({"player_0": 0, "player_1": 0, "player_9": 0})


def test_masked_out_actions_in_range_are_no_ops() -> None:
    envs = [GeneralsParallelEnv(maps=Maps.from_string(DUEL)) for _ in range(2)]
    for env in envs:
        env.reset(seed=0)
    illegal = int(encode_action(5, DOWN, 0, N))  # a tile player 0 does not own
    assert not envs[0].action_mask("player_0")[illegal]
    obs_illegal, *_ = envs[0].step({"player_0": illegal, "player_1": 0})
    obs_pass, *_ = envs[1].step({"player_0": 0, "player_1": 0})
    for agent in obs_pass:
        for key in obs_pass[agent]:
            np.testing.assert_array_equal(obs_illegal[agent][key], obs_pass[agent][key])


# ---------------------------------------------------------------- vector env


def test_make_vec_builds_the_batched_env() -> None:
    venv = gym.make_vec(ENV_ID, num_envs=3)
    assert isinstance(venv, GeneralsVectorEnv)
    assert (venv.mode, venv.num_games) == ("vs_bot", 3)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = venv.reset(seed=0)
    assert obs in venv.observation_space
    assert info["seat"].shape == (3,)

    selfplay = gym.make_vec(ENV_ID, num_envs=8, mode="self_play", players=4)
    assert selfplay.num_games == 2
    with pytest.raises(ValueError, match="multiple"):
        GeneralsVectorEnv(num_envs=5, mode="self_play")


def test_vector_self_play_equals_the_engine_on_the_same_maps() -> None:
    venv = GeneralsVectorEnv(num_envs=8, mode="self_play", reward_config=RewardConfig(land=0.5, gamma=0.9))
    obs, _ = venv.reset(seed=11)
    state = venv.state.clone()
    gen = torch.Generator().manual_seed(1)
    for _ in range(40):
        actions = random_actions(obs["action_mask"], gen)
        obs, reward, terminated, truncated, _ = venv.step(actions.numpy())
        after = step(state, actions.view(4, 2))
        expected = {k: v.numpy() for k, v in encode(observe(after).flatten_players()).items()}
        for key in expected:
            np.testing.assert_array_equal(obs[key], expected[key])
        expected_reward = rewards(state, after, RewardConfig(land=0.5, gamma=0.9)).flatten().numpy()
        np.testing.assert_allclose(reward, expected_reward, rtol=0, atol=1e-7)
        assert not terminated.any() and not truncated.any()
        state = after


def test_vector_masks_match_engine_legal_moves() -> None:
    venv = GeneralsVectorEnv(num_envs=6, mode="self_play", players=3)
    obs, _ = venv.reset(seed=5)
    gen = torch.Generator().manual_seed(2)
    for _ in range(60):
        obs, *_ = venv.step(random_actions(obs["action_mask"], gen).numpy())
    state = venv.state
    np.testing.assert_array_equal(obs["action_mask"].astype(bool), action_mask(state).flatten(0, 1).numpy())
    # Every legal move does move army, every other action leaves the board as a pass does.
    masks = action_mask(state)
    passed = step(state, torch.zeros(2, 3, dtype=torch.int64))
    for trial in range(40):
        g, p = int(torch.randint(2, (1,), generator=gen)), int(torch.randint(3, (1,), generator=gen))
        if trial % 2:
            a = int(random_actions(masks[g, p], gen))
        else:
            a = int(torch.randint(masks.shape[-1], (1,), generator=gen))
        actions = torch.zeros(2, 3, dtype=torch.int64)
        actions[g, p] = a
        moved = not torch.equal(step(state, actions).armies, passed.armies)
        assert moved == bool(masks[g, p, a]) or a == 0


def test_vector_vs_bot_observes_the_learner_seat() -> None:
    venv = GeneralsVectorEnv(num_envs=4, opponent="random")
    obs, info = venv.reset(seed=2)
    gen = torch.Generator().manual_seed(3)
    for _ in range(10):
        obs, _, _, _, info = venv.step(random_actions(obs["action_mask"], gen).numpy())
    views = observe(venv.state)
    seats = torch.as_tensor(info["seat"])
    expected = encode(views.player(0))["board"].clone()
    for g, s in enumerate(seats.tolist()):
        expected[g] = encode(views.player(s))["board"][g]
    np.testing.assert_array_equal(obs["board"], expected.numpy())


def test_vector_seeding_is_reproducible() -> None:
    def run(seed: int) -> list[np.ndarray]:
        venv = GeneralsVectorEnv(num_envs=3, opponent="random", engine_config=EngineConfig(max_ticks=15))
        obs, _ = venv.reset(seed=seed)
        gen = torch.Generator().manual_seed(0)
        boards = [obs["board"]]
        for _ in range(20):  # across an autoreset
            obs, *_ = venv.step(random_actions(obs["action_mask"], gen).numpy())
            boards.append(obs["board"])
        return boards

    for a, b in zip(run(4), run(4), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(run(4)[0], run(5)[0])


def test_same_step_autoreset_truncation_starts_fresh_maps() -> None:
    venv = GeneralsVectorEnv(num_envs=4, mode="self_play", engine_config=EngineConfig(max_ticks=5))
    obs, _ = venv.reset(seed=3)
    old_mountains = venv.state.mountains.clone()
    for t in range(5):
        obs, reward, terminated, truncated, info = venv.step(np.zeros(4, dtype=np.int64))
        assert truncated.all() == (t == 4)
    assert not terminated.any()
    np.testing.assert_array_equal(reward, 0.0)
    assert (venv.state.tick == 0).all()
    assert not torch.equal(venv.state.mountains, old_mountains)
    assert (obs["scalars"][:, 0] == 0).all()
    assert info["_final_obs"].all() and info["_final_info"].all()
    assert [final["scalars"][0] for final in info["final_obs"]] == [5] * 4
    np.testing.assert_array_equal(info["final_info"]["outcome"], 0.0)
    np.testing.assert_array_equal(info["final_info"]["ticks"], 5)


def test_same_step_autoreset_win_gives_terminal_rewards() -> None:
    duel = Maps.from_string(DUEL)
    maps = Maps.cat([duel, duel, Maps.from_string(DUEL.replace(".", "#", 1))])
    venv = GeneralsVectorEnv(num_envs=4, mode="self_play", maps=maps)
    obs, _ = venv.reset(seed=0)
    for p0, p1 in CAPTURE_SCRIPT:
        # Game 0 plays the script, game 1 passes.
        obs, reward, terminated, truncated, info = venv.step(np.array([p0, p1, 0, 0]))
    np.testing.assert_array_equal(reward, [1.0, -1.0, 0.0, 0.0])
    np.testing.assert_array_equal(terminated, [True, True, False, False])
    assert not truncated.any()
    np.testing.assert_array_equal(info["_final_obs"], [True, True, False, False])
    np.testing.assert_array_equal(info["final_info"]["outcome"][:2], [1.0, -1.0])
    final = info["final_obs"][0]
    assert final["scalars"][0] == 6 and final["board"][PLANE["mine"]].sum() == 3
    # Game 0 restarted on the next map in turn (the third, with a mountain at tile 2).
    assert int(venv.state.tick[0]) == 0 and bool(venv.state.mountains[0].flatten()[2])
    assert int(venv.state.tick[1]) == 6
    np.testing.assert_array_equal(obs["scalars"][:, 0], [0, 0, 6, 6])


def test_next_step_autoreset_returns_the_terminal_observation_first() -> None:
    venv = GeneralsVectorEnv(
        num_envs=2, mode="self_play", maps=Maps.from_string(DUEL), autoreset_mode=AutoresetMode.NEXT_STEP
    )
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = venv.reset(seed=0)
    for p0, p1 in CAPTURE_SCRIPT:
        obs, reward, terminated, _, info = venv.step(np.array([p0, p1]))
    np.testing.assert_array_equal(reward, [1.0, -1.0])
    assert terminated.all() and "final_obs" not in info
    np.testing.assert_array_equal(info["outcome"], [1.0, -1.0])
    assert (obs["scalars"][:, 0] == 6).all()
    obs, reward, terminated, truncated, _ = venv.step(np.array([A_RIGHT, A_RIGHT]))  # ignored
    np.testing.assert_array_equal(reward, 0.0)
    assert not terminated.any() and not truncated.any()
    assert (obs["scalars"][:, 0] == 0).all()


def test_self_play_rewards_are_zero_sum_in_1v1() -> None:
    venv = GeneralsVectorEnv(num_envs=16, mode="self_play", maps=Maps.from_string(DUEL))
    obs, _ = venv.reset(seed=9)
    gen = torch.Generator().manual_seed(4)
    finished = 0
    for _ in range(150):
        obs, reward, terminated, _, _ = venv.step(random_actions(obs["action_mask"], gen).numpy())
        np.testing.assert_array_equal(reward.reshape(8, 2).sum(1), 0.0)
        finished += int(terminated.sum())
    assert finished > 0  # some games were won on the tiny map


def test_vs_bot_ffa_learner_eliminated_ends_its_episode() -> None:
    maps = Maps.from_string(FFA3)
    venv = GeneralsVectorEnv(num_envs=1, players=3, seat=1, opponent=CaptureBot, maps=maps)
    venv.reset(seed=0)
    for _, learner in CAPTURE_SCRIPT:
        _, reward, terminated, truncated, info = venv.step(np.array([learner]))
    assert (float(reward[0]), bool(terminated[0]), bool(truncated[0])) == (-1.0, True, False)
    assert info["final_info"]["outcome"][0] == -1.0
    assert int(venv.state.tick[0]) == 0  # a new game although players 0 and 2 were still playing


def test_vector_torch_output() -> None:
    venv = GeneralsVectorEnv(num_envs=4, mode="self_play", output="torch")
    obs, _ = venv.reset(seed=0)
    assert isinstance(obs["board"], Tensor) and obs["board"].dtype == torch.int32
    obs, reward, terminated, truncated, _ = venv.step(torch.zeros(4, dtype=torch.int64))
    assert isinstance(reward, Tensor) and isinstance(terminated, Tensor) and isinstance(truncated, Tensor)
    assert venv.action_masks().shape == (4, venv.single_action_space.n)


# ---------------------------------------------------------------- PettingZoo


@pytest.mark.parametrize("players", [2, 4])
def test_parallel_env_passes_pettingzoo_api_test(players: int) -> None:
    env = parallel_env(players=players, engine_config=EngineConfig(max_ticks=60))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(env, num_cycles=100)
    assert [str(w.message) for w in caught] == []


def test_parallel_env_passes_pettingzoo_seed_test() -> None:
    parallel_seed_test(lambda: GeneralsParallelEnv(players=3), num_cycles=50)


def test_parallel_env_removes_eliminated_agents() -> None:
    env = GeneralsParallelEnv(players=3, maps=Maps.from_string(FFA3))
    env.reset(seed=0)
    for p0, p1 in CAPTURE_SCRIPT:
        obs, rew, term, _, _ = env.step({"player_0": p0, "player_1": p1, "player_2": 0})
    assert rew == {"player_0": 0.0, "player_1": -1.0, "player_2": 0.0}
    assert term == {"player_0": False, "player_1": True, "player_2": False}
    assert set(obs) == {"player_0", "player_1", "player_2"}
    assert env.agents == ["player_0", "player_2"]
    obs, rew, *_ = env.step({"player_0": 0, "player_2": 0})
    assert set(obs) == set(rew) == {"player_0", "player_2"}


def test_parallel_env_truncation_ends_the_game_for_everyone() -> None:
    env = GeneralsParallelEnv(engine_config=EngineConfig(max_ticks=3))
    env.reset(seed=0)
    for _ in range(3):
        _, _, term, trunc, _ = env.step({a: 0 for a in env.agents})
    assert trunc == {"player_0": True, "player_1": True} and not any(term.values())
    assert env.agents == []


# ---------------------------------------------------------------- docs


def test_docs_snippets_run() -> None:
    """Every python block of docs/envs.md runs as written."""
    text = (Path(__file__).parents[2] / "docs" / "envs.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    for block in blocks:
        exec(compile(block, "docs/envs.md", "exec"), {})
