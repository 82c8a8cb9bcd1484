"""The samples-per-insert rate limiter of a table, as DeepMind Reverb's ``SampleToInsertRatio``.

With ``inserts`` items inserted and ``samples`` items sampled through the limiter, and
``diff = inserts * samples_per_insert - samples``:

- inserting one more item is allowed while ``inserts + 1 <= min_size_to_sample`` or while
  ``diff + samples_per_insert <= samples_per_insert * min_size_to_sample + error_buffer``;
- sampling one more item is allowed while the table holds at least ``min_size_to_sample``
  items and ``diff - 1 >= samples_per_insert * min_size_to_sample - error_buffer``.

``samples_per_insert = 0`` turns the ratio off: only the minimum size holds samples back.

Like Reverb, the limiter admits items one by one, not whole requests: ``allow_inserts(k)`` and
``allow_samples(k)`` say how many of ``k`` items may go now (so a message of many trajectories or
a large batch can never wait for a window wider than the error buffer). ``acquire_inserts`` and
``acquire_samples`` wait (``asyncio``) until at least one item may go and return how many; a
wait past its deadline raises ``DeadlineExceeded``. The caller then does the work and reports it
with ``inserted`` / ``sampled``, which wake the other side. The limiter counts waits and the
seconds spent waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from generals_rl.services.common.errors import DeadlineExceeded, InvalidArgument

_SLACK = 1e-9  # tolerance for float rounding in the ratio comparisons


@dataclass(frozen=True)
class RateLimiterConfig:
    """A table's rate limiter (module docstring); ``min_size_to_sample`` 0 means 1."""

    min_size_to_sample: int = 1
    samples_per_insert: float = 0.0
    error_buffer: float = 0.0

    def __post_init__(self) -> None:
        if self.min_size_to_sample < 0:
            raise InvalidArgument("min_size_to_sample must be >= 0")
        if not math.isfinite(self.samples_per_insert) or self.samples_per_insert < 0:
            raise InvalidArgument(f"samples_per_insert must be >= 0, got {self.samples_per_insert}")
        if not math.isfinite(self.error_buffer) or self.error_buffer < 0:
            raise InvalidArgument(f"error_buffer must be >= 0, got {self.error_buffer}")
        if self.samples_per_insert > 0 and self.error_buffer < self.samples_per_insert:
            raise InvalidArgument(
                f"error_buffer ({self.error_buffer}) must be at least samples_per_insert "
                f"({self.samples_per_insert}) when the ratio is on, else nothing could be inserted"
            )

    @property
    def min_size(self) -> int:
        return max(1, self.min_size_to_sample)


@dataclass
class WaitStats:
    """How often, and how long, one side waited."""

    waits: int = 0
    wait_s: float = 0.0


class RateLimiter:
    """Admits inserts and samples of one table (module docstring); ``size`` reads the table's
    size, ``available`` how many samples its items can give (``max_times``)."""

    def __init__(
        self,
        config: RateLimiterConfig,
        size: Callable[[], int],
        *,
        available: Callable[[], int] | None = None,
        inserts: int = 0,
        samples: int = 0,
    ) -> None:
        self.config = config
        self._size = size
        self._available = available
        self.inserts = inserts
        self.samples = samples
        self.insert_waits = WaitStats()
        self.sample_waits = WaitStats()
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def diff(self) -> float:
        """``inserts * samples_per_insert - samples``."""
        return self.inserts * self.config.samples_per_insert - self.samples

    def allow_inserts(self, k: int) -> int:
        """How many of ``k`` items may be inserted now."""
        c = self.config
        by_size = c.min_size - self.inserts
        if c.samples_per_insert <= 0:
            return k
        room = c.samples_per_insert * c.min_size + c.error_buffer - self.diff
        by_ratio = math.floor(room / c.samples_per_insert + _SLACK)
        return max(0, min(k, max(by_size, by_ratio)))

    def allow_samples(self, k: int) -> int:
        """How many of ``k`` items may be sampled now (never more than ``available()``: what the
        table's items can still give, with a ``max_times`` remover)."""
        c = self.config
        if self._size() < c.min_size:
            return 0
        if self._available is not None:
            k = min(k, self._available())
        if c.samples_per_insert <= 0:
            return max(0, k)
        room = self.diff - (c.samples_per_insert * c.min_size - c.error_buffer)
        return max(0, min(k, math.floor(room + _SLACK)))

    def inserted(self, k: int) -> None:
        """``k`` items were inserted: count them and wake waiting samplers."""
        self.inserts += k
        self.notify()

    def sampled(self, k: int) -> None:
        """``k`` items were sampled: count them and wake waiting inserters."""
        self.samples += k
        self.notify()

    def notify(self) -> None:
        """Wake every waiter to check again (the table's size changed, or the counts did)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def acquire_inserts(
        self, k: int, deadline: float | None = None, *, waited: bool = False
    ) -> tuple[int, bool]:
        """Wait until at least one of ``k`` items may be inserted; (how many may, whether this or an
        earlier call for the same request waited). ``deadline`` is a ``time.monotonic()`` instant
        (None: wait forever); ``waited`` says an earlier part of the request waited already, so the
        request counts as one wait."""
        return await self._acquire(self.allow_inserts, k, deadline, self.insert_waits, waited, "insert")

    async def acquire_samples(
        self, k: int, deadline: float | None = None, *, waited: bool = False
    ) -> tuple[int, bool]:
        """As ``acquire_inserts``, for samples."""
        return await self._acquire(self.allow_samples, k, deadline, self.sample_waits, waited, "sample")

    async def _acquire(
        self,
        allow: Callable[[int], int],
        k: int,
        deadline: float | None,
        stats: WaitStats,
        waited: bool,
        what: str,
    ) -> tuple[int, bool]:
        allowed = allow(k)
        if allowed > 0:
            return allowed, waited
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        if not waited:
            stats.waits += 1
        try:
            timeout = None if deadline is None else max(0.0, deadline - start)
            async with asyncio.timeout(timeout):
                while (allowed := allow(k)) <= 0:
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._waiters.append(waiter)
                    await waiter
            return allowed, True
        except TimeoutError:
            raise DeadlineExceeded(
                f"the rate limiter held this {what} back longer than the timeout "
                f"(size {self._size()}, inserts {self.inserts}, samples {self.samples}, "
                f"diff {self.diff:g})"
            ) from None
        finally:
            stats.wait_s += time.monotonic() - start
