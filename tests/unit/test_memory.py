"""Memory channels (``training/memory.py``, ``ResNetConfig.memory``): what the fog hides is
remembered with its age; the learner rebuilds exactly the memory each action was taken on; agents
forget finished games; a network with memory validates and plays without one."""

from __future__ import annotations

import math

import pytest
import torch

from generals_rl.agents import make_agent
from generals_rl.agents.arena import play_games
from generals_rl.agents.neural import NeuralAgent
from generals_rl.game import EngineConfig, MapConfig, MapPool, generate_maps, initial_state, observe
from generals_rl.game.observations import PLANE, PLANES, Observation
from generals_rl.game.rewards import RewardConfig
from generals_rl.services.model import weights
from generals_rl.services.model.validation import ValidationConfig, validate
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import Learner
from generals_rl.training.memory import (
    MEMORY_STATE,
    STALE_TICKS,
    Memory,
    empty_memory,
    forget,
    memory_planes,
    remember,
    unroll_memory,
)
from generals_rl.training.networks import ResNetConfig, build
from generals_rl.training.rollout import RolloutCollector

MEMORY_NET = {"channels": 8, "blocks": 1, "memory": True}


Tile = tuple[int, int]


def _view(
    tick: int, tiles: dict[Tile, tuple[str, int]], *, cities: frozenset[Tile] = frozenset(),
    generals: frozenset[Tile] = frozenset(), side: int = 3,
) -> Observation:  # fmt: skip
    """One player's view of a ``side`` x ``side`` board: ``tiles`` in view as (owner plane, army);
    every other tile fogged."""
    armies = torch.zeros((1, side, side), dtype=torch.int32)
    planes = torch.zeros((1, len(PLANES), side, side), dtype=torch.bool)
    planes[:, PLANE["fog"]] = True
    for (r, c), (owner, army) in tiles.items():
        planes[0, PLANE["fog"], r, c] = False
        planes[0, PLANE[owner], r, c] = True
        armies[0, r, c] = army
    for r, c in cities:
        planes[0, PLANE["city"], r, c] = True
    for r, c in generals:
        planes[0, PLANE["general"], r, c] = True
    scalars = torch.tensor([[tick, 1, 1, 1, 1]], dtype=torch.int32)
    mask = torch.zeros((1, 1 + 8 * side * side), dtype=torch.bool)
    mask[:, 0] = True
    return Observation(armies, planes, scalars, mask)


def test_fogged_tiles_keep_what_was_last_seen_there_and_how_long_ago() -> None:
    seen = _view(
        10,
        {(0, 0): ("enemy", 5), (0, 1): ("enemy", 3), (1, 1): ("neutral", 40), (2, 2): ("mine", 1)},
        cities=frozenset({(1, 1)}),
        generals=frozenset({(0, 1)}),
    )
    memory = remember(empty_memory(1, 3, 3), seen)
    later = _view(30, {(2, 2): ("mine", 2)})  # the enemy and the city are in the fog now
    memory = remember(memory, later)
    planes = memory_planes(memory, later)[0]
    army, enemy, general, city, stale = planes
    assert enemy[0, 0] == 1 and enemy[0, 1] == 1 and enemy.sum() == 2
    assert army[0, 0] == pytest.approx(math.log1p(5)) and army[0, 1] == pytest.approx(math.log1p(3))
    assert army[1, 1] == 0  # a neutral army is not an enemy army
    assert general[0, 1] == 1 and general.sum() == 1
    assert city[1, 1] == 1 and city.sum() == 1
    assert stale[0, 0] == pytest.approx(20 / STALE_TICKS) and stale[2, 2] == 0  # in view now
    assert stale[2, 0] == 1  # never seen
    # seen again: the enemy lost the tile, and the memory says so
    retaken = remember(memory, _view(40, {(0, 0): ("neutral", 0), (2, 2): ("mine", 3)}))
    assert memory_planes(retaken, later)[0, 1, 0, 0] == 0
    # a seat whose game ended starts again with nothing remembered
    emptied = forget(retaken, torch.tensor([True]))
    assert torch.equal(emptied, empty_memory(1, 3, 3))
    assert torch.equal(forget(retaken, torch.tensor([False])), retaken)


def _collector() -> RolloutCollector:
    torch.manual_seed(0)
    return RolloutCollector(
        build("resnet-v1", MEMORY_NET),
        games=6,
        unroll=16,
        maps=MapPool(MapConfig.generalsio_1v1().with_side(6), seed=3),
        opponents={"self": 1.0, "random": 1.0},
        engine=EngineConfig(max_ticks=50),  # games end inside rollouts, after the armies meet
        reward=RewardConfig(land=1.0),
        seed=1,
    )


def test_the_learner_rebuilds_the_memory_every_action_was_taken_on() -> None:
    """From the memory at a trajectory's first step and its observations, ``unroll_memory`` gives
    the memory the collector acted on at every step, across finished games; so an unchanged
    network has ratio 1 in the learner."""
    torch.set_num_threads(1)
    collector = _collector()
    acted_on: list[torch.Tensor] = []
    act = collector.network.act

    def recording(obs: Observation, generator: object = None, greedy: bool = False, memory: object = None):  # type: ignore[no-untyped-def]
        assert isinstance(memory, torch.Tensor)
        acted_on.append(memory.clone())
        return act(obs, generator=generator, greedy=greedy, memory=memory)  # type: ignore[arg-type]

    collector.network.act = recording  # type: ignore[method-assign]
    rollouts = [collector.collect().trajectories.to_torch() for _ in range(4)]
    dones = torch.cat([r["dones"] for r in rollouts], dim=1)
    assert bool(dones.any()), "games end inside the rollouts"
    remembered_beyond_view = False
    for k, tensors in enumerate(rollouts):
        steps = Observation(tensors["armies"], tensors["planes"], tensors["scalars"], tensors["action_mask"])
        rebuilt = unroll_memory(tensors["extras.memory"], steps, tensors["dones"])
        assert rebuilt.shape[:3] == (*tensors["dones"].shape[:1], 17, MEMORY_STATE)
        for t in range(16):
            assert torch.equal(rebuilt[:, t], acted_on[16 * k + t]), (k, t)
            view = Observation(
                *(x[:, t] for x in (steps.armies, steps.planes, steps.scalars, steps.action_mask))
            )
            fresh = remember(empty_memory(*view.armies.shape), view)
            remembered_beyond_view |= not torch.equal(rebuilt[:, t], fresh)
    assert remembered_beyond_view, "memory holds more than the current view"
    assert torch.equal(rollouts[1]["extras.memory"], acted_on[16])  # the bootstrap step carries on
    metrics = Learner(collector.network, TrainConfig()).update(rollouts[0])
    assert metrics["ratio_mean"] == pytest.approx(1.0, abs=1e-6) and metrics["clip_fraction"] == 0.0


def test_the_learner_refuses_experience_without_the_memory() -> None:
    tensors = _collector().collect().trajectories.to_torch()
    del tensors["extras.memory"]
    with pytest.raises(ValueError, match="memory"):
        Learner(build("resnet-v1", MEMORY_NET), TrainConfig()).update(tensors)


def test_an_agent_remembers_per_game_and_forgets_finished_games() -> None:
    torch.manual_seed(0)
    agent = NeuralAgent(build("resnet-v1", MEMORY_NET), seed=0)
    state = initial_state(generate_maps(3, MapConfig.generalsio_1v1().with_side(8), seed=2))
    view = observe(state).player(0)
    agent.act(view)
    assert agent.memory.state is not None and agent.memory.state.shape == (3, MEMORY_STATE, 8, 8)
    before = agent.memory.state.clone()
    agent.reset(torch.tensor([False, True, False]))
    after = agent.memory.state
    assert torch.equal(after[[0, 2]], before[[0, 2]]) and torch.equal(after[1], empty_memory(1, 8, 8)[0])
    other = initial_state(generate_maps(2, MapConfig.generalsio_1v1().with_side(10), seed=2))
    agent.act(observe(other).player(1))  # another board: a fresh memory of its shape
    assert agent.memory.state.shape == (2, MEMORY_STATE, 10, 10)
    agent.reset()
    assert agent.memory.state is None
    result = play_games(
        [agent, make_agent("random", 1)], generate_maps(4, seed=9), EngineConfig(max_ticks=40)
    )
    assert result.games == 4


def test_memory_is_the_training_default_and_an_option_that_validates_and_acts_without_a_memory() -> None:
    torch.manual_seed(0)
    network = build("resnet-v1", MEMORY_NET)
    assert network.uses_memory and not build("resnet-v1", {"channels": 8, "blocks": 1}).uses_memory
    # trained networks remember by default; a saved config without the field is the plain net
    assert TrainConfig().network_config()["memory"] is True and ResNetConfig().memory is False
    copy = build(network.arch_id, network.config_json())
    copy.load_state_dict(network.state_dict())
    obs = observe(initial_state(generate_maps(2, seed=5))).player(0)
    first_step = remember(empty_memory(*obs.armies.shape), obs)
    assert torch.equal(network(obs).logits, copy(obs, first_step).logits)  # no memory: this view only
    report = validate(
        network.arch_id, network.config_json(), weights.encode(network), ValidationConfig(sanity_games=2)
    )
    assert report.passed, report.reason
    assert Memory().observe(obs).shape == (2, MEMORY_STATE, *obs.armies.shape[1:])
