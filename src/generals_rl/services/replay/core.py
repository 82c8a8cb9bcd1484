"""The Replay Service's domain: named tables, the insert and sample flows around their rate
limiters, durability (``checkpoint``) and the archive (``archive``). No gRPC here.

    core = ReplayCore(blobs, ReplayServiceConfig())
    await core.open()                                   # restore tables, start the checkpoint timer
    await core.create_table(TableConfig("learner", unroll_length=32))
    result = await core.record(messages)                # RecordExperience wire messages
    async for sampled, signature in core.sample("learner", 32, num_batches=10):
        ...
    await core.close()                                  # checkpoint, flush the archive

Everything runs on the event loop; blob writes go to worker threads (the log's to its own).
``blobs=None`` runs without durability or archive (tests, benchmarks of the pure buffer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from generals_rl.services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    ServiceError,
    Unavailable,
)
from generals_rl.services.replay import convert
from generals_rl.services.replay.archive import Archive
from generals_rl.services.replay.checkpoint import CheckpointInfo, Durability, WalWriter
from generals_rl.services.replay.config import ReplayServiceConfig, TableConfig
from generals_rl.services.replay.items import (
    ItemBatch,
    Items,
    Sampled,
    Signature,
    check_unroll,
    concat_sampled,
)
from generals_rl.services.replay.tables import Table, TableStats
from generals_rl.services.replay.wire import Buffer, WireError, WireRecord, decode_record
from generals_rl.services.replay.writers import Tag, tag_of
from generals_rl.storage import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordResult:
    """What one RecordExperience stream inserted (all of it acknowledged)."""

    items: int
    bytes: int
    wait_s: float
    duplicates: int = 0


class ReplayCore:
    """Tables by name, and every operation of the Replay Service on them (module docstring)."""

    def __init__(
        self, blobs: BlobStore | None, config: ReplayServiceConfig | None = None, *, seed: int | None = None
    ) -> None:
        self.config = config or ReplayServiceConfig()
        self.tables: dict[str, Table] = {}
        self._seed = seed
        self.durability = Durability(blobs, self.config, on_log_full=self._log_full) if blobs else None
        self.archive = (
            Archive(
                blobs,
                codec=self.config.archive_codec,
                chunk_bytes=self.config.archive_chunk_bytes,
                on_written=self._archived,
            )
            if blobs
            else None
        )
        self._background: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._log_checkpoint: asyncio.Task[None] | None = None

    # lifecycle

    async def open(self) -> None:
        """Restore the tables from the blob store and start the checkpoint timer."""
        if self.durability is None:
            return
        self.tables, replayed = await self.durability.restore(self._make_table)
        if replayed:
            await self.checkpoint()
        if self.config.checkpoint_interval_s > 0:
            self._timer = asyncio.get_running_loop().create_task(self._checkpoint_timer())

    async def close(self) -> None:
        """Stop the timer, wait for background log writes, stop the log's thread once it has written
        all it holds, flush the archive and checkpoint."""
        for task in (self._timer, self._log_checkpoint):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ServiceError):
                    await task
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self.durability is not None:
            await self.durability.close()
            try:
                await self.checkpoint()
            except ServiceError as error:
                log.error("the checkpoint at shutdown failed: %s", error)

    def _make_table(self, config: TableConfig, created_at: float | None = None) -> Table:
        return Table(config, created_at=created_at, seed=self._seed, on_remove=self._removed)

    def _removed(self, table: Table, items: Items) -> None:
        if self.archive is not None and table.signature is not None:
            self.archive.add(table.name, table.signature, items)

    def _archived(self, name: str, count: int) -> None:
        if name in self.tables:
            self.tables[name].counters.archived += count

    # tables

    async def create_table(self, config: TableConfig) -> Table:
        """A new table, or the existing one when its config is the same; ``AlreadyExists`` when not."""
        existing = self.tables.get(config.name)
        if existing is None:
            table = self._make_table(config)
            if self.durability is not None:
                await self.durability.save_table(table)
            existing = self.tables.setdefault(config.name, table)  # a concurrent create may have won
        if existing.config != config:
            raise AlreadyExists(f"table {config.name!r} exists with a different config")
        return existing

    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            raise NotFound(
                f"unknown table {name!r}"
                + (f"; tables: {', '.join(sorted(self.tables))}" if self.tables else "")
            )
        return table

    def list_tables(self) -> list[Table]:
        return [self.tables[name] for name in sorted(self.tables)]

    def stats(self, name: str) -> TableStats:
        return self.table(name).stats()

    # inserting

    async def record(self, messages: AsyncIterable[Buffer | WireRecord]) -> RecordResult:
        """Insert the items of a stream of RecordExperience messages (wire bytes or decoded),
        each checked whole before any of it is stored, each waiting for its table's rate
        limiter; returns once every item is also in the log. The next message is being received
        while one is inserted. An error names how many items of the stream were inserted before
        the message that failed (they stay)."""
        writer = self.durability.writer() if self.durability is not None else None
        items = nbytes = duplicates = 0
        wait_s = 0.0
        stream = aiter(messages)
        receiving = asyncio.ensure_future(_next(stream))
        try:
            while True:
                try:
                    message = await self._received(receiving, writer)
                except StopAsyncIteration:
                    break
                # Receive the next message while this one is processed: started now, gRPC reads it
                # into its buffers (and lets the client send on) in its own threads meanwhile.
                receiving = asyncio.ensure_future(_next(stream))
                await asyncio.sleep(0)
                record = _decode(message)
                table = self.table(record.table)
                batch = convert.item_batch(record, table.config.unroll_length)
                table.check(batch)
                tag = tag_of(record.writer_id, record.sequence)
                waited, inserted = await self._insert(table, batch, writer, tag)
                wait_s += waited
                items += inserted
                nbytes += inserted * batch.item_bytes
                duplicates += batch.count - inserted
        except ServiceError as error:
            if writer is not None:
                with contextlib.suppress(ServiceError):
                    await writer.flush()
            raise type(error)(
                f"{error.message} ({items} items of this stream were inserted before it)"
            ) from None
        except asyncio.CancelledError:  # the client went away: log what it inserted anyway
            if writer is not None:
                self._in_background(_quietly(writer.flush()))
            raise
        finally:
            if not receiving.done():
                receiving.cancel()
            receiving.add_done_callback(_retrieve)
        if writer is not None:
            await writer.flush()
        return RecordResult(items, nbytes, wait_s, duplicates)

    async def _received(
        self, receiving: asyncio.Future[Buffer | WireRecord], writer: WalWriter | None
    ) -> Buffer | WireRecord:
        """The stream's next message; while it stalls past ``stalled_stream_log_s``, what the
        stream inserted so far is logged (a crash meanwhile keeps it)."""
        if writer is not None and writer.unflushed and not receiving.done():
            await asyncio.wait([receiving], timeout=self.config.stalled_stream_log_s)
            if not receiving.done():
                await writer.flush()
        return await receiving

    async def _insert(
        self, table: Table, batch: ItemBatch, writer: WalWriter | None, tag: Tag | None = None
    ) -> tuple[float, int]:
        """Insert a checked batch as the rate limiter lets it through, but for the items of a tagged
        message the table has already (``writers``); (seconds waited, items inserted)."""
        done = table.writers.done(tag, batch.count)
        waited, wait_s, inserted = False, 0.0, 0
        while done < batch.count:
            start = time.monotonic()
            allowed, waited = await table.limiter.acquire_inserts(batch.count - done, waited=waited)
            if waited:
                wait_s += time.monotonic() - start
            # A retry of the same message on another stream may have inserted some meanwhile.
            done = max(done, table.writers.done(tag, batch.count))
            allowed = min(allowed, batch.count - done)
            if allowed <= 0:
                break
            items = table.insert(batch, done, done + allowed)
            table.limiter.inserted(allowed)
            done += allowed
            inserted += allowed
            if tag is not None:
                table.writers.advance(tag, done)
            if writer is not None:
                extra = tag.extra(done) if tag is not None else None
                writer.add(table, items, batch.slice_columns(done - allowed, done), extra)
        return wait_s, inserted

    # sampling

    async def sample(
        self,
        name: str,
        batch_size: int,
        *,
        num_batches: int = 0,
        timeout_s: float | None = None,
        beta: float | None = None,
        learner_version: int = 0,
    ) -> AsyncIterator[tuple[Sampled, Signature]]:
        """Batches of ``batch_size`` sampled items (``num_batches`` of them, or forever when 0);
        each waits for the rate limiter at most ``timeout_s`` (None or 0: forever), else
        ``DeadlineExceeded``. Items drawn for a batch that then times out count as sampled."""
        convert.check_batch_request(batch_size, beta)
        table = self.table(name)
        sent = 0
        while num_batches == 0 or sent < num_batches:
            deadline = time.monotonic() + timeout_s if timeout_s else None
            parts: list[Sampled] = []
            got, waited = 0, False
            while got < batch_size:
                allowed, waited = await table.limiter.acquire_samples(
                    batch_size - got, deadline, waited=waited
                )
                parts.append(table.sample(allowed, beta=beta, learner_version=learner_version))
                table.limiter.sampled(allowed)
                got += allowed
            assert table.signature is not None
            yield concat_sampled(parts), table.signature
            sent += 1

    def update_priorities(
        self, name: str, keys: npt.NDArray[np.int64], priorities: npt.NDArray[np.float64]
    ) -> tuple[int, int]:
        """(updated, missing) after setting the priorities of ``keys`` still in the table."""
        return self.table(name).update_priorities(keys, priorities)

    # durability and archive

    async def checkpoint(self) -> CheckpointInfo:
        """Flush the archive and write a checkpoint of every table now."""
        if self.durability is None:
            raise Unavailable("this Replay Service runs without a blob store: nothing to checkpoint to")
        if self.archive is not None:
            await self.archive.flush()
        return await self.durability.checkpoint(self.tables)

    async def load_archive(
        self,
        name: str,
        source: str = "",
        *,
        since: float | None = None,
        until: float | None = None,
        max_items: int = 0,
    ) -> tuple[int, int]:
        """Insert archived items of ``source`` (default: the same table) into ``name``, oldest
        first, bypassing the rate limiter; (items, bytes). Logged before returning."""
        table = self.table(name)
        if self.archive is None:
            raise Unavailable("this Replay Service runs without a blob store: it has no archive")
        batches = await self.archive.load(source or name, since=since, until=until, max_items=max_items)
        for batch in batches:
            check_unroll(name, batch.signature, table.config.unroll_length)
            table.check(batch)
        writer = self.durability.writer() if self.durability is not None else None
        items = nbytes = 0
        for batch in batches:
            fresh = ItemBatch(batch.signature, batch.columns, batch.versions, batch.priorities)
            inserted = table.insert(fresh)
            if writer is not None:
                writer.add(table, inserted)
            items, nbytes = items + fresh.count, nbytes + fresh.nbytes
        table.limiter.notify()
        if writer is not None:
            await writer.flush()
        return items, nbytes

    # background work

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _log_full(self) -> None:
        if self._log_checkpoint is None or self._log_checkpoint.done():
            self._log_checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_quietly())

    async def _checkpoint_timer(self) -> None:
        while True:
            await asyncio.sleep(self.config.checkpoint_interval_s)
            await self._checkpoint_quietly()

    async def _checkpoint_quietly(self) -> None:
        try:
            await self.checkpoint()
        except ServiceError as error:
            log.error("a timed checkpoint failed: %s", error)


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except ServiceError as error:
        log.error("logging the items of a cancelled stream failed: %s", error)


async def _next(stream: AsyncIterator[Buffer | WireRecord]) -> Buffer | WireRecord:
    return await anext(stream)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a read ahead that nobody awaits as seen (its error belongs to the stream's end)."""
    if not task.cancelled():
        task.exception()


def _decode(message: Buffer | WireRecord) -> WireRecord:
    if isinstance(message, WireRecord):
        return message
    try:
        return decode_record(message)
    except WireError as error:
        raise InvalidArgument(f"malformed RecordExperienceRequest: {error}") from None
