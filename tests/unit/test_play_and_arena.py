"""Playing bots against each other: the arena, auto-reset, win-rate intervals and ``grl play``."""

from __future__ import annotations

import math

import pytest
import torch
from typer.testing import CliRunner

from generals_rl.agents import RandomAgent, make_agent
from generals_rl.agents.arena import play_games
from generals_rl.cli.main import app
from generals_rl.game import EngineConfig, MapConfig, MapPool, Maps, generate_maps
from generals_rl.game.autoreset import new_games, reset_finished
from generals_rl.stats import wilson_interval

runner = CliRunner()

DUEL = """
A.1
...
..B
"""


def test_arena_plays_every_game_to_its_end_and_counts_the_winner() -> None:
    maps = Maps.cat([Maps.from_string(DUEL)] * 3)

    class Rush(RandomAgent):
        """Seat 0 walks its general right, then down, onto B."""

        name = "rush"

        def act(self, obs):  # type: ignore[no-untyped-def]
            tick = int(obs.scalars[0, 0])
            if tick < 12:
                return torch.zeros(obs.action_mask.shape[0], dtype=torch.long)
            mine = obs.planes[:, 0].flatten(1)
            armies = obs.armies.flatten(1)
            tile = (armies * mine).argmax(1)
            row = tile // 3
            direction = torch.where(row < 2, 1, 3)  # down, then right
            return 1 + direction * 9 + tile

    result = play_games([Rush(0), make_agent("random", 1)], maps, EngineConfig(max_ticks=100))
    assert result.games == 3
    assert result.wins(0) == 3 and result.wins(1) == 0 and result.draws == 0
    assert bool(result.final.done.all())


def test_arena_truncation_is_a_draw() -> None:
    maps = generate_maps(4, seed=2)
    result = play_games([make_agent("random", 1), make_agent("random", 2)], maps, EngineConfig(max_ticks=20))
    assert result.draws == 4
    assert result.ticks.tolist() == [20] * 4


def test_arena_rejects_a_wrong_number_of_agents() -> None:
    with pytest.raises(ValueError, match="3 agents for maps with 2 players"):
        play_games([RandomAgent(0)] * 3, generate_maps(1, seed=0))


def test_reset_finished_replaces_only_finished_games() -> None:
    pool = MapPool(MapConfig.generalsio_1v1().with_side(20), seed=3, block=8)
    state = new_games(4, pool)
    done = torch.tensor([True, False, True, False])
    advanced = state.replace(tick=torch.full((4,), 7), done=done)
    fresh, replaced = reset_finished(advanced, pool)
    assert replaced.tolist() == done.tolist()
    assert fresh.tick.tolist() == [0, 7, 0, 7]
    assert not bool(fresh.done.any())
    assert not torch.equal(fresh.mountains[0], state.mountains[0])  # a new map
    assert torch.equal(fresh.mountains[1], state.mountains[1])  # untouched


def test_wilson_interval_brackets_the_rate_and_narrows_with_games() -> None:
    low, high = wilson_interval(80, 100)
    assert low < 0.8 < high
    assert math.isclose(low, 0.7112, abs_tol=1e-3) and math.isclose(high, 0.8666, abs_tol=1e-3)
    narrow = wilson_interval(800, 1000)
    assert narrow[1] - narrow[0] < high - low
    assert wilson_interval(0, 10)[0] == 0.0 and math.isclose(wilson_interval(10, 10)[1], 1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_grl_play_many_games_prints_a_win_table() -> None:
    result = runner.invoke(
        app, ["play", "--p1", "random", "--p2", "random", "--games", "3", "--max-ticks", "30"]
    )
    assert result.exit_code == 0, result.output
    assert "3 games" in result.output and "95% CI" in result.output and "draws" in result.output


def test_grl_play_one_game_renders_the_board() -> None:
    args = ["play", "--p1", "random", "--p2", "random", "--max-ticks", "10", "--delay", "0", "--seed", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tick 10" in result.output and "random (1)" in result.output


@pytest.mark.parametrize("size", ["6x6", "8x8", "32x32"])
def test_grl_play_small_and_large_generated_maps(size: str) -> None:
    args = ["play", "--p1", "random", "--p2", "random", "--size", size, "--games", "2", "--max-ticks", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "twenty"], "size must look like 20x20"),
        (["--size", "2x2"], "each side must lie in 4..64"),
        (["--p1", "nobody"], "unknown agent 'nobody'"),
        (["--move-order", "sideways"], "move_order must be"),
        (["--size", "10x12"], "generated maps are square"),
        (["--size", "4x4", "--players", "8"], "try a larger --size"),
    ],
)
def test_grl_play_bad_options_fail_with_a_clear_message(args: list[str], message: str) -> None:
    seats = ["--p1", "random", "--p2", "random"]
    result = runner.invoke(app, ["play", *seats, *args, "--games", "2", "--max-ticks", "5"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
