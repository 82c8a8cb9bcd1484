"""``LearnerLoop``: trains on batches sampled from the Replay Service and publishes versions to the
Model Service (``grl learner``; ``grl train`` runs one in process).

    loop = LearnerLoop(config, settings, RemoteOptions(publish_every=20))
    running = asyncio.create_task(loop.run())
    ...
    await loop.stop()             # ends after the update in progress, with a checkpoint

The loop:

- SETUP: the network, the ``Learner``, the run's last checkpoint in the blob store (weights,
  optimizer, step, and the last version published), the Replay table (created when missing);
  rank 0 publishes the starting weights unless that step was published already, so actors have a
  policy at once.
- SAMPLE: GetExperienceBatch streams of ``batch_size`` trajectories per batch, each asking for
  the batches up to the next publication: the next stream then tells the table the new version
  (for its lag statistics) without dropping batches the server already sent (from a queue table,
  dropped batches would be experience lost). A stream cut by an outage (or waiting longer than
  ``sample_timeout_s`` for data) is reopened with backoff.
- UPDATE: ``Learner.update`` on each batch in a worker thread (the event loop keeps receiving the
  next batch and publishing). Under ``torch.distributed`` (torchrun's RANK / WORLD_SIZE /
  MASTER_ADDR / MASTER_PORT; the process group is initialized here when it is not yet) every rank
  samples its own batch and DDP averages the gradients; before each update the ranks agree
  whether any of them is stopping, so they stop together.
- PUBLISH: rank 0 publishes every ``publish_every`` updates (safetensors weights with the
  architecture and its config, the parent version, the training step, the latest losses), in the
  background with retries; a retry reuses the request id, so a version is never created twice.
- CHECKPOINT: rank 0 every ``checkpoint_every`` updates and at the end, to
  ``TrainConfig.checkpoint_uri`` (default: the settings' blob store), run ``run_name``.

Samples/s, losses and the policy lag of the sampled data (the last version published minus the
version that acted) are logged as structured lines every ``log_every_s`` and exported as
Prometheus metrics (``grl_learner_*``, labelled by rank).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from prometheus_client import Counter, Gauge

from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import NotFound, ServiceError
from generals_rl.services.model.client import ModelClient
from generals_rl.services.replay.client import ReplayClient, SampledBatch
from generals_rl.settings import Settings
from generals_rl.storage import open_blobs
from generals_rl.storage.interfaces import BlobStore
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import Learner, is_rank_zero
from generals_rl.training.networks import PolicyNetwork, build
from generals_rl.training.remote import (
    RECONNECT,
    RemoteOptions,
    Stopped,
    retry,
    retryable,
    table_config,
    wait_or_stop,
)
from generals_rl.training.serial import _finished, resolve_device

log = logging.getLogger(__name__)

UPDATES = Counter("grl_learner_updates", "Optimizer steps taken.", ["rank"])
SAMPLES = Counter("grl_learner_samples", "Trajectories trained on.", ["rank"])
SAMPLES_PER_S = Gauge(
    "grl_learner_samples_per_second", "Trajectories per second since the last report.", ["rank"]
)
LOSS = Gauge("grl_learner_loss", "The last update's loss terms.", ["rank", "term"])
VERSION = Gauge("grl_learner_published_version", "The last version published.", ["rank"])
LAG = Gauge("grl_learner_sampled_lag_versions", "Mean policy lag of the last batch, in versions.", ["rank"])
RETRIES = Counter("grl_learner_retries", "Calls retried after a service outage.", ["rank", "call"])
SECONDS = Counter("grl_learner_seconds", "Seconds spent, by phase.", ["rank", "phase"])


class Ended(enum.Enum):
    """The mark of a sample stream that sent all the batches it was asked for."""

    ENDED = "ended"


ENDED = Ended.ENDED


@dataclass
class LearnerStats:
    """What a learner has done so far (tests and the dashboard read it)."""

    updates: int = 0
    samples: int = 0
    published: list[int] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    lag: float = 0.0
    retries: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: collections.defaultdict(float))


class LearnerLoop:
    """One learner process, or one rank of several (module docstring).

    Args:
        config: what to train (network, optimizer, losses, budgets, checkpoints).
        settings: where the services and the default blob store are.
        options: how to use the services (``RemoteOptions``).
        network: start from this network instead of a new one (a checkpoint still wins).
    """

    def __init__(
        self,
        config: TrainConfig,
        settings: Settings,
        options: RemoteOptions | None = None,
        *,
        network: PolicyNetwork | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.options = options or RemoteOptions()
        self.table = table_config(config, self.options)
        self.batch_size = self.options.learner_batch(config)
        self.stats = LearnerStats()
        self.version = 0
        """The last version published (0: none yet)."""
        self._network = network
        self._stopping = asyncio.Event()
        self._nonce = uuid.uuid4().hex[:8]
        self._publishing: asyncio.Task[None] | None = None
        self._owns_group = False
        self._rank = "0"
        self._published_step = -1
        self.learner: Learner | None = None

    async def stop(self) -> None:
        """End after the update in progress (every rank stops at the same update)."""
        self._stopping.set()

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Train until ``stop`` or the config's budget (module docstring)."""
        self._init_distributed()
        try:
            await self._run()
        finally:
            if self._owns_group:
                dist.barrier()  # no rank tears the group down while another still talks to it
                dist.destroy_process_group()

    async def _run(self) -> None:
        # SETUP
        config = self.config
        if threads := config.learner_threads or config.threads:
            torch.set_num_threads(threads)
        torch.manual_seed(config.seed)
        device = resolve_device(config.device)
        if device.type == "cuda" and dist.is_initialized():
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        network = self._network or build(config.arch, config.network_config())
        learner = self.learner = Learner(network, config, device=device)
        store = open_blobs(config.checkpoint_uri or self.settings.blob_uri)
        await asyncio.to_thread(store.ensure_buckets)
        resumed = await asyncio.to_thread(learner.resume, store, config.run_name) or {}
        self.version = int(resumed.get("version", 0))
        self._published_step = int(resumed.get("published_step", -1))
        train_s = float(resumed.get("train_s", 0.0))
        if resumed:
            log.info("resumed", extra={"run": config.run_name, "step": learner.step, "version": self.version})
        async with (
            channel(self.settings.address("replay"), retries=1, options=RECONNECT) as replay_channel,
            channel(self.settings.address("model"), retries=1, options=RECONNECT) as model_channel,
        ):
            self.replay = ReplayClient(replay_channel, timeout_s=self.options.rpc_timeout_s)
            self.models = ModelClient(model_channel, timeout_s=self.options.rpc_timeout_s)
            try:
                await self._retry(lambda: self.replay.create_table(self.table), "create table")
                if is_rank_zero() and self._published_step != learner.step:
                    await self._publish(learner.step)
            except Stopped:
                return
            try:
                train_s = await self._train(learner, store, train_s)
            finally:
                await self._finish(learner, store, train_s)

    async def _train(self, learner: Learner, store: BlobStore, train_s: float) -> float:
        started, last_log, samples_at_log = time.monotonic() - train_s, time.monotonic(), 0
        batches = None
        delays, failing = self.options.backoff.delays(), False  # grows while sampling keeps failing
        try:
            while True:
                # SAMPLE: the next batch, or None when stopping; a stream ends at a publication
                if batches is None:
                    batches = self._sample_stream(learner.step)
                try:
                    batch = await self._next(batches)
                    if batch is ENDED:
                        batches = None
                        continue
                except ServiceError as error:
                    await _close(batches)
                    batches = None
                    if isinstance(error, NotFound):  # a Replay Service restarted on an empty store
                        await self._retry(lambda: self.replay.create_table(self.table), "create table")
                    elif retryable(error):
                        self._retried("sample", error)
                        failing = True
                        await wait_or_stop(self._stopping, next(delays))
                    else:
                        raise
                    continue
                if failing:  # a batch came: the next outage starts from the shortest delay again
                    delays, failing = self.options.backoff.delays(), False
                train_s = time.monotonic() - started
                stop = batch is None or _finished(self.config, learner.step, train_s)
                # UPDATE (every rank agrees on stopping first)
                clock = time.perf_counter()
                lr = self.config.learning_rate(learner.step, train_s)
                metrics = await asyncio.to_thread(self._update, learner, batch, stop, lr)
                self._count("update", time.perf_counter() - clock)
                if metrics is None:
                    return train_s
                assert batch is not None
                self._account(batch, metrics)
                # PUBLISH and CHECKPOINT (rank 0)
                if is_rank_zero():
                    if learner.step % self.options.publish_every == 0:
                        self._publish_in_background(learner.step)
                    if learner.step % self.config.checkpoint_every == 0:
                        await self._checkpoint(learner, store, time.monotonic() - started)
                if time.monotonic() - last_log >= self.options.log_every_s:
                    rate = (self.stats.samples - samples_at_log) / (time.monotonic() - last_log)
                    SAMPLES_PER_S.labels(rank=self._rank).set(rate)
                    log.info("learner progress", extra={"samples_per_s": round(rate, 1), **self._fields()})
                    last_log, samples_at_log = time.monotonic(), self.stats.samples
        finally:
            if batches is not None:
                await _close(batches)

    def _sample_stream(self, step: int) -> Any:
        return aiter(
            self.replay.sample(
                self.table.name,
                self.batch_size,
                num_batches=self.options.publish_every - step % self.options.publish_every,
                timeout_s=self.options.sample_timeout_s,
                learner_version=self.version,
            )
        )

    async def _next(self, batches: Any) -> SampledBatch | Ended | None:
        """The stream's next batch, ``ENDED`` after its last one, or None once ``stop`` was asked."""
        clock = time.perf_counter()
        getting = asyncio.ensure_future(anext(batches))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            self._count("sample_wait", time.perf_counter() - clock)
        if not getting.done():
            getting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ServiceError, StopAsyncIteration):
                await getting
            return None
        try:
            return getting.result()
        except StopAsyncIteration:
            return ENDED

    def _update(
        self, learner: Learner, batch: SampledBatch | None, stop: bool, lr: float
    ) -> dict[str, float] | None:
        """One update on ``batch`` (in a worker thread), or None when this rank or another stops."""
        if dist.is_available() and dist.is_initialized():
            flag = torch.tensor([1.0 if stop else 0.0])
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item() > 0)
        if stop or batch is None:
            return None
        learner.set_lr(lr)
        return learner.update(batch.trajectories)

    def _account(self, batch: SampledBatch, metrics: dict[str, float]) -> None:
        n = int(batch.keys.shape[0])
        self.stats.updates += 1
        self.stats.samples += n
        self.stats.metrics = metrics
        if self.version:
            self.stats.lag = float(self.version - np.asarray(batch.policy_versions).mean())
            LAG.labels(rank=self._rank).set(self.stats.lag)
        UPDATES.labels(rank=self._rank).inc()
        SAMPLES.labels(rank=self._rank).inc(n)
        for term in ("loss", "policy_loss", "value_loss", "entropy"):
            if term in metrics:
                LOSS.labels(rank=self._rank, term=term).set(metrics[term])

    # -- publishing and checkpoints ---------------------------------------------------------------

    def _publish_in_background(self, step: int) -> None:
        """Publish ``step``'s weights unless a publication is still on its way (then this one is
        skipped: the next one carries newer weights)."""
        if self._publishing is not None and not self._publishing.done():
            return
        self._publishing = asyncio.create_task(self._publish(step))

    async def _publish(self, step: int) -> None:
        assert self.learner is not None
        network = self.learner.network
        state = {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}
        clock = time.perf_counter()
        info = await self._retry(
            lambda: self.models.publish(
                state,
                architecture=network.arch_id,
                config_json=network.config_json(),
                parent_version=self.version,
                training_step=step,
                metrics={k: v for k, v in self.stats.metrics.items() if np.isfinite(v)},
                run_id=self.config.run_name,
                publisher="learner",
                request_id=f"{self.config.run_name}:{step}:{self._nonce}",
            ),
            "publish",
        )
        self._count("publish", time.perf_counter() - clock)
        if info.state != "accepted":
            log.error("a version was rejected", extra={"version": info.version, "reason": info.status_reason})
            return
        self.version = info.version
        self._published_step = step
        self.stats.published.append(info.version)
        VERSION.labels(rank=self._rank).set(info.version)
        log.info("published", extra={"version": info.version, "step": step})

    async def _checkpoint(self, learner: Learner, store: BlobStore, train_s: float) -> None:
        extra = {"train_s": train_s, "version": self.version, "published_step": self._published_step}
        clock = time.perf_counter()
        key = await asyncio.to_thread(learner.checkpoint, store, self.config.run_name, extra)
        self._count("checkpoint", time.perf_counter() - clock)
        if key is not None:
            self.stats.checkpoints.append(key)

    async def _finish(self, learner: Learner, store: BlobStore, train_s: float) -> None:
        """Wait for a publication on its way, then checkpoint (rank 0)."""
        if self._publishing is not None:
            with contextlib.suppress(Stopped, ServiceError):
                await self._publishing
        if is_rank_zero() and learner.step > 0:
            await self._checkpoint(learner, store, train_s)
        log.info("learner stopped", extra=self._fields())

    # -- helpers ----------------------------------------------------------------------------------

    def _init_distributed(self) -> None:
        """Join torchrun's process group when the environment names one (WORLD_SIZE > 1)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world > 1 and dist.is_available() and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() and self.config.device != "cpu" else "gloo"
            dist.init_process_group(backend)
            self._owns_group = True
        if dist.is_available() and dist.is_initialized():
            self._rank = str(dist.get_rank())

    async def _retry(self, call: Any, what: str) -> Any:
        return await retry(
            call, what, self.options.backoff, self._stopping, on_retry=lambda e: self._retried(what, e)
        )

    def _retried(self, call: str, error: ServiceError) -> None:
        self.stats.retries += 1
        RETRIES.labels(rank=self._rank, call=call).inc()

    def _count(self, phase: str, seconds: float) -> None:
        self.stats.seconds[phase] += seconds
        SECONDS.labels(rank=self._rank, phase=phase).inc(seconds)

    def _fields(self) -> dict[str, Any]:
        metrics = {
            k: round(v, 4) for k, v in self.stats.metrics.items() if k in ("loss", "value_loss", "entropy")
        }
        return {
            "rank": self._rank,
            "step": self.learner.step if self.learner else 0,
            "version": self.version,
            "samples": self.stats.samples,
            "lag": round(self.stats.lag, 2),
            "retries": self.stats.retries,
            **metrics,
        }


async def _close(batches: Any) -> None:
    with contextlib.suppress(Exception):
        await batches.aclose()
