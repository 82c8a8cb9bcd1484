"""Fused mode (``grl train --fused``): engine, inference and learning on one device with no RPC in
the hot loop, still publishing versions to the Model Service and results to the Elo Service.

The serial loop (``serial.train``) runs in a worker thread; its ``on_iteration`` hook hands the
weights to the event loop every ``publish_every`` updates, which publishes them in the background
(a publication still on its way makes the hook skip the next one: the one after carries newer
weights). The loop's own evaluations against the bots are reported to the Elo Service as games of
``model:<latest version>`` against ``bot:<name>``, so the dashboard and the gateway see them beside
the evaluator's. SIGTERM (``grl train`` stopping, or Ctrl-C when run alone) ends the loop after the
iteration in progress, with a checkpoint and a last version.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np

from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import ServiceError
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.domain import GameReport, PlayerRef, SeatResult
from generals_rl.services.model.client import ModelClient
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig
from generals_rl.training.remote import RemoteOptions, Stopped, retry
from generals_rl.training.serial import Evaluation, Progress, TrainResult, train

log = logging.getLogger(__name__)


class FusedRun:
    """One fused run: ``await run()`` trains until the budget or ``stop()``."""

    def __init__(self, config: TrainConfig, settings: Settings, options: RemoteOptions | None = None) -> None:
        self.config = config
        self.settings = settings
        self.options = options or RemoteOptions()
        self.version = 0
        self.published: list[int] = []
        self._stopping = threading.Event()
        self._stop_async = asyncio.Event()
        self._publishing: concurrent.futures.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nonce = uuid.uuid4().hex[:8]
        self._last_step = -1
        self._last_progress: Progress | None = None  # of the latest iteration
        self._published: Progress | None = None  # of the latest publication

    def stop(self) -> None:
        self._stopping.set()
        self._stop_async.set()

    async def run(self) -> TrainResult:
        """Train (in a worker thread) and publish; a last version and checkpoint at the end."""
        self._loop = asyncio.get_running_loop()
        checkpoints = self.config.checkpoint_uri or self.settings.blob_uri
        config = dataclasses.replace(self.config, checkpoint_uri=checkpoints)
        async with (
            channel(self.settings.address("model")) as model_channel,
            channel(self.settings.address("elo")) as elo_channel,
        ):
            self.models = ModelClient(model_channel, timeout_s=self.options.rpc_timeout_s)
            self.elo = EloClient(elo_channel, timeout_s=self.options.rpc_timeout_s)
            result = await asyncio.to_thread(train, config, on_iteration=self._on_iteration)
            if self._publishing is not None:
                with contextlib.suppress(Stopped, ServiceError):
                    await asyncio.wrap_future(self._publishing)
            if result.updates != self._last_step:
                last = self._last_progress
                metrics = self._metrics(last) if last is not None else {}
                with contextlib.suppress(Stopped, ServiceError):
                    await self._publish(_weights(result.network), result.updates, metrics)
        return result

    # -- called from the training thread ----------------------------------------------------------

    def _on_iteration(self, progress: Progress) -> bool:
        assert self._loop is not None
        self._last_progress = progress
        step = progress.learner.step
        due = step // self.options.publish_every > max(self._last_step, 0) // self.options.publish_every
        if (due or self._last_step < 0) and (self._publishing is None or self._publishing.done()):
            weights = _weights(progress.learner.network)
            metrics = self._metrics(progress)
            self._last_step = step
            work = self._publish_and_report(weights, step, metrics, progress.evaluations)
            self._publishing = asyncio.run_coroutine_threadsafe(work, self._loop)
        elif progress.evaluations and self.version:
            asyncio.run_coroutine_threadsafe(self._report(progress.evaluations, self.version), self._loop)
        return self._stopping.is_set()

    def _metrics(self, progress: Progress) -> dict[str, float]:
        """What a version is published with: the iteration's losses, and the counters and rates (per
        training second, since the previous publication; the dashboard reads them from here, as
        fused mode has no Replay Service)."""
        out = {k: v for k, v in progress.metrics.items() if np.isfinite(v)}
        out.update(env_steps=float(progress.env_steps), samples=float(progress.samples))
        last, self._published = self._published, progress
        if last is not None and progress.train_s > last.train_s:
            span = progress.train_s - last.train_s
            out["env_steps_per_s"] = (progress.env_steps - last.env_steps) / span
            out["samples_per_s"] = (progress.samples - last.samples) / span
        return out

    # -- on the event loop --------------------------------------------------------------------------

    async def _publish_and_report(
        self,
        weights: dict[str, Any],
        step: int,
        metrics: dict[str, float],
        evaluations: tuple[Evaluation, ...],
    ) -> None:
        with contextlib.suppress(Stopped):
            await self._publish(weights, step, metrics)
        if evaluations and self.version:
            await self._report(evaluations, self.version)

    async def _publish(self, weights: dict[str, Any], step: int, metrics: dict[str, float]) -> None:
        info = await retry(
            lambda: self.models.publish(
                weights,
                architecture=self.config.arch,
                config_json=_json(self.config.network_config()),
                parent_version=self.version,
                training_step=step,
                metrics=metrics,
                run_id=self.config.run_name,
                publisher="fused",
                request_id=f"{self.config.run_name}:{step}:{self._nonce}",
            ),
            "publish",
            self.options.backoff,
            self._stop_async,
        )
        if info.state != "accepted":
            log.error("a version was rejected", extra={"version": info.version, "reason": info.status_reason})
            return
        self.version = info.version
        self.published.append(info.version)
        log.info("published", extra={"version": info.version, "step": step})

    async def _report(self, evaluations: tuple[Evaluation, ...], version: int) -> None:
        """The loop's evaluation games as Elo results of ``model:<version>`` vs ``bot:<name>``."""
        now = datetime.now(UTC)
        for point in evaluations:
            for index in range(point.games):
                won, drawn = index < point.wins, point.wins <= index < point.wins + point.draws
                outcomes = ("draw", "draw") if drawn else (("win", "loss") if won else ("loss", "win"))
                places = (1, 1) if drawn else ((1, 2) if won else (2, 1))
                report = GameReport(
                    game_id=f"fused-{self.config.run_name}-v{version}-{point.opponent}-{point.updates}-{index}",
                    mode="1v1",
                    players=(
                        SeatResult(PlayerRef("model", str(version)), 0, outcomes[0], places[0]),
                        SeatResult(PlayerRef("bot", point.opponent), 1, outcomes[1], places[1]),
                    ),
                    reason="tick_limit" if drawn else "general_captured",
                    ended_at=now,
                )
                try:
                    await self.elo.report_result(report)
                except ServiceError as error:
                    log.warning("an evaluation result was not reported", extra={"error": str(error)})
                    return


async def run_fused(
    config: TrainConfig, settings: Settings, options: RemoteOptions | None = None
) -> TrainResult:
    """A ``FusedRun`` until its budget or SIGTERM."""
    run = FusedRun(config, settings, options)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(__import__("signal").SIGTERM, run.stop)
    started = time.monotonic()
    result = await run.run()
    log.info(
        "fused run finished",
        extra={
            "updates": result.updates,
            "env_steps": result.env_steps,
            "wall_s": time.monotonic() - started,
        },
    )
    return result


def _weights(network: Any) -> dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, sort_keys=True)
