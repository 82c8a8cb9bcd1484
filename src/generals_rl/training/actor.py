"""``Actor``: plays batched games with the current policy and streams them to the Replay Service
(``grl actor``; ``grl train`` runs several in one process).

    actor = Actor(config, settings, RemoteOptions())
    running = asyncio.create_task(actor.run())
    ...
    await actor.stop()            # finishes the rollout, sends what is not acknowledged yet

The loop, between rollouts:

- POLICY: the ``latest`` version from the Model Service (waiting for the first one); every
  ``refresh_s`` it asks for one newer than the version it holds (``if_newer_than``: a small
  answer when there is none).
- OPPONENTS: the games' opponents are ``TrainConfig.opponents``: ``self``, scripted bots, and
  ``past``, a version the Matchmaker's SampleOpponents draws by PFSP every ``opponents_every``
  rollouts, fetched from the Model Service.
- ROLLOUT: ``RolloutCollector.collect`` in a worker thread (the event loop keeps sending), or a
  ``GameServiceRollouts`` through the Game Service's StepBatch with ``via_game_service``.
- SEND: the rollout becomes one chunk tagged with the actor's writer id (its ``actor_id`` and a
  random suffix new in every process) and the next sequence number,
  queued in the outbox. A sender task streams the queued chunks to the Replay table and drops
  them once acknowledged. A failed or cut stream is retried with backoff (``remote.retry``), from
  the oldest chunk not acknowledged: the Replay Service skips what it had already inserted, so
  nothing is recorded twice. When ``max_pending`` chunks wait, the actor waits too.

Env steps/s and the policy lag (versions published since the one acting, seen at each check) are
logged as structured lines every ``log_every_s`` and exported as Prometheus metrics
(``grl_actor_*``, labelled by actor id).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import time
import uuid
import zlib
from collections.abc import Awaitable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import torch
from prometheus_client import Counter, Gauge

from generals_rl.agents import make_agent
from generals_rl.agents.neural import NeuralAgent
from generals_rl.game.generators import MapPool
from generals_rl.game.rewards import RewardConfig
from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import FailedPrecondition, NotFound, ServiceError
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.model.client import ModelClient
from generals_rl.services.model.domain import VersionInfo
from generals_rl.services.replay.client import Chunk, ReplayClient, Trajectories
from generals_rl.settings import Settings
from generals_rl.training.config import PAST, TrainConfig
from generals_rl.training.networks import PolicyNetwork
from generals_rl.training.remote import (
    RECONNECT,
    RemoteOptions,
    Stopped,
    retry,
    retryable,
    table_config,
    wait_or_stop,
)
from generals_rl.training.rollout import Results, Rollout, RolloutCollector
from generals_rl.training.serial import resolve_device
from generals_rl.v1 import common_pb2
from generals_rl.v1 import matchmaker_pb2 as mm_pb

log = logging.getLogger(__name__)

ENV_STEPS = Counter("grl_actor_env_steps", "Game ticks the actor's games played.", ["actor"])
STEPS_PER_S = Gauge(
    "grl_actor_env_steps_per_second", "Env steps per second since the last report.", ["actor"]
)
POLICY_VERSION = Gauge("grl_actor_policy_version", "Model Service version the actor plays.", ["actor"])
POLICY_LAG = Gauge(
    "grl_actor_policy_lag_versions", "Versions published since the acting one, at the last check.", ["actor"]
)
ACKNOWLEDGED = Counter(
    "grl_actor_trajectories_acknowledged", "Trajectories the Replay Service acknowledged.", ["actor"]
)
CHUNK_BYTES = 8 * 2**20
"""Most tensor bytes in one RecordExperience message (a rollout is cut into several)."""

PENDING = Gauge("grl_actor_pending_chunks", "Rollouts not acknowledged yet.", ["actor"])
RETRIES = Counter("grl_actor_retries", "Calls retried after a service outage.", ["actor", "call"])
SECONDS = Counter("grl_actor_seconds", "Seconds spent, by phase.", ["actor", "phase"])
GAMES = Counter(
    "grl_actor_games",
    "Finished games of the learner, by opponent and result.",
    ["actor", "opponent", "result"],
)


class Rollouts(Protocol):
    """Where rollouts come from: in process (``RolloutCollector`` in a thread) or the Game Service.
    ``network``, ``policy_version`` and ``reward`` may be replaced between rollouts."""

    network: PolicyNetwork
    policy_version: int
    reward: RewardConfig

    async def rollout(self) -> Rollout: ...

    async def close(self) -> None: ...


class LocalRollouts:
    """``RolloutCollector`` run in a worker thread (the event loop keeps serving the sender)."""

    def __init__(self, collector: RolloutCollector) -> None:
        self.collector = collector

    @property
    def network(self) -> PolicyNetwork:
        return self.collector.network

    @network.setter
    def network(self, network: PolicyNetwork) -> None:
        self.collector.network = network

    @property
    def policy_version(self) -> int:
        return self.collector.policy_version

    @policy_version.setter
    def policy_version(self, version: int) -> None:
        self.collector.policy_version = version

    @property
    def reward(self) -> RewardConfig:
        return self.collector.reward

    @reward.setter
    def reward(self, reward: RewardConfig) -> None:
        self.collector.reward = reward

    async def rollout(self) -> Rollout:
        return await asyncio.to_thread(self.collector.collect)

    async def close(self) -> None:
        return None


@dataclass
class ActorStats:
    """What an actor has done so far (tests and the dashboard read it)."""

    rollouts: int = 0
    env_steps: int = 0
    chunks_sent: int = 0
    chunks_acknowledged: int = 0
    trajectories_acknowledged: int = 0
    duplicates: int = 0
    retries: int = 0
    versions_seen: list[int] = field(default_factory=list)
    policy_lag: int = 0
    results: dict[str, Results] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: collections.defaultdict(float))


class Actor:
    """One actor (module docstring). ``run`` until ``stop``; ``stats`` tells what it did.

    Args:
        config: what to play (maps, games B, unroll T, opponents, network, device, seed).
        settings: where the services are (``settings.address``).
        options: how to use them (``RemoteOptions``).
    """

    def __init__(self, config: TrainConfig, settings: Settings, options: RemoteOptions | None = None) -> None:
        self.config = config
        self.settings = settings
        self.options = options or RemoteOptions()
        self.actor_id = self.options.actor_id or f"actor-{uuid.uuid4().hex[:12]}"
        self.writer_id = f"{self.actor_id}:{uuid.uuid4().hex[:8]}"
        """The id its chunks carry: new for every actor object, so that an actor restarted under the
        same ``actor_id`` never has its first chunks taken for retries of its predecessor's."""
        self.device = resolve_device(config.device)
        self.seed = config.seed * 1_000_003 + zlib.crc32(self.actor_id.encode())
        self.table = table_config(config, self.options)
        self.stats = ActorStats()
        self.version: VersionInfo | None = None
        self.network: PolicyNetwork | None = None
        self._stopping = asyncio.Event()
        self._abandon = asyncio.Event()
        self._space = asyncio.Event()  # set when a chunk was acknowledged
        self._queued = asyncio.Event()  # set when a chunk was queued
        self._played = asyncio.Event()  # set when the play loop has ended: nothing more is queued
        self._pending: collections.deque[Chunk] = collections.deque()
        self._sequence = 0
        self._shuffle = torch.Generator().manual_seed(self.seed)
        self._past: NeuralAgent | None = None
        self._past_cache: dict[int, PolicyNetwork] = {}
        self._rollouts: Rollouts | None = None
        self._side = -1
        self._labels = {"actor": self.actor_id}

    # -- lifecycle --------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Ask ``run`` to finish its rollout, send what is not acknowledged and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Play and send until ``stop`` (module docstring); raises what is not an outage."""
        if self.config.threads > 0:
            torch.set_num_threads(self.config.threads)
        torch.manual_seed(self.seed)
        s = self.settings
        async with (
            channel(s.address("replay"), retries=1, options=RECONNECT) as replay_channel,
            channel(s.address("model"), retries=1, options=RECONNECT) as model_channel,
            channel(s.address("matchmaker"), retries=1, options=RECONNECT) as matchmaker_channel,
        ):
            self.replay = ReplayClient(replay_channel, timeout_s=self.options.rpc_timeout_s)
            self.models = ModelClient(model_channel, timeout_s=self.options.rpc_timeout_s)
            self.matchmaker = MatchmakerClient(matchmaker_channel, timeout_s=self.options.rpc_timeout_s)
            try:
                await self._create_table(self._stopping)
                await self._first_policy()
            except Stopped:
                return
            sender = asyncio.create_task(self._send_loop(), name=f"{self.actor_id}-sender")
            try:
                await self._play(sender)
            finally:
                await self._drain(sender)
                if self._rollouts is not None:
                    await self._rollouts.close()
                log.info("actor stopped", extra=self._report_fields())

    async def _play(self, sender: asyncio.Task[None]) -> None:
        last_check = time.monotonic()
        last_log, steps_at_log = time.monotonic(), 0
        while not self._stopping.is_set():
            # POLICY: a newer version every refresh_s
            if time.monotonic() - last_check >= self.options.refresh_s:
                last_check = time.monotonic()
                await self._refresh()
            rollouts = await self._source()
            # OPPONENTS: a past version by PFSP every opponents_every rollouts
            if self._past is not None and self.stats.rollouts % self.options.opponents_every == 0:
                await self._draw_past()
            # ROLLOUT
            clock = time.perf_counter()
            rollout = await rollouts.rollout()
            self._count("rollout", time.perf_counter() - clock)
            self._account(rollout)
            # SEND: into the outbox (waits while it is full)
            clock = time.perf_counter()
            for chunk in self._chunks(rollout):
                await self._enqueue(chunk, sender)
            self._count("outbox_wait", time.perf_counter() - clock)
            if time.monotonic() - last_log >= self.options.log_every_s:
                rate = (self.stats.env_steps - steps_at_log) / (time.monotonic() - last_log)
                STEPS_PER_S.labels(**self._labels).set(rate)
                log.info("actor progress", extra={"env_steps_per_s": round(rate, 1), **self._report_fields()})
                last_log, steps_at_log = time.monotonic(), self.stats.env_steps

    # -- policy and opponents ---------------------------------------------------------------------

    async def _first_policy(self) -> None:
        """Wait for a first ``latest`` version (the learner publishes one when it starts)."""
        waited = False
        while self.version is None:
            try:
                await self._refresh()
            except NotFound:
                if not waited:
                    log.info("waiting for a first version of the policy", extra={"actor": self.actor_id})
                waited = True
            if self.version is None and await wait_or_stop(self._stopping, self.options.refresh_s):
                raise Stopped("first policy")

    async def _refresh(self) -> None:
        """Load ``latest`` when it is newer than the version held (first call: whatever it is).
        An outage keeps the version held (logged); NotFound before the first version is raised."""
        held = self.version.version if self.version is not None else 0
        clock = time.perf_counter()
        try:
            fetched = await self.models.fetch("latest", if_newer_than=held, device=self.device)
        except ServiceError as error:
            if not retryable(error):
                raise
            self._retried("fetch policy", error)
            return
        finally:
            self._count("policy_fetch", time.perf_counter() - clock)
        if fetched is None:
            self._set_lag(0)
            return
        info, network = fetched
        self._set_lag(info.version - held if held else 0)
        self.version = info
        self.stats.versions_seen.append(info.version)
        POLICY_VERSION.labels(**self._labels).set(info.version)
        self.network = network
        if self._rollouts is not None:
            self._rollouts.network = network
            self._rollouts.policy_version = info.version
        log.info(
            "policy",
            extra={"actor": self.actor_id, "version": info.version, "step": info.metadata.training_step},
        )

    def _set_lag(self, lag: int) -> None:
        self.stats.policy_lag = lag
        POLICY_LAG.labels(**self._labels).set(lag)

    async def _draw_past(self) -> None:
        """The past version to play, drawn by PFSP; the current policy when there is no other
        version yet or the Matchmaker is out (logged)."""
        assert self._past is not None and self.version is not None and self.network is not None
        network = self.network
        try:
            response = await self.matchmaker.sample_opponents(
                strategy=mm_pb.SAMPLING_STRATEGY_PFSP,
                learner=common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_MODEL, id=str(self.version.version)),
                count=1,
                architecture=self.version.metadata.architecture,
                mode=common_pb2.GAME_MODE_1V1,
                seed=self.seed + self.stats.rollouts,
            )
            [opponent] = response.opponents
            if opponent.kind == common_pb2.PLAYER_KIND_MODEL:
                network = await self._past_version(int(opponent.id))
        except (FailedPrecondition, NotFound):
            pass  # no version but the learner's (or the one drawn is gone): it plays itself
        except ServiceError as error:
            if not retryable(error):
                raise
            self._retried("sample opponents", error)
        self._past.network = network.to(self.device).eval()

    async def _past_version(self, version: int) -> PolicyNetwork:
        if version not in self._past_cache:
            fetched = await self.models.fetch(version, device=self.device)
            assert fetched is not None
            if len(self._past_cache) >= 4:
                self._past_cache.pop(next(iter(self._past_cache)))
            self._past_cache[version] = fetched[1]
        return self._past_cache[version]

    # -- rollouts ---------------------------------------------------------------------------------

    async def _source(self) -> Rollouts:
        """The rollout source of the current map stage (a new one when the stage changes)."""
        assert self.version is not None and self.network is not None
        step = self.version.metadata.training_step
        side = self.config.stage_side(step)
        if self._rollouts is not None and side == self._side:
            self._rollouts.reward = self.config.reward_config(step)  # the shaping decays with updates
            self._kickstarting_at(step)
            return self._rollouts
        network = self.network
        if self._rollouts is not None:
            await self._rollouts.close()
        self._side = side
        names = {name for name, _ in self.config.opponents}
        agents = {}
        if PAST in names:
            self._past = NeuralAgent(network, seed=self.seed + 1, device=self.device, name=PAST)
            agents[PAST] = self._past
        pool = MapPool(
            self.config.map_config(side), seed=self.seed + side, pad_to=self._padding(), device=self.device
        )
        if self.options.via_game_service:
            from generals_rl.training.game_rollouts import GameServiceRollouts

            self._rollouts = await GameServiceRollouts.open(
                self.config,
                self.settings,
                network,
                side=side,
                agents=agents,
                seed=self.seed,
                stopping=self._stopping,
                backoff=self.options.backoff,
            )
        else:
            collector = RolloutCollector(
                network,
                games=self.config.games,
                unroll=self.config.unroll,
                maps=pool,
                opponents=self.config.opponents,
                agents=agents,
                engine=self.config.engine_config(),
                reward=self.config.reward_config(step),
                seed=self.seed,
                device=self.device,
                mixed_precision=self.config.mixed_precision,
                teacher=make_agent(self.config.teacher, self.seed + 17) if self.config.teacher else None,
                teacher_slot=bool(self.config.teacher),
            )
            self._rollouts = LocalRollouts(collector)
            self._kickstarting_at(step)
        self._rollouts.policy_version = self.version.version
        self._rollouts.reward = self.config.reward_config(step)
        return self._rollouts

    def _kickstarting_at(self, step: int) -> None:
        """Stop playing the teacher's moves once the policy's training step has passed
        ``teacher_plays_updates``; drop the teacher once the imitation weight is 0: plain RL from
        then on (the trajectories keep their ``teacher_actions`` slot, -1: no advice)."""
        if isinstance(self._rollouts, LocalRollouts):
            self._rollouts.collector.teacher_plays = self.config.teacher_plays(step)
            if self.config.teacher_weight(step) == 0.0:
                self._rollouts.collector.teacher = None

    def _padding(self) -> tuple[int, int]:
        """Every stage's boards padded to the largest: a Replay table takes one shape."""
        sides = {*self.config.curriculum_sides, self.config.map_side}
        side = max(self.config.map_config(s).side[1] for s in sides)
        return side, side

    def _account(self, rollout: Rollout) -> None:
        self.stats.rollouts += 1
        self.stats.env_steps += rollout.env_steps
        ENV_STEPS.labels(**self._labels).inc(rollout.env_steps)
        for name, result in rollout.results.items():
            self.stats.results.setdefault(name, Results()).add(result)
            for outcome, count in (("win", result.wins), ("loss", result.losses), ("draw", result.draws)):
                GAMES.labels(**self._labels, opponent=name, result=outcome).inc(count)
        for phase, seconds in rollout.timings.items():
            self._count(phase, seconds)

    def _chunks(self, rollout: Rollout) -> list[Chunk]:
        """The rollout's trajectories in a random order, as messages of at most ``CHUNK_BYTES``
        (a whole rollout of B games on big maps passes gRPC's 64 MiB message limit), each with the
        next sequence number. The collector keeps each opponent's games together; shuffled, a
        queue's batch (the oldest trajectories) mixes opponents as a uniform draw does."""
        trajectories = on_cpu(rollout.trajectories)
        n = int(trajectories.actions.shape[0])
        per_row = max(1, trajectories.nbytes // max(1, n))
        step = max(1, CHUNK_BYTES // per_row)
        order = torch.randperm(n, generator=self._shuffle)
        chunks = []
        for start in range(0, n, step):
            self._sequence += 1
            chunks.append(
                Chunk(
                    trajectories.take(order[start : start + step]),
                    policy_version=rollout.policy_version,
                    writer_id=self.writer_id,
                    sequence=self._sequence,
                )
            )
        return chunks

    # -- sending ----------------------------------------------------------------------------------

    async def _create_table(self, stopping: asyncio.Event) -> None:
        await retry(
            lambda: self.replay.create_table(self.table),
            "create table",
            self.options.backoff,
            stopping,
            on_retry=lambda e: self._retried("create table", e, log_it=False),
        )

    async def _enqueue(self, chunk: Chunk, sender: asyncio.Task[None]) -> None:
        """Queue a chunk for the sender; wait while ``max_pending`` are not acknowledged."""
        while len(self._pending) >= self.options.max_pending and not self._stopping.is_set():
            self._space.clear()
            waits = [asyncio.ensure_future(self._space.wait()), asyncio.ensure_future(self._stopping.wait())]
            await asyncio.wait([*waits, sender], return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
            if sender.done():
                sender.result()  # the sender failed: raise its error here
        if self._stopping.is_set() and len(self._pending) >= self.options.max_pending:
            return
        self._pending.append(chunk)
        PENDING.labels(**self._labels).set(len(self._pending))
        self._queued.set()

    async def _send_loop(self) -> None:
        """Stream the pending chunks, oldest first, until ``_abandon`` (module docstring)."""
        while not self._abandon.is_set():
            if not self._pending:
                if self._played.is_set():  # not merely stopping: the rollout in progress comes
                    return
                self._queued.clear()
                await _first(self._queued.wait(), self._played.wait(), self._abandon.wait())
                continue
            batch = list(self._pending)
            clock = time.perf_counter()
            try:
                result = await retry(
                    functools.partial(
                        self.replay.record, self.table.name, batch, timeout_s=self.options.rpc_timeout_s
                    ),
                    "record",
                    self.options.backoff,
                    self._abandon,
                    on_retry=lambda e: self._retried("record", e, log_it=False),
                )
            except NotFound:  # a Replay Service restarted on an empty store: the table is gone
                log.warning(
                    "the replay table is missing: creating it again", extra={"table": self.table.name}
                )
                await self._create_table(self._abandon)
                continue
            except Stopped:
                return
            finally:
                self._count("record", time.perf_counter() - clock)
            for _ in batch:
                self._pending.popleft()
            n = sum(int(c.trajectories.actions.shape[0]) for c in batch)
            self.stats.chunks_sent += len(batch)
            self.stats.chunks_acknowledged += len(batch)
            self.stats.trajectories_acknowledged += n
            self.stats.duplicates += result.duplicates
            ACKNOWLEDGED.labels(**self._labels).inc(n)
            PENDING.labels(**self._labels).set(len(self._pending))
            self._space.set()

    async def _drain(self, sender: asyncio.Task[None]) -> None:
        """Let the sender send what is pending (for up to ``drain_s``), then cancel it."""
        self._stopping.set()
        self._played.set()
        try:
            await asyncio.wait_for(asyncio.shield(sender), self.options.drain_s)
        except TimeoutError:
            pass
        finally:
            if self._pending:
                log.warning("unacknowledged rollouts dropped at stop", extra={"chunks": len(self._pending)})
            self._abandon.set()
            sender.cancel()
            with contextlib.suppress(Stopped, asyncio.CancelledError):
                await sender

    # -- reporting --------------------------------------------------------------------------------

    def _retried(self, call: str, error: ServiceError, *, log_it: bool = True) -> None:
        self.stats.retries += 1
        RETRIES.labels(actor=self.actor_id, call=call).inc()
        if log_it:
            log.warning(
                "service unavailable", extra={"call": call, "code": error.code.name, "error": str(error)}
            )

    def _count(self, phase: str, seconds: float) -> None:
        self.stats.seconds[phase] += seconds
        SECONDS.labels(actor=self.actor_id, phase=phase).inc(seconds)

    def _report_fields(self) -> dict[str, Any]:
        s = self.stats
        # Counts beside the rates (since the actor started): the games of a time window are a
        # difference of two reports, and games are not proportional to env steps.
        rates: dict[str, float] = {}
        for name, r in s.results.items():
            if r.games:
                rates |= {
                    f"win_rate_{name}": round(r.wins / r.games, 3),
                    f"games_{name}": r.games,
                    f"wins_{name}": r.wins,
                }
        return {
            "actor": self.actor_id,
            "version": self.version.version if self.version else 0,
            "policy_lag": s.policy_lag,
            "env_steps": s.env_steps,
            "rollouts": s.rollouts,
            "acknowledged": s.trajectories_acknowledged,
            "pending": len(self._pending),
            "retries": s.retries,
            **rates,
        }


async def _first(*waits: Awaitable[Any]) -> None:
    """Wait until one of ``waits`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def on_cpu(trajectories: Trajectories) -> Trajectories:
    """The trajectories with every torch tensor on the CPU (what a chunk is encoded from)."""
    values = {}
    for f in fields(Trajectories):
        value = getattr(trajectories, f.name)
        if isinstance(value, torch.Tensor):
            value = value.cpu()
        elif isinstance(value, dict):
            value = {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in value.items()}
        values[f.name] = value
    return Trajectories(**values)
