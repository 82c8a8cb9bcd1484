"""What the distributed actor and learner share: their options, the Replay table they meet at, and
retries through service restarts.

    options = RemoteOptions(table="trajectories", publish_every=20)
    table = table_config(config, options)            # the same config on every actor and learner
    await retry(lambda: replay.create_table(table), "create table", options.backoff, stopping)

``retry`` repeats a call while it fails with a status a restart explains (UNAVAILABLE,
DEADLINE_EXCEEDED, CANCELLED, ABORTED), sleeping an exponentially growing, jittered delay between
tries ("full jitter": a uniform draw below the capped exponential, so restarted services are not
hit by every client at once), and gives up only when ``stopping`` is set. Any other error is
raised at once: it is a bug or bad input, not an outage.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from generals_rl.services.common.errors import ServiceError
from generals_rl.services.replay.config import RemoverConfig, SamplerConfig, TableConfig
from generals_rl.services.replay.ratelimiter import RateLimiterConfig
from generals_rl.training.config import TrainConfig

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,  # a server shutting down cancels the calls in flight
        grpc.StatusCode.ABORTED,
    }
)
"""Status codes a service restart (or an overloaded one) explains: worth another try."""

RECONNECT = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 2000))
"""Channel options: reconnect to a restarted service within 2 s (gRPC's own cap is 120 s). The
actor's and learner's channels also turn gRPC's own retries off (``retries=1``): ``retry`` is the
one place calls are retried, counted and logged."""


class Stopped(Exception):
    """Raised by ``retry`` when ``stopping`` is set before the call succeeded."""


@dataclass(frozen=True)
class Backoff:
    """Delays between tries: ``initial_s`` doubling (``multiplier``) up to ``max_s``, each drawn
    uniformly below that cap (full jitter)."""

    initial_s: float = 0.1
    max_s: float = 5.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s or self.multiplier < 1:
            raise ValueError(f"a backoff needs 0 < initial_s <= max_s and multiplier >= 1, got {self}")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        draw = rng or random.Random()
        cap = self.initial_s
        while True:
            yield draw.uniform(0.0, cap)
            cap = min(self.max_s, cap * self.multiplier)


SAMPLINGS = ("uniform", "queue")
"""How learners draw from the run's Replay table (``RemoteOptions.sampling``)."""


@dataclass(frozen=True)
class RemoteOptions:
    """How actors and learners use the services (``TrainConfig`` says what they train).

    Replay table (created by whoever comes first, the same config from every side):
        table: its name.
        sampling: ``uniform`` (the default, a replay buffer: any stored trajectory, the oldest
            leaving at capacity) or ``queue`` (as IMPALA's: the oldest trajectory first, removed
            once sampled ``ceil(samples_per_insert)`` times, so the learner trains on each
            trajectory as often as the serial loop does, in the order it was played). On this
            project's 60-minute CPU run the queue learned less against ``expander``, before
            actors shuffled their rollouts (docs/training-results.md).
        table_items: its capacity in trajectories (the oldest leave first).
        samples_per_insert: times each trajectory is sampled on average (the rate limiter holds
            actors back when learners lag, and learners when actors do); None: ``epochs``.
        buffer_batches: slack of the rate limiter, in learner batches.
    Actor:
        actor_id: the writer id of its chunks ('' : a new random one per actor).
        refresh_s: seconds between checks for a newer version of the policy.
        opponents_every: rollouts between draws of the past version to play (``past``
            opponents, by PFSP from the Matchmaker).
        max_pending: rollouts kept until the Replay Service acknowledges them; the actor waits
            when this many are not acknowledged yet.
        drain_s: seconds a stopping actor goes on sending what is not acknowledged (the rate
            limiter holds inserts while no learner samples); the rest is dropped.
        via_game_service: play through the Game Service's StepBatch instead of in process.
    Learner:
        batch_size: trajectories per update (0: ``minibatch`` of the config, or 32).
        publish_every: updates between versions published to the Model Service.
        sample_timeout_s: a sample stream waiting longer than this for data is reopened.
    Both:
        backoff: delays of retries through outages.
        log_every_s: seconds between structured progress lines.
        rpc_timeout_s: bound of each unary call and each stream of chunks.
    """

    table: str = "trajectories"
    sampling: str = "uniform"
    table_items: int = 2048
    samples_per_insert: float | None = None
    buffer_batches: int = 8

    actor_id: str = ""
    refresh_s: float = 5.0
    opponents_every: int = 10
    max_pending: int = 8
    drain_s: float = 10.0
    via_game_service: bool = False

    batch_size: int = 0
    publish_every: int = 20
    sample_timeout_s: float = 60.0

    backoff: Backoff = field(default_factory=Backoff)
    log_every_s: float = 10.0
    rpc_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        positive = ("table_items", "buffer_batches", "max_pending", "publish_every", "opponents_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("refresh_s", "drain_s", "sample_timeout_s", "log_every_s", "rpc_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {self.sampling!r}")
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be >= 0, got {self.batch_size}")
        if self.samples_per_insert is not None and self.samples_per_insert < 0:
            raise ValueError(f"samples_per_insert must be >= 0, got {self.samples_per_insert}")

    def learner_batch(self, config: TrainConfig) -> int:
        return self.batch_size or config.minibatch or 32


def table_config(config: TrainConfig, options: RemoteOptions) -> TableConfig:
    """The Replay table of a run: ``options.sampling``'s sampler and remover, the oldest
    trajectories leaving at capacity, T = ``unroll``, a samples-per-insert rate limiter sized by
    the learner's batch."""
    batch = options.learner_batch(config)
    ratio = float(config.epochs) if options.samples_per_insert is None else options.samples_per_insert
    if options.sampling == "queue":
        sampler, remover = SamplerConfig("fifo"), RemoverConfig("max_times_sampled", max(1, math.ceil(ratio)))
    else:
        sampler, remover = SamplerConfig("uniform"), RemoverConfig("fifo")
    return TableConfig(
        options.table,
        sampler=sampler,
        remover=remover,
        max_items=options.table_items,
        unroll_length=config.unroll,
        rate_limiter=RateLimiterConfig(
            min_size_to_sample=batch,
            samples_per_insert=ratio,
            error_buffer=max(ratio, ratio * batch * options.buffer_batches),
        ),
    )


CORE_INTERNAL = "Internal error from Core"
"""The message of an INTERNAL status made by the client's own gRPC core, not by a server: a stream
whose peer died under it (seen when a Replay Service was killed mid-stream while its actor was
stopped). An outage, unlike an INTERNAL a servicer returns."""


def retryable(error: BaseException) -> bool:
    if not isinstance(error, ServiceError):
        return False
    return error.code in RETRYABLE or (error.code is grpc.StatusCode.INTERNAL and str(error) == CORE_INTERNAL)


async def retry(
    call: Callable[[], Awaitable[T]],
    what: str,
    backoff: Backoff,
    stopping: asyncio.Event,
    *,
    on_retry: Callable[[ServiceError], None] | None = None,
) -> T:
    """``await call()`` until it succeeds, sleeping ``backoff`` delays after retryable failures
    (module docstring); ``Stopped`` once ``stopping`` is set."""
    delays = backoff.delays()
    while True:
        if stopping.is_set():
            raise Stopped(what)
        try:
            return await call()
        except ServiceError as error:
            if not retryable(error):
                raise
            if on_retry is not None:
                on_retry(error)
            delay = next(delays)
            log.warning(
                "retrying",
                extra={"call": what, "code": error.code.name, "error": str(error), "delay_s": delay},
            )
        await wait_or_stop(stopping, delay)


async def wait_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stopping`` is set; whether it is set."""
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True
