"""Durability of the tables: a write-ahead log and checkpoints in the ``checkpoints`` bucket.

The promise is RecordExperience's: once a stream's response is sent, its items survive a crash.
Items are inserted in memory first (learners may sample them at once) and logged: the event loop
only gathers references to each request's items (no copy), and a stream hands them a quarter of
``wal_segment_bytes`` at a time to the service's **log thread**, which builds their chunks
(``chunks`` format, not compressed: bools bit-packed as changes from step to step, mostly-zero
numbers sparse, all behind a crc) and writes everything it has built as one **log segment** once
``wal_segment_bytes`` of items gathered or as soon as a stream waits: at its end, the stream hands
over the rest and its response waits until the thread has written all of them (one write and one
fsync for every stream waiting then: a group commit, whose segments may hold several streams and
tables); so does a stream whose client stalls mid-stream for ``stalled_stream_log_s``, without
answering yet (what it inserted is not left unlogged in memory for as long as the client sleeps).
A stream whose items could not be written gets ``Unavailable``. A **checkpoint** (on a
timer, when the log has grown by ``checkpoint_wal_bytes``, on request, and on shutdown) writes
every table whole: its items in compressed parts, then a manifest with its config, counters and
rate-limiter state; only a complete manifest makes a checkpoint. Blob writes are atomic (a
folder's rename, an S3 PUT), so a blob is whole or absent. Layout in the bucket::

    replay/tables/<table>.json                      each table's config, written by CreateTable
    replay/wal/<ns>-<seq>.chunk                     log segments (chunks one after another)
    replay/snapshots/<id>/<table>-<part>.chunk      a checkpoint's items
    replay/snapshots/<id>/manifest.json             written last: the checkpoint is complete

**Restore** (on start): every table config; the newest complete checkpoint's items and state;
then, from every log segment, the items whose key is at least the table's next key in that
checkpoint (keys grow per table, so these are exactly the inserts after it), in key order, and
the writers' progress their chunks carry (``writers``: retries after the restart skip them). A
fresh checkpoint follows and the replayed segments are deleted. After a checkpoint, log segments
whose keys all lie below its next keys, table by table, are deleted (their items are in it, or
were removed before).

What a crash can cost: nothing acknowledged. Items sampled or removed after the last checkpoint
come back (their removal, sample counts and counters since then are not logged: at-least-once);
a graceful shutdown checkpoints, so a clean restart restores exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from generals_rl.services.common.errors import Unavailable
from generals_rl.services.replay.chunks import (
    ChunkError,
    decode_chunk,
    decode_chunks,
    encode_chunk,
    prepare_chunk,
)
from generals_rl.services.replay.config import ReplayServiceConfig, TableConfig
from generals_rl.services.replay.items import ItemBatch, Items, Signature, concat, select
from generals_rl.services.replay.tables import Table
from generals_rl.services.replay.wire import Buffer
from generals_rl.storage import BlobStore, NotFoundError, StorageError

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
TABLES = "replay/tables/"
WAL = "replay/wal/"
SNAPSHOTS = "replay/snapshots/"
MANIFEST = "manifest.json"
PART_BYTES = 64 << 20
"""A checkpoint part holds about this many bytes of items."""


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint written: where, how many items and bytes, when."""

    uri: str
    items: int
    bytes: int
    at: float


@dataclass(frozen=True)
class _Segment:
    """A log segment written: its key and, per table it holds items of, their largest key."""

    key: str
    max_keys: dict[str, int]

    def covered_by(self, next_keys: Mapping[str, int]) -> bool:
        return all(top < next_keys.get(table, 0) for table, top in self.max_keys.items())


@dataclass(eq=False)
class _Part:
    """Items one stream logs together (one chunk), and the bytes of their fields back to back
    when the caller has them (a request's buffers: no gathering copy)."""

    table: str
    signature: Signature
    items: Items
    columns: Sequence[Buffer] | None
    at: float
    nbytes: int
    extra: dict[str, Any] | None = None

    def seal(self, writer: WalWriter) -> _Sealed:
        items = self.items
        pieces = prepare_chunk(
            self.table,
            self.signature,
            items.keys,
            items.versions,
            items.priorities,
            np.zeros(items.count, np.int32),
            np.full(items.count, self.at),
            items.data,
            columns=self.columns,
            extra=self.extra,
        ).pieces()
        return _Sealed(writer, self.table, int(items.keys.max()), pieces)


@dataclass(eq=False)
class _Sealed:
    """A part's chunk, as pieces to write."""

    writer: WalWriter
    table: str
    max_key: int
    pieces: list[Buffer]


@dataclass(eq=False)
class _Batch:
    """Parts of one stream for the log's thread, and the future of a stream that waits until
    they (and all its parts before them) are written."""

    parts: list[_Part]
    writer: WalWriter
    flushed: asyncio.Future[None] | None = None


_STOP = object()
HANDOFFS = 4
"""A stream hands its items to the log's thread this many times per segment's worth."""


class WalWriter:
    """One stream's log (module docstring): ``add`` gathers the items it inserts and hands them
    to the log's thread ``1 / HANDOFFS`` of a segment's worth at a time; ``flush`` hands over the
    rest and waits until all are in the blob store."""

    def __init__(self, durability: Durability) -> None:
        self.durability = durability
        self.error: BaseException | None = None
        """Why a part of this stream could not be written (set by the log's thread)."""
        self._parts: list[_Part] = []
        self._bytes = 0
        self._handed = False

    def add(
        self,
        table: Table,
        items: Items,
        columns: Sequence[Buffer] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Log items just inserted into ``table``; ``columns``, when given, are their bytes back to
        back per field (a request's buffers: no copy to gather them); ``extra`` goes in their
        chunk's header (a writer's progress: ``writers``)."""
        if not self.durability.config.wal or items.count == 0:
            return
        assert table.signature is not None
        nbytes = items.count * table.item_bytes
        self._parts.append(_Part(table.name, table.signature, items, columns, time.time(), nbytes, extra))
        self._bytes += nbytes
        if self._bytes * HANDOFFS >= self.durability.config.wal_segment_bytes:
            self.durability.submit(_Batch(self._parts, self))
            self._parts, self._bytes, self._handed = [], 0, True

    @property
    def unflushed(self) -> bool:
        """Whether items were added since the last ``flush``."""
        return bool(self._parts) or self._handed

    async def flush(self) -> None:
        """Wait until every item added is written; ``Unavailable`` when one could not be."""
        if not self.unflushed:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.durability.submit(_Batch(self._parts, self, future))
        self._parts, self._bytes, self._handed = [], 0, False
        await future


class _LogThread:
    """The thread of a service's log (module docstring): it seals the parts handed to it and
    writes all that is sealed as one segment, then settles the streams waiting for them."""

    def __init__(self, durability: Durability) -> None:
        self.durability = durability
        self.jobs: queue.SimpleQueue[_Batch | object] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="replay-log", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sealed: list[_Sealed] = []
        nbytes = 0
        stop = False
        while not stop:
            jobs = [self.jobs.get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    jobs.append(self.jobs.get_nowait())
            waiting: list[_Batch] = []
            for job in jobs:
                if not isinstance(job, _Batch):
                    stop = True
                    continue
                for part in job.parts:
                    try:
                        sealed.append(part.seal(job.writer))
                        nbytes += part.nbytes
                    except Exception as error:  # a bug: its stream fails, the log goes on
                        log.exception("sealing a log chunk of table %s failed", part.table)
                        job.writer.error = error
                if job.flushed is not None:
                    waiting.append(job)
            if sealed and (waiting or stop or nbytes >= self.durability.config.wal_segment_bytes):
                self.durability.write_segment(sealed)
                sealed, nbytes = [], 0
            for job in waiting:
                assert job.flushed is not None
                with contextlib.suppress(RuntimeError):  # its event loop is closed: nobody waits
                    job.flushed.get_loop().call_soon_threadsafe(_settle, job.flushed, job.writer.error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(
            Unavailable(f"the blob store cannot be written, items not acknowledged: {error}")
        )


class Durability:
    """The log and the checkpoints of one service's tables (module docstring)."""

    def __init__(
        self, blobs: BlobStore, config: ReplayServiceConfig, *, on_log_full: Callable[[], None] | None = None
    ) -> None:
        self.blobs = blobs
        self.config = config
        self.on_log_full = on_log_full
        self.log_bytes = 0
        self._segments: list[_Segment] = []
        self._segments_lock = threading.Lock()
        self._seq = 0
        self._last_id = 0
        self._lock = asyncio.Lock()
        self._thread: _LogThread | None = None
        self._thread_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # the log

    def writer(self) -> WalWriter:
        return WalWriter(self)

    def submit(self, batch: _Batch) -> None:
        """Hand parts to the log's thread (started on first use)."""
        self._loop = asyncio.get_running_loop()
        with self._thread_lock:
            if self._thread is None:
                self._thread = _LogThread(self)
            self._thread.jobs.put(batch)

    async def close(self) -> None:
        """Write what the log holds and stop its thread (a later ``submit`` starts a new one)."""
        with self._thread_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.jobs.put(_STOP)
            await asyncio.to_thread(thread.thread.join)

    def write_segment(self, sealed: Sequence[_Sealed]) -> None:
        """Write sealed parts, of any streams and tables, as one log segment (in the log's writing
        thread); a part that could not be written fails its stream."""
        self._seq += 1
        key = f"{WAL}{time.time_ns():020d}-{self._seq:08d}.chunk"
        try:
            blob = b"".join([piece for part in sealed for piece in part.pieces])
            self.blobs.put(CHECKPOINTS, key, blob)
        except Exception as error:  # StorageError, OSError, or a bug: the streams fail, the log goes on
            log.error("writing a log segment failed, %d parts not acknowledged: %s", len(sealed), error)
            for part in sealed:
                part.writer.error = error
            return
        max_keys: dict[str, int] = {}
        for part in sealed:
            max_keys[part.table] = max(max_keys.get(part.table, 0), part.max_key)
        with self._segments_lock:
            self._segments.append(_Segment(key, max_keys))
            self.log_bytes += len(blob)
            full = self.log_bytes >= self.config.checkpoint_wal_bytes
        if full and self.on_log_full is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the event loop is closed
                self._loop.call_soon_threadsafe(self.on_log_full)

    # tables and checkpoints

    async def save_table(self, table: Table) -> None:
        """Record a new table's config (before CreateTable answers)."""
        blob = json.dumps({"config": table.config.to_json(), "created_at": table.created_at}).encode()
        try:
            await asyncio.to_thread(self.blobs.put, CHECKPOINTS, f"{TABLES}{table.name}.json", blob)
        except (StorageError, OSError) as error:
            raise Unavailable(f"the blob store cannot be written: {error}") from error

    async def checkpoint(self, tables: Mapping[str, Table]) -> CheckpointInfo:
        """Write every table now (module docstring); ``Unavailable`` when the store fails."""
        async with self._lock:
            snapshot = {
                name: (table.signature, table.items(), table.state()) for name, table in tables.items()
            }
            next_keys = {name: table.counters.next_key for name, table in tables.items()}
            with self._segments_lock:
                covered = [s for s in self._segments if s.covered_by(next_keys)]
                log_bytes = self.log_bytes
            self._last_id = max(self._last_id + 1, time.time_ns())
            folder = f"{SNAPSHOTS}{self._last_id:020d}/"
            try:
                written, items = await asyncio.to_thread(self._write_checkpoint, folder, snapshot, covered)
            except (StorageError, OSError) as error:
                log.error("a checkpoint failed: %s", error)
                raise Unavailable(f"the blob store cannot be written: {error}") from error
            done = {s.key for s in covered}
            with self._segments_lock:
                self._segments = [s for s in self._segments if s.key not in done]
                self.log_bytes = max(0, self.log_bytes - log_bytes)
            return CheckpointInfo(self._uri(folder + MANIFEST), items, written, time.time())

    def _write_checkpoint(
        self,
        folder: str,
        snapshot: Mapping[str, tuple[Signature | None, Items, dict[str, Any]]],
        covered: list[_Segment],
    ) -> tuple[int, int]:
        written = total = 0
        manifest: dict[str, Any] = {"at": time.time(), "tables": {}}
        for name, (signature, items, state) in snapshot.items():
            parts: list[str] = []
            if signature is not None and items.count:
                per_part = max(1, PART_BYTES // max(1, sum(f.nbytes for f in signature)))
                for start in range(0, items.count, per_part):
                    stop = min(items.count, start + per_part)
                    blob = encode_chunk(
                        name,
                        signature,
                        items.keys[start:stop],
                        items.versions[start:stop],
                        items.priorities[start:stop],
                        items.times_sampled[start:stop],
                        np.zeros(stop - start),
                        items.data[start:stop],
                        codec=self.config.checkpoint_codec,
                    )
                    key = f"{folder}{name}-{len(parts):04d}.chunk"
                    self.blobs.put(CHECKPOINTS, key, blob)
                    parts.append(key)
                    written += len(blob)
            total += items.count
            manifest["tables"][name] = {"state": state, "parts": parts, "items": items.count}
        blob = json.dumps(manifest).encode()
        self.blobs.put(CHECKPOINTS, folder + MANIFEST, blob)
        written += len(blob)
        self._prune()
        for segment in covered:
            self.blobs.delete(CHECKPOINTS, segment.key)
        return written, total

    def _prune(self) -> None:
        """Delete all but the newest ``keep_checkpoints`` complete checkpoints, and incomplete
        ones older than the newest complete one."""
        keys = self.blobs.list(CHECKPOINTS, SNAPSHOTS)
        folders = sorted({k[len(SNAPSHOTS) :].split("/", 1)[0] for k in keys})
        complete = [f for f in folders if f"{SNAPSHOTS}{f}/{MANIFEST}" in set(keys)]
        if not complete:
            return
        keep = set(complete[-self.config.keep_checkpoints :])
        newest = complete[-1]
        for key in keys:
            folder = key[len(SNAPSHOTS) :].split("/", 1)[0]
            if folder not in keep and folder < newest:
                self.blobs.delete(CHECKPOINTS, key)

    def _uri(self, key: str) -> str:
        from generals_rl.services.game.archive import blob_uri

        return blob_uri(self.blobs, CHECKPOINTS, key)

    # restore

    async def restore(
        self, make_table: Callable[[TableConfig, float], Table]
    ) -> tuple[dict[str, Table], int]:
        """The tables as the store has them (module docstring); and how many log segments were
        replayed (the caller checkpoints when there were any)."""
        try:
            return await asyncio.to_thread(self._restore, make_table)
        except (StorageError, OSError) as error:
            raise Unavailable(f"the blob store cannot be read: {error}") from error

    def _restore(self, make_table: Callable[[TableConfig, float], Table]) -> tuple[dict[str, Table], int]:
        tables: dict[str, Table] = {}
        for key in self.blobs.list(CHECKPOINTS, TABLES):
            saved = json.loads(self.blobs.get(CHECKPOINTS, key))
            config = TableConfig.from_json(saved["config"])
            tables[config.name] = make_table(config, float(saved["created_at"]))
        manifest = self._newest_manifest()
        for name, entry in (manifest or {}).get("tables", {}).items():
            table = tables.get(name)
            if table is None:
                log.error("checkpoint holds table %s, whose config is missing: skipped", name)
                continue
            for key in entry["parts"]:
                table.insert(decode_chunk(self.blobs.get(CHECKPOINTS, key)).batch, archive=False)
            table.load_state(entry["state"])
        replayed: dict[str, list[ItemBatch]] = {}
        progress: dict[str, list[dict[str, Any]]] = {}
        segments = self.blobs.list(CHECKPOINTS, WAL)
        for key in segments:
            try:
                chunks = decode_chunks(self.blobs.get(CHECKPOINTS, key))
            except (ChunkError, NotFoundError) as error:
                log.error("log segment %s cannot be read, skipped: %s", key, error)
                continue
            max_keys: dict[str, int] = {}
            for chunk in chunks:
                assert chunk.batch.keys is not None
                top = int(chunk.batch.keys.max(initial=0))
                max_keys[chunk.table] = max(max_keys.get(chunk.table, 0), top)
                if chunk.table not in tables:
                    log.error(
                        "log segment %s holds table %s, whose config is missing: skipped", key, chunk.table
                    )
                    continue
                replayed.setdefault(chunk.table, []).append(chunk.batch)
                progress.setdefault(chunk.table, []).append(chunk.extra)
            with self._segments_lock:
                self._segments.append(_Segment(key, max_keys))
        for name, batches in replayed.items():
            _replay(tables[name], batches)
            tables[name].writers.replay(progress[name])
        return tables, len(segments)

    def _newest_manifest(self) -> dict[str, Any] | None:
        keys = self.blobs.list(CHECKPOINTS, SNAPSHOTS)
        manifests = sorted(k for k in keys if k.endswith("/" + MANIFEST))
        if not manifests:
            return None
        self._last_id = int(manifests[-1][len(SNAPSHOTS) :].split("/", 1)[0])
        manifest: dict[str, Any] = json.loads(self.blobs.get(CHECKPOINTS, manifests[-1]))
        return manifest


def _replay(table: Table, batches: list[ItemBatch]) -> None:
    """Insert the logged items the table does not have yet (keys from its next key on), in key
    order (segments of concurrent streams interleave their keys)."""
    start = table.counters.next_key
    fresh = []
    for batch in batches:
        assert batch.keys is not None
        index = np.flatnonzero(batch.keys >= start)
        if index.size:
            fresh.append(select(batch, index))
    if not fresh:
        return
    merged = concat(fresh)
    assert merged.keys is not None
    inserted = table.insert(select(merged, np.argsort(merged.keys, kind="stable")), archive=False)
    table.limiter.inserts += inserted.count
