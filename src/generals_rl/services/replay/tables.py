"""A table: a named buffer of items with a sampler, a remover, capacities and a rate limiter.

Items live in dense slots ``0 .. size - 1`` (numpy arrays of keys, policy versions, priorities
and sample counts, and a list of each item's data), so uniform sampling, statistics and priority
math are vectorized; removing an item moves the last slot into its hole. Keys grow from 1 in
insertion order, so the oldest item is the smallest key (``_order`` keeps them, skipping keys
removed meanwhile).

- **Samplers.** ``uniform``: every item 1/N. ``fifo``: the oldest item, drawn one at a time (with
  a ``max_times_sampled`` remover of 1, a queue). ``prioritized``: a ``SumTree`` over p^alpha,
  P(i) = p_i^alpha / sum_j p_j^alpha, importance weight w_i = (N P(i))^-beta / max_j w_j, so
  w_i = (P(i) / P_min)^-beta with P_min the smallest positive probability (items of priority 0
  are never drawn; when every priority is 0 the table samples uniformly).
- **Removers.** At capacity (``max_items``, or ``max_bytes`` / item size) an insert evicts the
  oldest items; ``max_times_sampled`` also removes an item once sampled that many times (an item
  drawn again in the same batch after its last allowed sample is redrawn).
- Removed items go to ``on_remove`` (the archive) when the table archives.
- ``writers`` remembers how far each writer's tagged messages got, so retries insert nothing
  twice (``writers``).

Tables are not thread-safe: the service drives them from its event loop, and the rate limiter's
waits are the only suspension points around them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from generals_rl.services.common.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from generals_rl.services.replay.config import TableConfig
from generals_rl.services.replay.items import (
    FieldSpec,
    ItemBatch,
    ItemData,
    Items,
    Sampled,
    Signature,
    check_same_signature,
    concat_items,
    select_sampled,
    signature_bytes,
)
from generals_rl.services.replay.ratelimiter import RateLimiter
from generals_rl.services.replay.sumtree import SumTree
from generals_rl.services.replay.writers import Writers

LAG_WINDOW = 1000
"""Sampled items the policy-lag statistic averages over."""


@dataclass(frozen=True)
class TableStats:
    """A table's statistics (``TableStats`` in ``replay.proto``)."""

    name: str
    size: int
    bytes: int
    inserts: int
    samples: int
    removed: int
    archived: int
    insert_waits: int
    insert_wait_s: float
    sample_waits: int
    sample_wait_s: float
    newest_version: int
    oldest_version: int
    mean_age_versions: float
    sampled_lag_versions: float
    rate_limiter_diff: float


@dataclass
class Counters:
    """What a table counts since its creation; kept in checkpoints."""

    inserts: int = 0
    samples: int = 0
    removed: int = 0
    archived: int = 0
    next_key: int = 1


class Table:
    """One named buffer (module docstring)."""

    def __init__(
        self,
        config: TableConfig,
        *,
        created_at: float | None = None,
        seed: int | None = None,
        on_remove: Callable[[Table, Items], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.created_at = time.time() if created_at is None else created_at
        self.signature: Signature | None = None
        self.item_bytes = 0
        self.counters = Counters()
        self.writers = Writers()
        self.limiter = RateLimiter(config.rate_limiter, lambda: self.size, available=self.samplable)
        self.on_remove = on_remove
        self.size = 0
        self._rng = np.random.default_rng(seed)
        self._keys = np.zeros(16, np.int64)
        self._versions = np.zeros(16, np.int64)
        self._priorities = np.zeros(16, np.float64)
        self._times = np.zeros(16, np.int32)
        self._data: list[ItemData] = []
        self._slot_of: dict[int, int] = {}
        self._order: deque[int] = deque()
        self._prioritized = config.sampler.kind == "prioritized"
        self._tree = SumTree(16) if self._prioritized else None
        self._max_priority = 0.0
        self._lags = np.zeros(LAG_WINDOW, np.float64)
        self._lag_count = 0

    # inserting

    @property
    def bytes(self) -> int:
        return self.size * self.item_bytes

    @property
    def capacity(self) -> int:
        """Items the table holds at most: ``max_items``, or fewer when ``max_bytes`` says so."""
        cap = self.config.max_items
        if self.config.max_bytes and self.item_bytes:
            cap = min(cap, self.config.max_bytes // self.item_bytes)
        return cap

    def check(self, batch: ItemBatch) -> None:
        """Raise what inserting ``batch`` would raise, changing nothing."""
        if self.signature is not None:
            check_same_signature(self.name, self.signature, batch.signature)
        if self.config.max_bytes and batch.item_bytes > self.config.max_bytes:
            raise ResourceExhausted(
                f"table {self.name!r}: one item is {batch.item_bytes} bytes, more than the table's "
                f"max_bytes {self.config.max_bytes}"
            )
        if batch.priorities is not None:
            check_priorities(batch.priorities)

    def insert(
        self, batch: ItemBatch, start: int = 0, stop: int | None = None, *, archive: bool = True
    ) -> Items:
        """Insert items ``start .. stop`` of ``batch`` (checked first), evicting the oldest items
        at capacity; keys come from the batch when it has them (restores), else are new. Returns
        the items as inserted (keys, priorities resolved), for the log."""
        stop = batch.count if stop is None else stop
        self.check(batch)
        if self.signature is None:
            self.signature, self.item_bytes = batch.signature, signature_bytes(batch.signature)
        pieces: list[Items] = []
        done = start
        while done < stop:
            piece = min(stop - done, self.capacity)
            excess = self.size + piece - self.capacity
            if excess > 0:
                self._remove(self._oldest(excess), archive=archive)
            pieces.append(self._append(batch, done, done + piece))
            done += piece
        self.counters.inserts += stop - start
        return pieces[0] if len(pieces) == 1 else concat_items(pieces)

    def _append(self, batch: ItemBatch, start: int, stop: int) -> Items:
        m = stop - start
        self._reserve(self.size + m)
        slots = np.arange(self.size, self.size + m)
        if batch.keys is not None:
            keys = batch.keys[start:stop].astype(np.int64)
            self.counters.next_key = max(self.counters.next_key, int(keys.max()) + 1)
        else:
            keys = np.arange(self.counters.next_key, self.counters.next_key + m, dtype=np.int64)
            self.counters.next_key += m
        if batch.priorities is not None:
            priorities = batch.priorities[start:stop].astype(np.float64)
            self._max_priority = max(self._max_priority, float(priorities.max()))
        else:
            priorities = np.full(m, self.default_priority)
        times = np.zeros(m, np.int32) if batch.times_sampled is None else batch.times_sampled[start:stop]
        versions = batch.versions[start:stop]
        data = batch.items(start, stop)
        self._keys[slots] = keys
        self._versions[slots] = versions
        self._priorities[slots] = priorities
        self._times[slots] = times
        self._data.extend(data)
        for key, slot in zip(keys.tolist(), slots.tolist(), strict=True):
            self._slot_of[key] = slot
        self._order.extend(keys.tolist())
        if self._tree is not None:
            self._tree.update(slots, self._weighted(priorities))
        self.size += m
        return Items(keys, versions.astype(np.int64), priorities, times.astype(np.int32), data)

    @property
    def default_priority(self) -> float:
        """The priority of an item inserted without one."""
        given = self.config.sampler.default_priority
        if given > 0:
            return given
        return self._max_priority if self._max_priority > 0 else 1.0

    def _weighted(self, priorities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.power(priorities, self.config.sampler.alpha)

    def _reserve(self, n: int) -> None:
        if n <= self._keys.shape[0]:
            return
        size = self._keys.shape[0]
        while size < n:
            size *= 2
        for name in ("_keys", "_versions", "_priorities", "_times"):
            old = getattr(self, name)
            new = np.zeros(size, old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    # removing

    def _oldest(self, k: int) -> list[int]:
        """Slots of the ``k`` oldest items."""
        slots: list[int] = []
        while len(slots) < k:
            key = self._order.popleft()
            slot = self._slot_of.get(key)
            if slot is not None:
                slots.append(slot)
        self._order.extendleft(reversed([int(self._keys[s]) for s in slots]))
        return slots

    def _take(self, slots: npt.ArrayLike) -> Items:
        index = np.asarray(slots, dtype=np.int64)
        return Items(
            keys=self._keys[index].copy(),
            versions=self._versions[index].copy(),
            priorities=self._priorities[index].copy(),
            times_sampled=self._times[index].copy(),
            data=[self._data[s] for s in index.tolist()],
        )

    def _remove(self, slots: list[int], *, archive: bool = True) -> None:
        slots = sorted(set(slots))
        if not slots:
            return
        removed = self._take(slots)
        moved: list[int] = []
        for slot in reversed(slots):
            last = self.size - 1
            del self._slot_of[int(self._keys[slot])]
            if slot != last:
                for array in (self._keys, self._versions, self._priorities, self._times):
                    array[slot] = array[last]
                self._data[slot] = self._data[last]
                self._slot_of[int(self._keys[slot])] = slot
                moved.append(slot)
            self._data.pop()
            self.size -= 1
        if self._tree is not None:
            kept = [s for s in moved if s < self.size]
            self._tree.update(kept, self._weighted(self._priorities[kept]))
            self._tree.update(np.arange(self.size, self.size + len(slots)), 0.0)
        if len(self._order) > 2 * self.size + 64:  # drop the keys of items removed out of order
            self._order = deque(k for k in self._order if k in self._slot_of)
        self.counters.removed += removed.count
        if archive and self.config.archive and self.on_remove is not None:
            self.on_remove(self, removed)
        self.limiter.notify()

    # sampling

    def sample(self, m: int, *, beta: float | None = None, learner_version: int = 0) -> Sampled:
        """Draw ``m`` items (1 <= m <= size) by the table's sampler, count the samples, remove
        the items that reached ``max_times``. The rate limiter is the caller's business."""
        if m < 1 or m > self.samplable():
            raise FailedPrecondition(f"table {self.name!r}: cannot draw {m} items now")
        beta = self.config.sampler.beta if beta is None else beta
        table_size = self.size
        if self.config.sampler.kind == "fifo":
            parts = [self._draw_fifo() for _ in range(m)]
        else:
            parts = [self._draw(m, beta)]
            limit = self._max_times
            if limit:
                parts = self._enforce_max_times(parts[0], beta, limit)
        items = concat_items([p.items for p in parts])
        self.counters.samples += m
        if learner_version:
            self._record_lags(learner_version - items.versions)
        return Sampled(
            items=items,
            probabilities=np.concatenate([p.probabilities for p in parts]),
            weights=np.concatenate([p.weights for p in parts]),
            table_size=table_size,
        )

    def samplable(self) -> int:
        """How many samples the items now in the table can give (without ``max_times``: any
        number when the table holds an item)."""
        limit = self._max_times
        if not limit:
            return 1 << 62 if self.size else 0
        return int((limit - self._times[: self.size].astype(np.int64)).sum())

    @property
    def _max_times(self) -> int:
        remover = self.config.remover
        return remover.max_times if remover.kind == "max_times_sampled" else 0

    def _draw(self, m: int, beta: float) -> Sampled:
        """``m`` independent draws (uniform or prioritized), counted, nothing removed."""
        n = self.size
        tree = self._tree
        if tree is None or tree.total <= 0:
            slots = self._rng.integers(0, n, m)
            probabilities = np.full(m, 1.0 / n)
            weights = np.ones(m, np.float32)
        else:
            total = tree.total
            slots = tree.sample(self._rng.random(m) * total)
            mass = tree.get(slots)
            probabilities = mass / total
            leaves = tree.leaves(n)
            smallest = float(leaves[leaves > 0].min()) / total
            weights = np.power(probabilities / smallest, -beta).astype(np.float32)
        np.add.at(self._times, slots, 1)
        items = self._take(slots)
        # An item drawn twice in one draw: each copy reports the count after its own sample.
        order = np.argsort(slots, kind="stable")
        sorted_slots = slots[order]
        first = np.searchsorted(sorted_slots, sorted_slots, side="left")
        seen_after = np.arange(m) - first  # 0 for the first copy, 1 for the second, ...
        last = np.searchsorted(sorted_slots, sorted_slots, side="right") - 1 - first
        times = items.times_sampled.copy()
        times[order] = items.times_sampled[order] - (last - seen_after)
        items = Items(items.keys, items.versions, items.priorities, times, items.data)
        return Sampled(items, probabilities, weights, n)

    def _enforce_max_times(self, drawn: Sampled, beta: float, limit: int) -> list[Sampled]:
        """Remove items that reached ``limit``; redraw the copies drawn past it."""
        parts: list[Sampled] = []
        while True:
            over = drawn.items.times_sampled > limit
            keep = ~over
            parts.append(select_sampled(drawn, keep))
            over_slots = [self._slot_of[int(k)] for k in drawn.items.keys[over]]
            np.subtract.at(self._times, np.asarray(over_slots, np.int64), 1)
            done = {int(k) for k in drawn.items.keys[drawn.items.times_sampled >= limit]}
            done_slots = [self._slot_of[k] for k in done if k in self._slot_of]
            self._remove(done_slots)
            redraw = int(over.sum())
            if redraw == 0:
                return parts
            drawn = self._draw(redraw, beta)

    def _draw_fifo(self) -> Sampled:
        slot = self._oldest(1)[0]
        self._times[slot] += 1
        items = self._take([slot])
        limit = self._max_times
        if limit and int(self._times[slot]) >= limit:
            self._remove([slot])
        return Sampled(items, np.ones(1), np.ones(1, np.float32), self.size)

    def _record_lags(self, lags: npt.NDArray[np.int64]) -> None:
        lags = lags[-LAG_WINDOW:]
        start = self._lag_count % LAG_WINDOW
        index = (start + np.arange(lags.shape[0])) % LAG_WINDOW
        self._lags[index] = lags
        self._lag_count += lags.shape[0]

    # priorities and statistics

    def update_priorities(
        self, keys: npt.NDArray[np.int64], priorities: npt.NDArray[np.float64]
    ) -> tuple[int, int]:
        """Set the priorities of the keys still in the table; (updated, missing)."""
        if not self._prioritized:
            raise FailedPrecondition(
                f"table {self.name!r} samples {self.config.sampler.kind}, not prioritized: "
                "it has no priorities"
            )
        if keys.shape != priorities.shape:
            raise InvalidArgument(f"{keys.shape[0]} keys but {priorities.shape[0]} priorities")
        check_priorities(priorities)
        found = [(self._slot_of.get(int(k), -1), i) for i, k in enumerate(keys.tolist())]
        hits = [(slot, i) for slot, i in found if slot >= 0]
        if hits:
            slots = np.asarray([s for s, _ in hits], np.int64)
            values = priorities[np.asarray([i for _, i in hits], np.int64)]
            self._priorities[slots] = values
            assert self._tree is not None
            self._tree.update(slots, self._weighted(values))
            self._max_priority = max(self._max_priority, float(values.max()))
        return len(hits), len(found) - len(hits)

    def stats(self) -> TableStats:
        n = self.size
        versions = self._versions[:n]
        newest = int(versions.max()) if n else 0
        oldest = int(versions.min()) if n else 0
        lags = self._lags[: min(self._lag_count, LAG_WINDOW)]
        return TableStats(
            name=self.name,
            size=n,
            bytes=self.bytes,
            inserts=self.counters.inserts,
            samples=self.counters.samples,
            removed=self.counters.removed,
            archived=self.counters.archived,
            insert_waits=self.limiter.insert_waits.waits,
            insert_wait_s=self.limiter.insert_waits.wait_s,
            sample_waits=self.limiter.sample_waits.waits,
            sample_wait_s=self.limiter.sample_waits.wait_s,
            newest_version=newest,
            oldest_version=oldest,
            mean_age_versions=float(newest - versions.mean()) if n else 0.0,
            sampled_lag_versions=float(lags.mean()) if lags.size else 0.0,
            rate_limiter_diff=self.limiter.diff,
        )

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps of the table besides its items (JSON-ready)."""
        return {
            "created_at": self.created_at,
            "signature": None if self.signature is None else [f.to_json() for f in self.signature],
            "counters": vars(self.counters).copy(),
            "limiter": {"inserts": self.limiter.inserts, "samples": self.limiter.samples},
            "waits": {
                "insert": [self.limiter.insert_waits.waits, self.limiter.insert_waits.wait_s],
                "sample": [self.limiter.sample_waits.waits, self.limiter.sample_waits.wait_s],
            },
            "max_priority": self._max_priority,
            "lags": self._lags[: min(self._lag_count, LAG_WINDOW)].tolist(),
            "lag_count": self._lag_count,
            "writers": self.writers.to_json(),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Take back what ``state`` gave (after the checkpoint's items were inserted)."""
        self.created_at = float(state["created_at"])
        if state["signature"] is not None:
            self.signature = tuple(FieldSpec.from_json(f) for f in state["signature"])
            self.item_bytes = signature_bytes(self.signature)
        self.counters = Counters(**state["counters"])
        self.limiter.inserts = int(state["limiter"]["inserts"])
        self.limiter.samples = int(state["limiter"]["samples"])
        for side, stats in (("insert", self.limiter.insert_waits), ("sample", self.limiter.sample_waits)):
            stats.waits, stats.wait_s = int(state["waits"][side][0]), float(state["waits"][side][1])
        self._max_priority = float(state["max_priority"])
        lags = np.asarray(state["lags"], np.float64)
        self._lags[: lags.shape[0]] = lags
        self._lag_count = int(state["lag_count"])
        self.writers.load_json(state.get("writers", ()))

    def items(self) -> Items:
        """Every item, oldest first (checkpoints)."""
        slots = np.argsort(self._keys[: self.size], kind="stable")
        return self._take(slots)

    def __contains__(self, key: int) -> bool:
        return key in self._slot_of


def check_priorities(priorities: npt.NDArray[np.float64]) -> None:
    if priorities.size and (not np.all(np.isfinite(priorities)) or priorities.min() < 0):
        raise InvalidArgument("priorities must be finite and >= 0")
