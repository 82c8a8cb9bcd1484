"""Custom CloudWatch metrics that scale the training cluster on AWS; a no-op anywhere else.

deploy/terraform scales on three metrics in namespace ``GRL_CLOUDWATCH_NAMESPACE`` (the ECS tasks
and training instances get ``GeneralsRL``) with one dimension, ``Deployment`` =
``GRL_DEPLOYMENT`` (the deployment's name, ``generals-rl``):

- ``GameQueueLength`` (Matchmaker, gauge): games waiting for an actor, the tickets in all its
  queues. Actors scale out while it is above 0 and back to their minimum after an idle spell.
- ``ReplayBufferSize`` (Replay Service, gauge): experiences recorded and not yet sampled by a
  learner. Learners scale out above their share, and in while it stays low.
- ``ExperiencesRecorded`` (Replay Service, count per period): experiences acknowledged. With the
  buffer small and none recorded for a while, no training runs: the learners go to zero.

Without ``GRL_CLOUDWATCH_NAMESPACE`` (one machine, compose, tests) every call does nothing and
boto3 is never imported::

    metrics = CloudWatchPublisher.from_env()
    metrics.gauge("GameQueueLength", lambda: queues.waiting())   # sampled at each flush
    metrics.count("ExperiencesRecorded", len(batch))             # summed until the next flush
    task = asyncio.create_task(metrics.run())                    # flushes every period_s; cancel to stop

A failed ``PutMetricData`` is logged and dropped: metrics must never take a service down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

DIMENSION = "Deployment"
GAME_QUEUE_LENGTH = "GameQueueLength"
REPLAY_BUFFER_SIZE = "ReplayBufferSize"
EXPERIENCES_RECORDED = "ExperiencesRecorded"


class CloudWatchPublisher:
    """Gauges sampled and counters summed per period, sent in one ``PutMetricData`` call."""

    def __init__(
        self,
        namespace: str | None,
        deployment: str = "generals-rl",
        *,
        period_s: float = 60.0,
        client: Any = None,
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"period_s must be positive, got {period_s}")
        self.namespace = namespace or None
        self.deployment = deployment
        self.period_s = period_s
        self._client = client
        self._gauges: dict[str, Callable[[], float]] = {}
        self._counts: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None, **kwargs: Any) -> CloudWatchPublisher:
        """From ``GRL_CLOUDWATCH_NAMESPACE`` (unset: disabled) and ``GRL_DEPLOYMENT``."""
        env = os.environ if env is None else env
        return CloudWatchPublisher(
            env.get("GRL_CLOUDWATCH_NAMESPACE"), env.get("GRL_DEPLOYMENT") or "generals-rl", **kwargs
        )

    @property
    def enabled(self) -> bool:
        return self.namespace is not None

    def gauge(self, name: str, sample: Callable[[], float]) -> None:
        """Publish ``sample()`` at every flush (a queue length, a buffer size)."""
        if self.enabled:
            self._gauges[name] = sample

    def count(self, name: str, value: float = 1.0) -> None:
        """Add ``value`` to a counter that is sent, and reset, at the next flush (0 when idle)."""
        if self.enabled:
            with self._lock:
                self._counts[name] = self._counts.get(name, 0.0) + value

    def declare_count(self, name: str) -> None:
        """Send ``name`` as 0 in periods without counts (so 'nothing happened' is data, not silence)."""
        if self.enabled:
            with self._lock:
                self._counts.setdefault(name, 0.0)

    def flush(self) -> int:
        """Send one data point per gauge and counter; returns how many were sent."""
        if not self.enabled:
            return 0
        with self._lock:
            counts = dict(self._counts)
            self._counts = dict.fromkeys(self._counts, 0.0)
        now = datetime.now(UTC)
        dimensions = [{"Name": DIMENSION, "Value": self.deployment}]
        data = []
        for name, sample in self._gauges.items():
            try:
                value = float(sample())
            except Exception:  # one broken gauge must not stop the others
                log.exception("sampling a metric failed", extra={"metric": name})
                continue
            data.append({"MetricName": name, "Dimensions": dimensions, "Timestamp": now, "Value": value})
        for name, value in counts.items():
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Timestamp": now,
                    "Value": value,
                    "Unit": "Count",
                }
            )
        try:
            for start in range(0, len(data), 1000):  # PutMetricData's limit per call
                self._cloudwatch().put_metric_data(
                    Namespace=self.namespace, MetricData=data[start : start + 1000]
                )
        except Exception as error:  # no credentials, throttled, network: log and go on
            log.warning("publishing metrics failed: %s", error, extra={"namespace": self.namespace})
            return 0
        return len(data)

    async def run(self) -> None:
        """Flush every ``period_s`` until cancelled (then once more)."""
        if not self.enabled:
            return
        try:
            while True:
                await asyncio.sleep(self.period_s)
                await asyncio.to_thread(self.flush)
        finally:
            await asyncio.shield(asyncio.to_thread(self.flush))

    def _cloudwatch(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("cloudwatch")
        return self._client
