"""Durability of the tables: a write-ahead log and checkpoints in the ``checkpoints`` bucket.

The promise is RecordExperience's: once a stream's response is sent, its items survive a crash.
Items are inserted in memory first (learners may sample them at once); each stream also gathers
its items into **log segments** (``chunks`` format, bools bit-packed, not compressed: it is on the
hot path) written in worker threads once ``wal_segment_bytes`` gathered, and the response waits
until every segment of the stream is written. A **checkpoint** (on a timer, when the log has grown
by ``checkpoint_wal_bytes``, on request, and on shutdown) writes every table whole: its items in
compressed parts, then a manifest with its config, counters and rate-limiter state; only a
complete manifest makes a checkpoint. Blob writes are atomic (a folder's rename, an S3 PUT), so a
blob is whole or absent. Layout in the bucket::

    replay/tables/<table>.json                      each table's config, written by CreateTable
    replay/wal/<ns>-<seq>.chunk                     log segments (one table each)
    replay/snapshots/<id>/<table>-<part>.chunk      a checkpoint's items
    replay/snapshots/<id>/manifest.json             written last: the checkpoint is complete

**Restore** (on start): every table config; the newest complete checkpoint's items and state;
then, from every log segment, the items whose key is at least the table's next key in that
checkpoint (keys grow per table, so these are exactly the inserts after it), in key order. A
fresh checkpoint follows and the replayed segments are deleted. After a checkpoint, log segments
whose keys all lie below its next keys are deleted (their items are in it, or were removed before).

What a crash can cost: nothing acknowledged. Items sampled or removed after the last checkpoint
come back (their removal, sample counts and counters since then are not logged: at-least-once);
a graceful shutdown checkpoints, so a clean restart restores exactly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


LogPart = tuple[Items, "Sequence[Buffer] | None"]
"""Items logged together, with their bytes per field back to back when the caller has them."""


@dataclass
class _Segment:
    key: str
    table: str
    max_key: int


@dataclass
class WalWriter:
    """One stream's log: items gathered per table, written as segments (module docstring)."""

    durability: Durability
    _parts: dict[str, tuple[Signature, list[LogPart]]] = field(default_factory=dict)
    _bytes: int = 0
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def add(self, table: Table, items: Items, columns: Sequence[Buffer] | None = None) -> None:
        """Log items just inserted into ``table``; ``columns``, when given, are their bytes back to
        back per field (a request's buffers: no copy to gather them)."""
        if not self.durability.config.wal or items.count == 0:
            return
        assert table.signature is not None
        parts = self._parts.setdefault(table.name, (table.signature, []))[1]
        parts.append((items, columns))
        self._bytes += items.count * table.item_bytes
        if self._bytes >= self.durability.config.wal_segment_bytes:
            self._start()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        for name, (signature, parts) in self._parts.items():
            self._tasks.append(loop.create_task(self.durability.write_segment(name, signature, parts)))
        self._parts, self._bytes = {}, 0

    async def flush(self) -> None:
        """Write what is gathered and wait for every segment of the stream; ``Unavailable`` when
        one could not be written."""
        self._start()
        tasks, self._tasks = self._tasks, []
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


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
        self._seq = 0
        self._last_id = 0
        self._lock = asyncio.Lock()

    # the log

    def writer(self) -> WalWriter:
        return WalWriter(self)

    async def write_segment(self, table: str, signature: Signature, parts: list[LogPart]) -> None:
        self._seq += 1
        key = f"{WAL}{time.time_ns():020d}-{self._seq:08d}.chunk"
        now = time.time()
        # Gathered here (references only); packed, checksummed, copied and written in a thread,
        # one chunk per part (a request's columns need no gathering copy).
        prepared = [
            prepare_chunk(
                table,
                signature,
                items.keys,
                items.versions,
                items.priorities,
                np.zeros(items.count, np.int32),
                np.full(items.count, now),
                items.data,
                columns=columns,
            )
            for items, columns in parts
        ]
        top = max(int(items.keys.max()) for items, _ in parts)

        def write() -> int:
            blob = b"".join([chunk.seal() for chunk in prepared])
            self.blobs.put(CHECKPOINTS, key, blob)
            return len(blob)

        try:
            written = await asyncio.to_thread(write)
        except (StorageError, OSError) as error:
            log.error("writing a log segment of table %s failed: %s", table, error)
            raise Unavailable(f"the blob store cannot be written, items not acknowledged: {error}") from error
        self._segments.append(_Segment(key, table, top))
        self.log_bytes += written
        if self.log_bytes >= self.config.checkpoint_wal_bytes and self.on_log_full is not None:
            self.on_log_full()

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
            covered = [s for s in self._segments if s.max_key < next_keys.get(s.table, 0)]
            log_bytes = self.log_bytes
            self._last_id = max(self._last_id + 1, time.time_ns())
            folder = f"{SNAPSHOTS}{self._last_id:020d}/"
            try:
                written, items = await asyncio.to_thread(self._write_checkpoint, folder, snapshot, covered)
            except (StorageError, OSError) as error:
                log.error("a checkpoint failed: %s", error)
                raise Unavailable(f"the blob store cannot be written: {error}") from error
            done = {s.key for s in covered}
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
        segments = self.blobs.list(CHECKPOINTS, WAL)
        for key in segments:
            try:
                chunks = decode_chunks(self.blobs.get(CHECKPOINTS, key))
            except (ChunkError, NotFoundError) as error:
                log.error("log segment %s cannot be read, skipped: %s", key, error)
                continue
            for chunk in chunks:
                if chunk.table not in tables:
                    log.error(
                        "log segment %s holds table %s, whose config is missing: skipped", key, chunk.table
                    )
                    continue
                assert chunk.batch.keys is not None
                self._segments.append(_Segment(key, chunk.table, int(chunk.batch.keys.max(initial=0))))
                replayed.setdefault(chunk.table, []).append(chunk.batch)
        for name, batches in replayed.items():
            _replay(tables[name], batches)
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
