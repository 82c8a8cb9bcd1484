"""``RolloutCollector``: B games in one engine batch, the learner's policy against its opponents,
cut into ``Trajectories`` of T steps per learner seat.

The B games are split between opponents by weight (``split_games``), in contiguous groups that
keep their opponent for the collector's life:

- ``self``: the current policy plays both seats and both seats learn (two trajectories a game);
- any other name: an ``Agent`` (a scripted bot by name, or one passed in ``agents``, such as a
  ``NeuralAgent`` holding a frozen past version) plays one seat, the learner the other. The
  learner's seat alternates with the game index, so it moves first as often as second.

Every tick is one batched pass, whatever the mix: one ``observe`` of all games, one forward pass
of the network over every learner seat, one ``act`` per opponent group, one ``step``. Finished
games start again on the next maps of the map source (``restart_games``); the step that ended a
game has ``dones`` set (and ``truncated`` too when it ended at the tick limit) and the next
observation of that row is the new game's first. Step t's reward and done follow action t;
observation T is the bootstrap observation, and the first observation of the next rollout.

With a ``teacher`` (an ``Agent``, kickstarting), the teacher also chooses a move in every
learner position (and is then told, ``Agent.played``, the moves the learner played there); it
never plays, but its choices travel with the trajectories as
``extras["teacher_actions"]`` (N, T) for the learner's imitation loss. With ``teacher_slot``
the trajectories carry ``teacher_actions`` even once the teacher is gone (``teacher = None`` when
kickstarting ends), as -1 (no advice): a Replay table keeps one signature for the whole run.

With a network that remembers (``uses_memory``), the collector keeps each learner seat's memory
(``training.memory``) and the trajectories carry the memory at their first step as
``extras["memory"]`` (N, 5, H, W), from which the learner rebuilds every step's memory. With a
network that guesses where the enemy general stands (``predicts_general``), they carry the true
tile of each step, ``extras["enemy_general"]`` (N, T), for the learner's auxiliary loss.

Only 1v1 maps are supported: one learner seat against one opponent seat per game.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from generals_rl.agents import BOTS, Agent, make_agent
from generals_rl.game.autoreset import MapSource, new_games, restart_games
from generals_rl.game.engine import EngineConfig, step
from generals_rl.game.observations import Observation, observe
from generals_rl.game.rewards import RewardConfig, rewards
from generals_rl.game.state import GameState
from generals_rl.services.replay.client import Trajectories
from generals_rl.training.config import SELF
from generals_rl.training.memory import Memory
from generals_rl.training.networks import PolicyNetwork, autocast


@dataclass
class Results:
    """Finished games of the learner against one opponent: wins, losses, draws, total ticks."""

    wins: int = 0
    losses: int = 0
    draws: int = 0
    ticks: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.draws

    def add(self, other: Results) -> None:
        self.wins += other.wins
        self.losses += other.losses
        self.draws += other.draws
        self.ticks += other.ticks


@dataclass
class Rollout:
    """One collection: N = learner seats trajectories of T steps, plus what happened.

    Attributes:
        trajectories: torch tensors on the collector's device (``Trajectories`` layout).
        policy_version: the version that acted.
        env_steps: game ticks played (B * T).
        results: finished games by opponent name, from the learner's seat (self-play: seat 0).
        timings: seconds spent in ``observe``, the network, the opponents, ``step`` and rewards,
            and restarts.
    """

    trajectories: Trajectories
    policy_version: int
    env_steps: int
    results: dict[str, Results]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Group:
    """Games [start, stop) against one opponent; flat rows are ``game * 2 + seat``."""

    name: str
    start: int
    stop: int
    learner_rows: Tensor
    opponent_rows: Tensor  # empty for self-play
    learner_seat: Tensor  # (games,) seat of the (first) learner in each game


def split_games(games: int, weights: Sequence[tuple[str, float]]) -> list[tuple[str, int]]:
    """Game counts per opponent, proportional to the weights (largest remainders get the rest);
    opponents that get no game are left out."""
    total = sum(w for _, w in weights)
    exact = [games * w / total for _, w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: games - sum(counts)]:
        counts[i] += 1
    return [(name, n) for (name, _), n in zip(weights, counts, strict=True) if n > 0]


def take_rows(obs: Observation, rows: Tensor) -> Observation:
    """The single-player views at ``rows`` of a flattened (B * P) observation."""
    return Observation(
        armies=obs.armies.index_select(0, rows),
        planes=obs.planes.index_select(0, rows),
        scalars=obs.scalars.index_select(0, rows),
        action_mask=obs.action_mask.index_select(0, rows),
    )


class RolloutCollector:
    """Plays ``games`` games at once and returns a ``Rollout`` of ``unroll`` steps per ``collect``.

    Args:
        network: the learner's policy (used in place: train it and the next rollout uses the new
            weights; or swap ``network`` and ``policy_version``).
        games: B, games in the engine batch.
        unroll: T, steps per trajectory.
        maps: where games take their maps (a ``MapPool``, or ``FixedMaps``); 1v1 maps.
        opponents: (name, weight) pairs splitting the games (``split_games``).
        agents: opponents by name for names that are not bots (``past``); bots are made by name.
        engine: the rules (``max_ticks`` truncates training games).
        reward: the shaping; may be replaced between collections.
        seed: seeds the policy's sampling and the bots.
        device: where the games and the network run.
        mixed_precision: act under bf16 autocast where the device runs bf16 natively
            (``networks.autocast``; the learner must use the same setting for ratios of 1).
        teacher: an agent whose move in each learner position is recorded (kickstarting).
        teacher_plays: the teacher's moves are also played in the learner positions, with
            behaviour log-probability 0 (demonstrations); may be switched between collections.
        teacher_slot: record ``teacher_actions`` (-1: no advice) even while there is no teacher.
    """

    def __init__(
        self,
        network: PolicyNetwork,
        *,
        games: int,
        unroll: int,
        maps: MapSource,
        opponents: Sequence[tuple[str, float]] | Mapping[str, float] = ((SELF, 1.0),),
        agents: Mapping[str, Agent] | None = None,
        engine: EngineConfig | None = None,
        reward: RewardConfig | None = None,
        seed: int = 0,
        device: torch.device | str = "cpu",
        policy_version: int = 0,
        mixed_precision: bool = True,
        teacher: Agent | None = None,
        teacher_plays: bool = False,
        teacher_slot: bool = False,
    ) -> None:
        self.network = network
        self.mixed_precision = mixed_precision
        self.teacher = teacher
        self.teacher_plays = teacher_plays
        self.teacher_slot = teacher_slot
        self.policy_version = policy_version
        self.unroll = unroll
        self.maps = maps
        self.engine = engine or EngineConfig()
        self.reward = reward or RewardConfig()
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        weights = list(opponents.items()) if isinstance(opponents, Mapping) else list(opponents)
        self.agents: dict[str, Agent] = dict(agents or {})
        self.groups: list[_Group] = []
        start = 0
        for k, (name, count) in enumerate(split_games(games, weights)):
            if name != SELF and name not in self.agents:
                if name not in BOTS:
                    raise ValueError(f"no agent for opponent {name!r}: pass it in agents, or use a bot name")
                self.agents[name] = make_agent(name, seed + 1 + k)
            self.groups.append(self._group(name, start, start + count))
            start += count
        self.learner_rows = torch.cat([g.learner_rows for g in self.groups])
        self.state = new_games(games, maps).to(self.device)
        if self.state.num_players != 2:
            raise ValueError(f"the collector plays 1v1 maps, got {self.state.num_players} players")
        for agent in [*self.agents.values(), *([teacher] if teacher is not None else [])]:
            agent.reset()
        self._obs = observe(self.state).flatten_players()
        self.memory = Memory()

    def _group(self, name: str, start: int, stop: int) -> _Group:
        games = torch.arange(start, stop, device=self.device)
        if name == SELF:
            seat = torch.zeros_like(games)
            rows = torch.stack([games * 2, games * 2 + 1], dim=1).flatten()
            return _Group(name, start, stop, rows, games[:0], seat)
        seat = games % 2
        return _Group(name, start, stop, games * 2 + seat, games * 2 + 1 - seat, seat)

    @property
    def games(self) -> int:
        return self.state.batch_size

    @property
    def num_trajectories(self) -> int:
        """N: trajectories per rollout (learner seats)."""
        return int(self.learner_rows.numel())

    def collect(self) -> Rollout:
        """Play ``unroll`` ticks of every game; the learner's trajectories of them."""
        n, t_len, b = self.num_trajectories, self.unroll, self.games
        first = take_rows(self._obs, self.learner_rows)
        buffers = _empty_trajectories(first, n, t_len)
        teacher_actions = torch.full((n, t_len), -1, dtype=torch.int64, device=self.device)
        locate = self.network.predicts_general
        if locate:  # where each learner seat's enemy general stands, for the auxiliary loss
            enemy_general = torch.full((n, t_len), -1, dtype=torch.int64, device=self.device)
            learner_games, enemy_seats = self.learner_rows // 2, 1 - self.learner_rows % 2
        results = {g.name: Results() for g in self.groups}
        timings = dict.fromkeys(("observe", "inference", "opponents", "engine", "restart"), 0.0)
        view = first
        memory = self.memory.observe(view) if self.network.uses_memory else None
        if memory is not None:
            buffers.extras["memory"] = memory
        for t in range(t_len):
            _write_observation(buffers, t, view)
            if locate:
                enemy_general[:, t] = self.state.generals[learner_games, enemy_seats]
            clock = time.perf_counter()
            demonstrating = self.teacher_plays and self.teacher is not None
            if not demonstrating:
                with autocast(self.device, self.mixed_precision):
                    actions, log_probs, _ = self.network.act(view, generator=self.generator, memory=memory)
            timings["inference"] += time.perf_counter() - clock
            clock = time.perf_counter()
            if self.teacher is not None:
                teacher_actions[:, t] = self.teacher.act(view)
                if demonstrating:  # the teacher's move, certainly: no need to ask the policy
                    actions, log_probs = teacher_actions[:, t], torch.zeros(n, device=self.device)
                self.teacher.played(actions)
            flat = torch.zeros(b * 2, dtype=torch.int64, device=self.device)
            flat[self.learner_rows] = actions
            for group in self.groups:
                if group.name != SELF:
                    agent = self.agents[group.name]
                    with autocast(self.device, self.mixed_precision):  # past versions are networks
                        flat[group.opponent_rows] = agent.act(take_rows(self._obs, group.opponent_rows))
            timings["opponents"] += time.perf_counter() - clock
            clock = time.perf_counter()
            after = step(self.state, flat.view(b, 2), self.engine)
            reward = rewards(self.state, after, self.reward).flatten()
            learner_games = self.learner_rows // 2
            done = after.done.index_select(0, learner_games)
            truncated = done & (after.winner.index_select(0, learner_games) < 0)
            truncated &= after.tick.index_select(0, learner_games) >= self.engine.max_ticks
            buffers.actions[:, t] = actions
            buffers.behaviour_log_probs[:, t] = log_probs.float()
            buffers.rewards[:, t] = reward.index_select(0, self.learner_rows)
            buffers.dones[:, t] = done
            assert buffers.truncated is not None
            buffers.truncated[:, t] = truncated
            timings["engine"] += time.perf_counter() - clock
            clock = time.perf_counter()
            if self.teacher is not None and bool(done.any()):
                self.teacher.reset(done)
            self.state = self._restart_finished(after, results)
            timings["restart"] += time.perf_counter() - clock
            clock = time.perf_counter()
            self._obs = observe(self.state).flatten_players()
            view = take_rows(self._obs, self.learner_rows)
            if memory is not None:
                self.memory.forget(done)
                memory = self.memory.observe(view)
            timings["observe"] += time.perf_counter() - clock
        _write_observation(buffers, t_len, view)
        if self.teacher_slot or self.teacher is not None:
            buffers.extras["teacher_actions"] = teacher_actions
        if locate:
            buffers.extras["enemy_general"] = enemy_general
        return Rollout(buffers, self.policy_version, b * t_len, results, timings)

    def _restart_finished(self, after: GameState, results: dict[str, Results]) -> GameState:
        finished = after.done
        if not bool(finished.any()):
            return after
        for group in self.groups:
            ended = finished[group.start : group.stop]
            if not bool(ended.any()):
                continue
            winner = after.winner[group.start : group.stop][ended]
            seat = group.learner_seat[ended]
            results[group.name].add(
                Results(
                    wins=int((winner == seat).sum()),
                    losses=int(((winner >= 0) & (winner != seat)).sum()),
                    draws=int((winner < 0).sum()),
                    ticks=int(after.tick[group.start : group.stop][ended].sum()),
                )
            )
            if group.name != SELF:
                self.agents[group.name].reset(ended)
        return restart_games(after, finished, self.maps)


def _empty_trajectories(first: Observation, n: int, t_len: int) -> Trajectories:
    """Buffers for N trajectories of T steps shaped after one step's views ``first``."""
    device = first.armies.device

    def obs_buffer(x: Tensor) -> Tensor:
        return torch.empty((n, t_len + 1, *x.shape[1:]), dtype=x.dtype, device=device)

    def step_buffer(dtype: torch.dtype) -> Tensor:
        return torch.zeros((n, t_len), dtype=dtype, device=device)

    return Trajectories(
        armies=obs_buffer(first.armies),
        planes=obs_buffer(first.planes),
        scalars=obs_buffer(first.scalars),
        action_mask=obs_buffer(first.action_mask),
        actions=step_buffer(torch.int64),
        behaviour_log_probs=step_buffer(torch.float32),
        rewards=step_buffer(torch.float32),
        dones=step_buffer(torch.bool),
        truncated=step_buffer(torch.bool),
    )


def _write_observation(buffers: Trajectories, t: int, view: Observation) -> None:
    buffers.armies[:, t] = view.armies
    buffers.planes[:, t] = view.planes
    buffers.scalars[:, t] = view.scalars
    buffers.action_mask[:, t] = view.action_mask
