"""The rollout collector: every learner seat gets its own reward and episode end at the step of
its action, observation T is the bootstrap (and the next rollout's first), and the behaviour
log-probabilities are the learner's own (ratio 1 for an unchanged network, bf16 or not).

Rewards are checked against the potential recomputed from what each seat observed: the scalars
carry both players' land and army totals, so shares, and hence the shaped reward of a seat, follow
from its observations at t and t + 1 alone."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from generals_rl.agents.base import Agent, sample_legal
from generals_rl.game import MapConfig, MapPool
from generals_rl.game.engine import EngineConfig
from generals_rl.game.observations import PLANE, Observation
from generals_rl.game.rewards import RewardConfig
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import Learner
from generals_rl.training.losses import action_log_probs
from generals_rl.training.networks import autocast, build
from generals_rl.training.rollout import RolloutCollector, split_games

REWARD = RewardConfig(land=1.0, army=0.5, gamma=0.9)


def _collector(
    opponents: dict[str, float], games: int = 6, unroll: int = 48, max_ticks: int = 60
) -> RolloutCollector:
    torch.manual_seed(0)
    network = build("resnet-v1", {"channels": 8, "blocks": 1})
    return RolloutCollector(
        network,
        games=games,
        unroll=unroll,
        maps=MapPool(MapConfig.generalsio_1v1().with_side(6), seed=3),
        opponents=opponents,
        engine=EngineConfig(max_ticks=max_ticks),
        reward=REWARD,
        seed=1,
    )


def _potential(scalars: torch.Tensor) -> torch.Tensor:
    """phi of the observing seat from its scalars (tick, own land, own army, other land, other
    army): each weighted share minus the mean share, 1/2 in 1v1."""
    s = scalars.double()

    def centred(own: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        total = own + other
        return torch.where(total > 0, own / total.clamp(min=1) - 0.5, torch.zeros_like(own))

    return REWARD.land * centred(s[..., 1], s[..., 3]) + REWARD.army * centred(s[..., 2], s[..., 4])


def test_each_seat_gets_its_own_shaped_reward_and_episode_end_at_its_step() -> None:
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "expander": 1.0}, games=16, unroll=250, max_ticks=120)
    rollout = collector.collect()
    trajectories = rollout.trajectories.to_torch()
    scalars = trajectories["scalars"]
    phi = _potential(scalars)  # (N, T + 1)
    rewards = trajectories["rewards"].double()
    dones = trajectories["dones"]
    truncated = trajectories["truncated"]
    tick = scalars[..., 0]

    # While a game goes on: r_t = gamma * phi(x_{t+1}) - phi(x_t), and the tick moves by one.
    going = ~dones
    expected = REWARD.gamma * phi[:, 1:] - phi[:, :-1]
    torch.testing.assert_close(rewards[going], expected[going], rtol=0, atol=1e-5)
    assert bool((tick[:, 1:][going] == tick[:, :-1][going] + 1).all())

    # At an episode end: r_t = outcome - phi(x_t) with the outcome +1, -1, or 0 exactly when the
    # game hit the tick limit; observation t + 1 is the next game's first.
    assert bool(dones.any()) and bool(truncated.any())
    outcome = rewards[dones] + phi[:, :-1][dones]
    torch.testing.assert_close(outcome, outcome.round(), rtol=0, atol=1e-5)
    assert bool((outcome.round()[truncated[dones]] == 0).all())
    assert bool((outcome.round()[~truncated[dones]].abs() == 1).all())
    assert bool((outcome.round().abs() == 1).any())  # some games were won or lost, not only drawn
    assert bool((tick[:, 1:][dones] == 0).all())
    assert bool((truncated <= dones).all())

    # Self-play rows come in seat pairs of one game: zero-sum rewards, the same episode ends.
    pairs = 2 * split_games(16, [("self", 1.0), ("expander", 1.0)])[0][1]
    self_rewards = rewards[:pairs].view(-1, 2, rewards.shape[1])
    torch.testing.assert_close(self_rewards.sum(1), torch.zeros_like(self_rewards[:, 0]), rtol=0, atol=1e-5)
    assert torch.equal(dones[:pairs:2], dones[1:pairs:2])

    # The learner's results against the bot are the outcomes on its rows.
    bot_rows = slice(pairs, None)
    bot_outcomes = (rewards[bot_rows] + phi[bot_rows, :-1])[dones[bot_rows]].round()
    results = rollout.results["expander"]
    assert results.games == int(dones[bot_rows].sum()) > 0
    assert (results.wins, results.losses, results.draws) == (
        int((bot_outcomes == 1).sum()),
        int((bot_outcomes == -1).sum()),
        int((bot_outcomes == 0).sum()),
    )


def test_the_bootstrap_observation_is_the_next_rollouts_first() -> None:
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "random": 1.0}, unroll=7)
    first, second = (collector.collect().trajectories.to_torch() for _ in range(2))
    for name in ("armies", "planes", "scalars", "action_mask"):
        assert torch.equal(first[name][:, -1], second[name][:, 0]), name
    assert bool((second["scalars"][:, 0, 0] == 7).all())  # no game ended: all at tick 7


def test_behaviour_log_probs_are_the_learners_own() -> None:
    """An unchanged network gives ratio 1 in the learner: acting (T steps of N views) and learning
    (one batch of N * (T + 1) views) compute the same log-probabilities, bf16 or not."""
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "random": 1.0}, unroll=12)
    trajectories = collector.collect().trajectories.to_torch()
    actions = trajectories["actions"]
    n, t = actions.shape
    views = {
        name: trajectories[name].flatten(0, 1) for name in ("armies", "planes", "scalars", "action_mask")
    }
    with torch.no_grad(), autocast("cpu"):
        logits = collector.network(Observation(**views)).logits.view(n, t + 1, -1)[:, :t]
    log_probs = action_log_probs(logits, actions)
    torch.testing.assert_close(log_probs, trajectories["behaviour_log_probs"], rtol=0, atol=1e-6)
    legal = trajectories["action_mask"][:, :t].gather(-1, actions.unsqueeze(-1))
    assert bool(legal.all())
    metrics = Learner(collector.network, TrainConfig()).update(trajectories)
    assert metrics["ratio_mean"] == pytest.approx(1.0, abs=1e-6) and metrics["clip_fraction"] == 0.0


class _Counter(Agent):
    """A teacher with memory: in each game, the k-th legal move (cyclically) on its k-th tick."""

    name = "counter"

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.ticks: torch.Tensor | None = None

    def reset(self, games: torch.Tensor | None = None) -> None:
        if games is None or self.ticks is None:
            self.ticks = None
        else:
            self.ticks[games] = 0

    def act(self, obs: Observation) -> torch.Tensor:
        mask = obs.action_mask
        if self.ticks is None:
            self.ticks = torch.zeros(mask.shape[0], dtype=torch.int64)
        legal = mask.sum(-1)
        chosen = sample_legal(mask, ((self.ticks % legal).double() + 0.5) / legal)
        self.ticks += 1
        return chosen


class _Listener(_Counter):
    """The counter teacher, also keeping the moves it is told were played."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list[torch.Tensor] = []

    def played(self, actions: torch.Tensor) -> None:
        self.told.append(actions.clone())


def test_a_teacher_is_told_the_learner_moves_played_after_its_advice() -> None:
    """Kickstarting: after each piece of advice the teacher hears which moves the learner played
    in those positions (a teacher that remembers its own moves follows the game played)."""
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "random": 1.0}, unroll=12)
    teacher = _Listener()
    collector.teacher = teacher
    trajectories = collector.collect().trajectories.to_torch()
    actions = trajectories["actions"]
    assert len(teacher.told) == actions.shape[1]
    assert torch.equal(torch.stack(teacher.told, dim=1), actions)
    advice = trajectories["extras.teacher_actions"]
    assert not torch.equal(advice, actions)  # the learner did not simply follow the advice


def test_a_teacher_that_plays_makes_the_learner_moves_with_certainty() -> None:
    """Demonstrations (``teacher_plays``): the teacher's moves are the moves played in the learner's
    seats, recorded with behaviour log-probability 0 (a deterministic behaviour policy), and the
    games go on from them; switched off, the policy plays again."""
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "random": 1.0}, unroll=12)
    teacher = _Listener()
    collector.teacher, collector.teacher_plays = teacher, True
    trajectories = collector.collect().trajectories.to_torch()
    actions = trajectories["actions"]
    assert torch.equal(actions, trajectories["extras.teacher_actions"])
    assert torch.equal(torch.stack(teacher.told, dim=1), actions)
    assert bool((trajectories["behaviour_log_probs"] == 0).all())
    assert bool(trajectories["action_mask"][:, :-1].gather(-1, actions.unsqueeze(-1)).all())
    collector.teacher_plays = False
    again = collector.collect().trajectories.to_torch()
    assert not torch.equal(again["actions"], again["extras.teacher_actions"])
    assert bool((again["behaviour_log_probs"] < 0).any())


def test_a_teacher_advises_every_learner_position_and_forgets_finished_games() -> None:
    """The recorded teacher moves are the teacher's own in the stored positions, in order, with its
    memory of a game dropped when the game ends."""
    torch.set_num_threads(1)
    collector = _collector({"self": 1.0, "random": 1.0}, unroll=40, max_ticks=25)
    collector.teacher = _Counter()
    trajectories = collector.collect().trajectories.to_torch()
    teacher_actions = trajectories["extras.teacher_actions"]
    dones = trajectories["dones"]
    assert bool(dones.any())
    replay = _Counter()
    names = ("armies", "planes", "scalars", "action_mask")
    for t in range(teacher_actions.shape[1]):
        view = Observation(**{name: trajectories[name][:, t] for name in names})
        assert torch.equal(replay.act(view), teacher_actions[:, t]), t
        if bool(dones[:, t].any()):
            replay.reset(dones[:, t])
    legal = trajectories["action_mask"][:, :-1].gather(-1, teacher_actions.unsqueeze(-1))
    assert bool(legal.all())


def test_a_network_that_locates_the_general_learns_from_the_true_tile_each_step() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    network = build("resnet-v1", {"channels": 8, "blocks": 1, "general_head": True})
    collector = RolloutCollector(
        network,
        games=6,
        unroll=40,
        maps=MapPool(MapConfig.generalsio_1v1().with_side(6), seed=3),
        opponents={"self": 1.0, "random": 1.0},
        engine=EngineConfig(max_ticks=30),
        reward=REWARD,
        seed=1,
    )
    trajectories = collector.collect().trajectories.to_torch()
    where = trajectories["extras.enemy_general"]
    n, t = trajectories["actions"].shape
    assert where.shape == (n, t) and bool((where >= 0).any())
    # Each seat's own general is always in its view. The first 3 games are self-play, a seat pair
    # each (rows 2i and 2i + 1): each seat's recorded enemy general is where the other seat's own
    # view shows its general, step after step, through the games' restarts.
    planes = trajectories["planes"][:, :t].flatten(-2)  # (N, T, planes, H * W)
    own = (planes[:, :, PLANE["general"]] & planes[:, :, PLANE["mine"]]).int().argmax(dim=-1)
    assert bool(trajectories["dones"].any())  # games ended and restarted on other maps
    assert torch.equal(where[0:6:2], own[1:6:2]) and torch.equal(where[1:6:2], own[0:6:2])
    assert not bool((own == where).any())
    config = dataclasses.replace(TrainConfig(), general_coef=1.0, lr=1e-2, lr_final=1e-2)
    learner = Learner(network, config)
    first = learner.update(trajectories)
    for _ in range(20):
        last = learner.update(trajectories)
    assert 0 <= first["general_accuracy"] <= 1
    assert last["general_loss"] < 0.5 * first["general_loss"], (first, last)
    off = Learner(network, dataclasses.replace(TrainConfig(), general_coef=0.0)).update(trajectories)
    assert "general_loss" not in off
