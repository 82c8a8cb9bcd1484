"""``GameServiceRollouts``: an actor's games played through the Game Service's StepBatch
(``grl actor --via-game-service``), cut into the same ``Rollout`` of ``Trajectories`` as
``RolloutCollector`` makes in process.

The B games are split between opponents by weight (``rollout.split_games``), one StepBatch stream
per part, with auto-reset:

- ``self``: the actor plays both seats (two trajectories a game);
- a scripted bot: the server plays it (``hosted_bots``): two streams, the learner in seat 0 in
  one and in seat 1 in the other, so it moves first as often as second;
- ``past`` (an agent passed in ``agents``): the actor plays both seats, the learner's alternating
  with the game index, and the agent (a frozen past version) the other.

Every tick is one forward pass of the network over every learner seat of every stream, then one
StepBatch message per stream, all sent at once. Rewards are the server's, shaped with the reward
weights given when the streams open (a change of ``reward`` reopens them before the next rollout,
on new games). A stream cut by an outage is reopened with backoff, and the rollout begins again
on new games: a rollout is never made of two streams' games.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.agents import BOTS, Agent
from generals_rl.game.observations import Observation
from generals_rl.game.rewards import RewardConfig
from generals_rl.services.common.errors import ServiceError
from generals_rl.services.game.client import GameClient, RemoteBatch
from generals_rl.services.game.domain import BatchSpec, BatchStep, EngineOptions, GeneratorSpec, RewardOptions
from generals_rl.settings import Settings
from generals_rl.training.config import SELF, TrainConfig
from generals_rl.training.memory import Memory
from generals_rl.training.networks import PolicyNetwork
from generals_rl.training.remote import Backoff, retry, retryable
from generals_rl.training.rollout import (
    Results,
    Rollout,
    _empty_trajectories,
    _write_observation,
    split_games,
    take_rows,
)

log = logging.getLogger(__name__)


@dataclass
class _Stream:
    """One StepBatch stream: its games against one opponent; flat rows are ``game * S + column``."""

    name: str
    spec: BatchSpec
    learner_rows: Tensor
    opponent_rows: Tensor  # rows a local agent plays (past versions); empty otherwise
    learner_seat: Tensor  # (games,) the learner's seat (self-play: 0)
    batch: RemoteBatch | None = None
    obs: Observation | None = None

    @property
    def columns(self) -> int:
        return 2 - sum(1 for bot in self.spec.hosted_bots if bot)


def _flat(obs: Observation) -> Observation:
    return Observation(
        armies=obs.armies.flatten(0, 1),
        planes=obs.planes.flatten(0, 1),
        scalars=obs.scalars.flatten(0, 1),
        action_mask=obs.action_mask.flatten(0, 1),
    )


class GameServiceRollouts:
    """Rollouts of ``unroll`` steps through the Game Service (module docstring); open with
    ``open``, close with ``close``."""

    def __init__(
        self,
        config: TrainConfig,
        client: GameClient,
        network: PolicyNetwork,
        streams: list[_Stream],
        agents: Mapping[str, Agent],
        *,
        seed: int,
        stopping: asyncio.Event,
        backoff: Backoff,
    ) -> None:
        self.config = config
        self.client = client
        self.network = network
        self.policy_version = 0
        self.reward = config.reward_config()
        self.streams = streams
        self.agents = dict(agents)
        self.generator = torch.Generator().manual_seed(seed)
        self.stopping = stopping
        self.backoff = backoff
        self._opened_reward: RewardConfig | None = None
        self.memory = Memory()  # of the learner seats, with a network that remembers

    @staticmethod
    async def open(
        config: TrainConfig,
        settings: Settings,
        network: PolicyNetwork,
        *,
        side: int,
        agents: Mapping[str, Agent],
        seed: int,
        stopping: asyncio.Event,
        backoff: Backoff,
    ) -> GameServiceRollouts:
        """Streams for ``config.games`` games on maps of ``side`` (0: generals.io-like) at the
        settings' Game Service."""
        if config.stage_side(0) != config.map_side:  # stages below the run's maps would be played
            raise ValueError("a curriculum of map sizes is played in process only, not via the Game Service")
        if config.teacher:
            log.warning(
                "kickstarting is played in process only: no teacher moves via the Game Service",
                extra={"teacher": config.teacher},
            )
        maps = config.map_config(side)
        generator = GeneratorSpec(
            side=maps.side,
            mountain_density=maps.mountain_density,
            cities=maps.cities,
            city_army=maps.city_army,
            min_distance=maps.min_distance,
            fair_radius=maps.fair_radius,
            fair_tolerance=maps.fair_tolerance,
            min_room=maps.min_room,
        )
        streams = []
        for k, (name, count) in enumerate(split_games(config.games, config.opponents)):
            base = BatchSpec(
                num_games=count,
                maps=generator,
                seed=seed * 16 + k + 1,
                engine=EngineOptions(max_ticks=config.max_ticks),
                autoreset=True,
            )
            games = torch.arange(count)
            if name == SELF:
                rows = torch.arange(2 * count)
                streams.append(_Stream(name, base, rows, rows[:0], torch.zeros(count, dtype=torch.int64)))
            elif name in agents:
                seats = games % 2
                streams.append(_Stream(name, base, games * 2 + seats, games * 2 + 1 - seats, seats))
            elif name in BOTS:
                for seat, part in ((0, (count + 1) // 2), (1, count // 2)):
                    if part == 0:
                        continue
                    hosted = ("", name) if seat == 0 else (name, "")
                    spec = dataclasses.replace(
                        base, num_games=part, hosted_bots=hosted, seed=base.seed * 2 + seat
                    )
                    learner = torch.full((part,), seat, dtype=torch.int64)
                    streams.append(_Stream(name, spec, torch.arange(part), torch.arange(0), learner))
            else:
                raise ValueError(f"no agent for opponent {name!r}: pass it in agents, or use a bot name")
        rollouts = GameServiceRollouts(
            config,
            GameClient.connect(settings.address("game")),
            network,
            streams,
            agents,
            seed=seed,
            stopping=stopping,
            backoff=backoff,
        )
        await rollouts._reopen()
        return rollouts

    async def close(self) -> None:
        await self._close_streams()
        await self.client.close()

    async def _close_streams(self) -> None:
        for stream in self.streams:
            if stream.batch is not None:
                with contextlib.suppress(ServiceError):
                    await stream.batch.close()
                stream.batch = None

    async def _reopen(self) -> None:
        """(Re)open every stream with the current reward weights, retrying through outages."""
        await self._close_streams()
        reward = self.reward
        options = RewardOptions(**dataclasses.asdict(reward))  # the same fields, by name
        for stream in self.streams:
            stream.spec = dataclasses.replace(stream.spec, reward=options)
            batch = await retry(
                functools.partial(self.client.open_batch, stream.spec),
                "open StepBatch",
                self.backoff,
                self.stopping,
            )
            stream.batch, stream.obs = batch, _flat(batch.first.observation)
        self._opened_reward = reward
        self.memory.forget()  # new games

    async def rollout(self) -> Rollout:
        """``unroll`` ticks of every game; begins again on new games after an outage."""
        while True:
            if self.reward != self._opened_reward:
                await self._reopen()
            try:
                return await self._collect()
            except (ServiceError, ConnectionError) as error:
                if isinstance(error, ServiceError) and not retryable(error):
                    raise
                await self._reopen()

    async def _collect(self) -> Rollout:
        t_len = self.config.unroll
        views = [take_rows(s.obs, s.learner_rows) for s in self.streams if s.obs is not None]
        first = _cat(views)
        n = int(first.armies.shape[0])
        buffers = _empty_trajectories(first, n, t_len)
        results = {s.name: Results() for s in self.streams}
        timings = dict.fromkeys(("inference", "opponents", "rpc", "observe"), 0.0)
        view = first
        memory = self.memory.observe(first) if self.network.uses_memory else None
        if memory is not None:
            buffers.extras["memory"] = memory
        for t in range(t_len):
            _write_observation(buffers, t, view)
            clock = time.perf_counter()
            learner_actions, log_probs, actions = await asyncio.to_thread(self._act, view, timings, memory)
            timings["inference"] += time.perf_counter() - clock
            clock = time.perf_counter()
            steps = await asyncio.gather(
                *(s.batch.step(a) for s, a in zip(self.streams, actions, strict=True) if s.batch is not None)
            )
            timings["rpc"] += time.perf_counter() - clock
            clock = time.perf_counter()
            buffers.actions[:, t] = learner_actions
            buffers.behaviour_log_probs[:, t] = log_probs.float()
            start = 0
            for stream, answer in zip(self.streams, steps, strict=True):
                stop = start + int(stream.learner_rows.numel())
                self._record(stream, answer, results)
                games = stream.learner_rows // stream.columns
                buffers.rewards[:, t][start:stop] = answer.rewards.flatten().float()[stream.learner_rows]
                buffers.dones[:, t][start:stop] = answer.dones[games]
                assert buffers.truncated is not None
                buffers.truncated[:, t][start:stop] = answer.truncated[games]
                stream.obs = _flat(answer.observation)
                start = stop
            view = _cat([take_rows(s.obs, s.learner_rows) for s in self.streams if s.obs is not None])
            if memory is not None:
                self.memory.forget(torch.as_tensor(buffers.dones[:, t]))
                memory = self.memory.observe(view)
            timings["observe"] += time.perf_counter() - clock
        _write_observation(buffers, t_len, view)
        env_steps = sum(s.spec.num_games for s in self.streams) * t_len
        return Rollout(buffers, self.policy_version, env_steps, results, timings)

    def _act(
        self, view: Observation, timings: dict[str, float], memory: Tensor | None = None
    ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """The learner's actions and log-probabilities over every stream's learner seats, and
        each stream's (B, S) actions (local opponents included). Runs in a worker thread."""
        device = next(self.network.parameters()).device
        if device.type != "cpu":  # the streams' tensors are on the CPU; the policy may not be
            view = Observation(
                *(t.to(device) for t in (view.armies, view.planes, view.scalars, view.action_mask))
            )
        learner_actions, log_probs, _ = self.network.act(
            view,
            generator=self.generator if device.type == "cpu" else None,
            memory=None if memory is None else memory.to(device),
        )
        learner_actions, log_probs = learner_actions.cpu(), log_probs.cpu()
        clock = time.perf_counter()
        per_stream, start = [], 0
        for stream in self.streams:
            assert stream.obs is not None
            flat = torch.zeros(stream.spec.num_games * stream.columns, dtype=torch.int64)
            stop = start + int(stream.learner_rows.numel())
            flat[stream.learner_rows] = learner_actions[start:stop]
            if stream.opponent_rows.numel():
                agent = self.agents[stream.name]
                flat[stream.opponent_rows] = agent.act(take_rows(stream.obs, stream.opponent_rows))
            per_stream.append(flat.view(stream.spec.num_games, stream.columns))
            start = stop
        timings["opponents"] += time.perf_counter() - clock
        return learner_actions, log_probs, per_stream

    def _record(self, stream: _Stream, answer: BatchStep, results: dict[str, Results]) -> None:
        """Count the games that ended in this step, from the learner's seat."""
        ended = answer.dones.bool()
        if not bool(ended.any()):
            return
        winner = answer.winners[ended]
        seat = stream.learner_seat[ended]
        results[stream.name].add(
            Results(
                wins=int((winner == seat).sum()),
                losses=int(((winner >= 0) & (winner != seat)).sum()),
                draws=int((winner < 0).sum()),
            )
        )
        if stream.opponent_rows.numel():
            self.agents[stream.name].reset(ended)


def _cat(views: list[Observation]) -> Observation:
    return Observation(
        armies=torch.cat([v.armies for v in views]),
        planes=torch.cat([v.planes for v in views]),
        scalars=torch.cat([v.scalars for v in views]),
        action_mask=torch.cat([v.action_mask for v in views]),
    )
