"""The experience archive: items that leave a table's memory, kept in the blob store.

When a table with ``archive`` set removes items (capacity or ``max_times``), they are buffered
here with the time they left and written, once about ``chunk_bytes`` have gathered (and at every
checkpoint and on shutdown), as one compressed chunk (``chunks``: zlib or lzma over bit-packed
bools) to the ``experiences`` bucket::

    replay/<table>/<first archived ns, 20 digits>-<last archived ns, 20 digits>-<count>.chunk

so a listing is in archive order and names say which times a chunk covers. ``load`` reads them
back, oldest first, filtered by archive time, for ``LoadArchive``. Items still in the buffer when
the process dies are lost from the archive (they had left the table anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from generals_rl.services.common.errors import Unavailable
from generals_rl.services.replay.chunks import ChunkError, decode_chunk, encode_chunk
from generals_rl.services.replay.config import Codec
from generals_rl.services.replay.items import ItemBatch, Items, Signature, select
from generals_rl.storage import BlobStore, StorageError

log = logging.getLogger(__name__)

EXPERIENCES = "experiences"
PREFIX = "replay/"


@dataclass
class _Pending:
    signature: Signature
    parts: list[tuple[Items, float]] = field(default_factory=list)
    nbytes: int = 0


def chunk_key(table: str, first: float, last: float, count: int) -> str:
    return f"{PREFIX}{table}/{int(first * 1e9):020d}-{int(last * 1e9):020d}-{count}.chunk"


def _range_of(key: str) -> tuple[float, float]:
    name = key.rsplit("/", 1)[-1]
    first, last, _ = name.split("-", 2)
    return int(first) / 1e9, int(last) / 1e9


class Archive:
    """Buffers removed items per table and writes them as chunks (module docstring);
    ``on_written(table, count)`` is told of every chunk written."""

    def __init__(
        self,
        blobs: BlobStore,
        *,
        codec: Codec = "zlib",
        chunk_bytes: int = 32 << 20,
        on_written: Callable[[str, int], None] | None = None,
    ) -> None:
        self.blobs = blobs
        self.codec = codec
        self.chunk_bytes = chunk_bytes
        self.on_written = on_written
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def add(self, table: str, signature: Signature, items: Items) -> None:
        """Buffer items that left ``table``; a full buffer is written in the background."""
        pending = self._pending.setdefault(table, _Pending(signature))
        pending.parts.append((items, time.time()))
        pending.nbytes += items.count * sum(f.nbytes for f in signature)
        if pending.nbytes >= self.chunk_bytes:
            task = asyncio.get_running_loop().create_task(self._write_in_background(table))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Write every buffer now, and wait for writes in flight."""
        await asyncio.gather(*(self._write(table) for table in list(self._pending)), *list(self._tasks))

    async def _write_in_background(self, table: str) -> None:
        with contextlib.suppress(Unavailable):  # logged; the items went back to the buffer
            await self._write(table)

    async def _write(self, table: str) -> None:
        pending = self._pending.pop(table, None)
        if pending is None or not pending.parts:
            return
        items = [it for it, _ in pending.parts]
        times = np.concatenate([np.full(it.count, at) for it, at in pending.parts])
        count = int(times.shape[0])
        key = chunk_key(table, float(times[0]), float(times[-1]), count)

        def write() -> None:
            blob = encode_chunk(
                table,
                pending.signature,
                np.concatenate([it.keys for it in items]),
                np.concatenate([it.versions for it in items]),
                np.concatenate([it.priorities for it in items]),
                np.concatenate([it.times_sampled for it in items]),
                times,
                [d for it in items for d in it.data],
                codec=self.codec,
            )
            self.blobs.put(EXPERIENCES, key, blob)

        try:
            async with self._lock:  # one chunk at a time: bounded memory, names in time order
                await asyncio.to_thread(write)
        except (StorageError, OSError) as error:
            log.error("archiving %d items of table %s failed: %s", count, table, error)
            again = self._pending.setdefault(table, _Pending(pending.signature))
            again.parts[:0] = pending.parts
            again.nbytes += pending.nbytes
            raise Unavailable(f"the archive cannot be written: {error}") from error
        if self.on_written is not None:
            self.on_written(table, count)

    async def load(
        self, table: str, *, since: float | None = None, until: float | None = None, max_items: int = 0
    ) -> list[ItemBatch]:
        """Archived items of ``table``, oldest first, archived in ``[since, until)``, at most
        ``max_items`` (0: all)."""

        def read() -> list[ItemBatch]:
            out: list[ItemBatch] = []
            left = max_items or -1
            for key in self.blobs.list(EXPERIENCES, f"{PREFIX}{table}/"):
                try:
                    first, last = _range_of(key)
                except ValueError:
                    continue
                if (since is not None and last < since) or (until is not None and first >= until):
                    continue
                try:
                    chunk = decode_chunk(self.blobs.get(EXPERIENCES, key))
                except ChunkError as error:
                    raise Unavailable(f"archive chunk {key} cannot be read: {error}") from None
                keep = np.ones(chunk.times.shape[0], bool)
                if since is not None:
                    keep &= chunk.times >= since
                if until is not None:
                    keep &= chunk.times < until
                index = np.flatnonzero(keep)
                if left >= 0:
                    index = index[:left]
                    left -= index.shape[0]
                if index.size:
                    out.append(select(chunk.batch, index))
                if left == 0:
                    break
            return out

        try:
            return await asyncio.to_thread(read)
        except (StorageError, OSError) as error:
            raise Unavailable(f"the archive cannot be read: {error}") from error
