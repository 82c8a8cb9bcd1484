"""The engine and the scripted bots give the same games on CUDA as on the CPU (skipped without a GPU)."""

from __future__ import annotations

import pytest
import torch

from generals_rl.agents import ExpanderAgent, GathererAgent
from generals_rl.agents.base import sample_legal
from generals_rl.game import EngineConfig, MapConfig, generate_maps, initial_state, observe, step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("players", [2, 4])
def test_cuda_games_equal_cpu_games(players: int) -> None:
    config = MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)
    maps = generate_maps(64, config, seed=5)
    engine = EngineConfig(max_ticks=400)
    cpu = initial_state(maps)
    gpu = cpu.to("cuda")
    generator = torch.Generator().manual_seed(0)
    for _ in range(400):
        uniform = torch.rand(64, players, generator=generator)
        actions = sample_legal(observe(cpu).action_mask, uniform)
        gpu_actions = sample_legal(observe(gpu).action_mask, uniform.cuda())
        assert torch.equal(actions, gpu_actions.cpu())
        cpu = step(cpu, actions, engine)
        gpu = step(gpu, gpu_actions, engine)
    for name, tensor in cpu.tensors().items():
        assert torch.equal(tensor, getattr(gpu, name).cpu()), name
    obs_cpu, obs_gpu = observe(cpu), observe(gpu)
    assert torch.equal(obs_cpu.planes, obs_gpu.planes.cpu())
    assert torch.equal(obs_cpu.armies, obs_gpu.armies.cpu())


def test_the_scripted_bots_play_the_same_moves_on_cuda() -> None:
    """The bots' searches check convergence every few sweeps on CUDA (``SWEEPS_PER_CHECK``) and
    every sweep on the CPU: the moves must not depend on it."""
    maps = generate_maps(32, MapConfig.generalsio_1v1(), seed=8)
    cpu, gpu = initial_state(maps), initial_state(maps).to("cuda")
    cpu_bots, gpu_bots = [GathererAgent(1), ExpanderAgent(2)], [GathererAgent(1), ExpanderAgent(2)]
    for _ in range(300):
        obs_cpu, obs_gpu = observe(cpu), observe(gpu)
        actions = torch.stack([bot.act(obs_cpu.player(p)) for p, bot in enumerate(cpu_bots)], dim=1)
        gpu_actions = torch.stack([bot.act(obs_gpu.player(p)) for p, bot in enumerate(gpu_bots)], dim=1)
        assert torch.equal(actions, gpu_actions.cpu())
        cpu, gpu = step(cpu, actions), step(gpu, gpu_actions)
