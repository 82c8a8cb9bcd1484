"""Policy networks: legal-only distributions on every board size, rebuilt from id and config."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.agents import make_agent
from generals_rl.agents.arena import play_games
from generals_rl.agents.neural import NeuralAgent
from generals_rl.agents.tactics import likely_general
from generals_rl.game import EngineConfig, MapConfig, Maps, generate_maps, initial_state, observe, step
from generals_rl.game.observations import Observation
from generals_rl.training.config import TrainConfig
from generals_rl.training.memory import ARMY, ENEMY, GENERAL, SEEN_TICK, empty_memory, remember
from generals_rl.training.networks import (
    NUM_FEATURES,
    ResNetConfig,
    UNetConfig,
    build,
    distance_planes,
    features,
    sample,
)

SMALL = '{"channels": 8, "blocks": 1}'
SMALL_UNET = '{"channels": 8, "blocks": 0, "levels": 2, "level_blocks": 1}'
ARCHS = [("resnet-v1", SMALL), ("unet-v1", SMALL_UNET)]


@pytest.mark.parametrize(("arch", "config"), ARCHS)
@pytest.mark.parametrize(("side", "players"), [(6, 2), (12, 2), (18, 4), (23, 2)])
def test_masked_head_never_picks_an_illegal_action(arch: str, config: str, side: int, players: int) -> None:
    torch.manual_seed(0)
    net = build(arch, config)
    maps = MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)
    state = initial_state(generate_maps(16, maps.with_side(side), seed=side))
    generator = torch.Generator().manual_seed(1)
    for _ in range(40):
        obs = observe(state)
        actions = []
        for p in range(players):
            view = obs.player(p)
            out = net(view)
            assert out.logits.shape == view.action_mask.shape and out.value.shape == (16,)
            assert bool(torch.isneginf(out.logits[~view.action_mask]).all())
            assert bool(torch.isfinite(out.logits[view.action_mask]).all())
            action, log_prob, _ = net.act(view, generator=generator)
            assert bool(view.action_mask.gather(1, action.unsqueeze(1)).all())
            assert bool((log_prob <= 0).all())
            actions.append(action)
        state = step(state, torch.stack(actions, dim=1))


def test_sampled_actions_follow_the_probabilities() -> None:
    probs = torch.tensor([[0.0, 0.5, 0.0, 0.2, 0.3, 0.0], [0.1, 0.0, 0.0, 0.0, 0.0, 0.9]])
    draws = 20_000
    generator = torch.Generator().manual_seed(0)
    actions = sample(probs.repeat(draws, 1), generator).view(draws, 2)
    for row in range(2):
        counts = torch.bincount(actions[:, row], minlength=6).float()
        assert bool((counts[probs[row] == 0] == 0).all())
        expected = probs[row] * draws
        # within 5 standard deviations of the binomial count, for every action
        assert bool(((counts - expected).abs() <= 5 * (expected * (1 - probs[row])).sqrt() + 1e-6).all())


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.floats(1e-6, 1.0) | st.just(0.0), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
    seed=st.integers(0, 2**31),
)
def test_an_action_of_probability_zero_is_never_sampled(weights: list[float], seed: int) -> None:
    probs = torch.tensor(weights).repeat(64, 1)
    probs = probs / probs.sum(dim=1, keepdim=True)
    actions = sample(probs, torch.Generator().manual_seed(seed))
    assert actions.shape == (64,)
    assert bool((probs.gather(1, actions.unsqueeze(1)) > 0).all())


def test_features_have_a_fixed_width_whatever_the_players() -> None:
    for players in (2, 5, 8):
        config = MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)
        obs = observe(initial_state(generate_maps(2, config, seed=players))).player(0)
        x = features(obs)
        assert x.shape[1] == NUM_FEATURES and bool(torch.isfinite(x).all())


@pytest.mark.parametrize(
    ("arch", "config", "expected"),
    [
        ("resnet-v1", SMALL, ResNetConfig(channels=8, blocks=1)),
        ("unet-v1", SMALL_UNET, UNetConfig(channels=8, blocks=0, levels=2, level_blocks=1)),
    ],
)
def test_rebuilt_from_id_and_config_gives_the_same_outputs(arch: str, config: str, expected: object) -> None:
    torch.manual_seed(3)
    net = build(arch, config)
    copy = build(net.arch_id, net.config_json())
    copy.load_state_dict(net.state_dict())
    obs = observe(initial_state(generate_maps(4, seed=2))).player(1)
    assert torch.equal(net(obs).logits, copy(obs).logits) and torch.equal(net(obs).value, copy(obs).value)
    assert copy.config == expected and type(copy).arch_id == arch


def _reach(arch: str, config: dict[str, object], tile: tuple[int, int]) -> int:
    """How many tiles away (the larger of the row and column distance) the input can be that the
    trunk's features on ``tile`` of a 23x23 board depend on. The group norms are taken out first:
    their board-wide statistics link every tile to every other one in any network."""

    def without_norms(module: torch.nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, torch.nn.GroupNorm):
                setattr(module, name, torch.nn.Identity())
            without_norms(child)

    torch.manual_seed(0)
    net = build(arch, config)
    without_norms(net)
    x = torch.randn(1, net.input_planes, 23, 23, requires_grad=True)
    net.trunk(x)[0, :, tile[0], tile[1]].sum().backward()
    assert x.grad is not None
    reached = (x.grad[0].abs().sum(dim=0) > 0).nonzero()
    return int((reached - torch.tensor(tile)).abs().amax())


def test_a_unet_sees_across_the_board_where_a_residual_tower_of_the_same_width_does_not() -> None:
    tower = {"channels": 8, "blocks": 2}
    assert _reach("resnet-v1", tower, (0, 0)) == _reach("resnet-v1", tower, (11, 11)) == 5
    # the same two blocks at full resolution with no levels below are that residual tower
    assert _reach("unet-v1", {**tower, "levels": 0}, (11, 11)) == 5
    unet = {"channels": 8, "blocks": 0, "levels": 2, "level_blocks": 1}  # UNetConfig's defaults
    assert _reach("unet-v1", unet, (11, 11)) == 11  # from the middle: the whole board
    assert _reach("unet-v1", unet, (0, 0)) == 16
    assert _reach("unet-v1", {**unet, "level_blocks": 2}, (0, 0)) == 22  # corner to corner


def test_the_training_config_passes_each_architecture_only_its_own_fields() -> None:
    unet = TrainConfig(arch="unet-v1", blocks=0, levels=3, level_blocks=2)
    net = build(unet.arch, unet.network_config())
    flags = {"global_context": True, "distance_features": True, "memory": True}  # TrainConfig's
    assert net.config == UNetConfig(channels=16, blocks=0, levels=3, level_blocks=2, **flags)
    assert "levels" not in TrainConfig().network_config()  # resnet-v1 has no levels
    assert (
        build("resnet-v1", TrainConfig(levels=3).network_config()).config
        == build("resnet-v1", TrainConfig().network_config()).config
    )
    with pytest.raises(ValueError, match="unknown arch 'convnext'"):
        TrainConfig(arch="convnext")
    # The general head comes with its loss's weight; without it the config is as before the option.
    assert "general_head" not in TrainConfig().network_config()
    located = build("resnet-v1", TrainConfig(general_coef=0.5).network_config())
    assert (
        located.predicts_general and not build("resnet-v1", TrainConfig().network_config()).predicts_general
    )
    obs = observe(initial_state(generate_maps(2, seed=5))).player(0)
    general = located(obs).general
    assert general is not None and general.shape == (2, obs.armies.shape[1] * obs.armies.shape[2])
    with pytest.raises(ValueError, match="general_coef must be non-negative"):
        TrainConfig(general_coef=-1.0)
    with pytest.raises(ValueError, match="norm must be one of group, none, got 'layer'"):
        TrainConfig(norm="layer")


@pytest.mark.parametrize(
    ("arch", "config", "message"),
    [
        ("transformer-v9", "{}", "unknown architecture 'transformer-v9'"),
        ("resnet-v1", '{"width": 3}', "bad config for resnet-v1"),
        ("resnet-v1", "{not json", "bad config for resnet-v1"),
        ("resnet-v1", '{"channels": 0}', "channels must lie in 1..1024"),
        ("resnet-v1", '{"levels": 2}', "bad config for resnet-v1"),
        ("unet-v1", '{"levels": 5}', "levels must lie in 0..4"),
        ("unet-v1", '{"level_blocks": -1}', "level_blocks in 0..16"),
        ("unet-v1", '{"channels": 2000}', "channels must lie in 1..1024"),
        ("resnet-v1", '{"norm": "batch"}', "norm must be one of group, none, got 'batch'"),
        ("unet-v1", '{"norm": ""}', "norm must be one of group, none"),
    ],
)
def test_bad_architectures_and_configs_are_refused(arch: str, config: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(arch, config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"blocks": 100}, "blocks in 0..64"),
        ({"arch": "unet-v1", "levels": 9}, "levels must lie in 0..4"),
        ({"general_distance": True, "distance_features": False}, "general_distance is a third"),
        ({"target_distance": True, "memory": False}, "target_distance is read from the memory"),
    ],
)
def test_the_training_config_refuses_what_its_network_refuses(fields: dict[str, Any], message: str) -> None:
    # checked when the config is made (from flags or a file), before any process starts
    with pytest.raises(ValueError, match=message):
        TrainConfig().with_overrides(fields)


@pytest.mark.parametrize(("arch", "config"), ARCHS)
def test_a_network_plays_as_an_agent(arch: str, config: str) -> None:
    torch.manual_seed(0)
    agent = NeuralAgent(build(arch, config), seed=0, name="model:0")
    result = play_games(
        [agent, make_agent("random", 1)], generate_maps(4, seed=9), EngineConfig(max_ticks=30)
    )
    assert result.seats == ("model:0", "random") and result.games == 4


def test_global_context_is_an_option_that_old_configs_go_without() -> None:
    torch.manual_seed(0)
    plain = build("resnet-v1", SMALL)  # a config saved before the option existed
    assert plain.config == ResNetConfig(channels=8, blocks=1, global_context=False)
    wide = build("resnet-v1", {"channels": 8, "blocks": 1, "global_context": True})
    extra = set(wide.state_dict()) - set(plain.state_dict())
    assert extra == {"context.weight", "context.bias"} and set(plain.state_dict()) < set(wide.state_dict())
    copy = build(wide.arch_id, wide.config_json())
    copy.load_state_dict(wide.state_dict())
    obs = observe(initial_state(generate_maps(2, seed=5))).player(0)
    assert torch.equal(wide(obs).logits, copy(obs).logits)


@pytest.mark.parametrize(("arch", "config"), ARCHS)
def test_without_norms_every_block_starts_as_the_identity_and_old_configs_keep_theirs(
    arch: str, config: str
) -> None:
    torch.manual_seed(0)
    normed = build(arch, config)  # a config saved before the option existed: group norms
    assert normed.config.norm == "group"
    assert any(isinstance(m, torch.nn.GroupNorm) for m in normed.modules())
    bare = build(arch, {**json.loads(config), "blocks": 2, "norm": "none"})
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in bare.modules())
    x = torch.rand(3, bare.input_planes, 9, 9)
    stem_out = bare.stem(x)
    assert torch.equal(bare.tower(stem_out), stem_out)  # residual blocks start as the identity
    obs = observe(initial_state(generate_maps(2, seed=5))).player(0)
    copy = build(bare.arch_id, bare.config_json())
    copy.load_state_dict(bare.state_dict())
    assert copy.config.norm == "none" and torch.equal(bare(obs).logits, copy(obs).logits)
    bare.tower[0].conv2.weight.data.normal_()  # after training the blocks do work
    assert not torch.equal(bare.tower(stem_out), stem_out)


def test_distance_planes_count_walking_steps_around_mountains() -> None:
    # Player 0 owns the left column and the bottom row up to column 2; the mountains force the
    # walk from its general at (0, 0) down and around to the first tile it does not own, (1, 2).
    # Player 1 owns (1, 2) as well: the only enemy tile in sight.
    state = initial_state(Maps.from_string("A#...\n.#.#.\n...#B"))
    for r, c, who in ((1, 0, 0), (2, 0, 0), (2, 1, 0), (2, 2, 0), (1, 2, 1)):
        state.owner[0, r, c] = who
        state.armies[0, r, c] = 1
    obs = observe(state).player(0)
    distance = distance_planes(obs)[0] * (3 + 5)  # back to steps
    to_take, to_enemy = distance[0], distance[1]
    walk = {(0, 0): 5.0, (1, 0): 4.0, (2, 0): 3.0, (2, 1): 2.0, (2, 2): 1.0, (1, 2): 0.0}
    for (r, c), steps in walk.items():
        assert float(to_take[r, c]) == pytest.approx(steps), (r, c)
        assert float(to_enemy[r, c]) == pytest.approx(steps), (r, c)
    assert float(to_take[0, 2]) == 0.0 and float(to_enemy[0, 2]) == pytest.approx(1.0)
    assert float(to_take[0, 1]) == pytest.approx(8.0)  # a mountain: never reached, "far"
    net = build("resnet-v1", {"channels": 8, "blocks": 1, "distance_features": True})
    assert net(obs).logits.shape == obs.action_mask.shape
    # The third plane: the walk home, to player 0's general at (0, 0), the same path backwards.
    with_home = distance_planes(obs, own_general=True)[0] * (3 + 5)
    assert torch.equal(with_home[:2], distance)
    for (r, c), steps in walk.items():
        assert float(with_home[2, r, c]) == pytest.approx(5.0 - steps), (r, c)
    assert float(with_home[2, 0, 2]) == pytest.approx(6.0)  # one past the enemy tile
    assert float(with_home[2, 1, 1]) == pytest.approx(8.0)  # a mountain: "far"
    # Player 1 sees its own general at (2, 4), never player 0's.
    theirs = distance_planes(observe(state).player(1), own_general=True)[0, 2] * (3 + 5)
    assert float(theirs[2, 4]) == 0.0 and float(theirs[1, 4]) == pytest.approx(1.0)
    assert float(theirs[0, 0]) > 0.0
    home = build("resnet-v1", {**dataclasses.asdict(net.config), "general_distance": True})
    assert home(obs).logits.shape == obs.action_mask.shape
    assert home.stem[0].in_channels == net.stem[0].in_channels + 1
    with pytest.raises(ValueError, match="needs distance_features"):
        build("resnet-v1", {"general_distance": True})


def remembered(
    obs_maps: str, seen: dict[tuple[int, int], tuple[int, bool]]
) -> tuple[Observation, torch.Tensor]:
    """Player 0's view of the start of ``obs_maps`` and a memory that also holds ``seen``:
    tiles seen at tick 0 as enemy land with that army, and as the enemy general where flagged."""
    obs = observe(initial_state(Maps.from_string(obs_maps))).player(0)
    memory = remember(empty_memory(1, *obs.armies.shape[1:]), obs)
    for (r, c), (army, general) in seen.items():
        memory[0, ENEMY, r, c], memory[0, ARMY, r, c] = 1, army
        memory[0, GENERAL, r, c], memory[0, SEEN_TICK, r, c] = int(general), 0
    return obs, memory


def tiles(mask: torch.Tensor) -> list[tuple[int, ...]]:
    """The (row, column) tiles where the first game's bool (H, W) ``mask`` is true."""
    return [tuple(t) for t in mask[0].nonzero().tolist()]


def test_the_likely_enemy_general_follows_what_the_player_remembers() -> None:
    board = "A...........\n............\n...........B"
    # Nothing known of the enemy: the unexplored tile farthest from home.
    obs, memory = remembered(board, {})
    assert tiles(likely_general(memory, obs)) == [(2, 11)]
    # Enemy land seen in the middle columns: the farthest unexplored tile near it, not the corner.
    obs, memory = remembered(board, {(0, 6): (5, False), (1, 6): (5, False)})
    assert tiles(likely_general(memory, obs)) == [(2, 9)]
    # The enemy general seen (now out of view): there, whatever else is unexplored.
    obs, memory = remembered(board, {(0, 6): (5, False), (1, 4): (9, True)})
    assert tiles(likely_general(memory, obs)) == [(1, 4)]


def test_the_target_plane_is_the_walk_to_the_likely_enemy_general() -> None:
    obs, memory = remembered("A#....\n.#....\n.....B", {})
    target = likely_general(memory, obs)
    assert tiles(target) == [(2, 5)]
    planes = distance_planes(obs, own_general=True, target=target)[0] * (3 + 6)
    assert planes.shape[0] == 4
    assert float(planes[3, 2, 5]) == 0.0 and float(planes[3, 0, 0]) == pytest.approx(7.0)
    assert float(planes[3, 0, 2]) == pytest.approx(5.0)  # around the mountains: down, right, up
    base = {"channels": 8, "blocks": 1, "distance_features": True, "memory": True}
    net, targeted = build("resnet-v1", base), build("resnet-v1", {**base, "target_distance": True})
    assert targeted.stem[0].in_channels == net.stem[0].in_channels + 1
    assert targeted(obs, memory).logits.shape == obs.action_mask.shape
    assert targeted(obs).logits.shape == obs.action_mask.shape  # no memory yet: this view's
    with pytest.raises(ValueError, match="needs distance_features and memory"):
        build("resnet-v1", {"distance_features": True, "target_distance": True})
