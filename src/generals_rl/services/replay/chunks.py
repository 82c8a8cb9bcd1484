"""The compact binary format of stored items: write-ahead log segments, checkpoints and archives.

One chunk holds items of one table, oldest first::

    magic  b"GRLREPL1"                      8 bytes
    codec  0 none, 1 zlib, 2 lzma           1 byte
    header length                           u32 little-endian
    body length                             u64 little-endian (chunks can follow one another)
    header                                  UTF-8 JSON: table, signature, count, and per section
                                            its stored size and layout
    crc32                                   u32 little-endian, of the header and the stored body
    body                                    compressed by the codec:
        keys int64, versions int64, priorities float64, times sampled int32, times float64
        (seconds since the epoch: when archived, or inserted), each (count,) little-endian;
        then per field of the signature the items' bytes back to back, in one of four layouts:
        ``raw``; ``bits`` (bool fields, 8 to a byte, ``numpy.packbits``); ``xbits`` (bool fields:
        each step of each item bit-packed, XORed with the item's step before, and the result,
        mostly zero bytes, stored sparse: a bit per byte of its bitmap, set where that byte is
        not 0, those bytes of the bitmap, a bit per byte, set where it is not 0, and those bytes);
        ``sparse`` (fields of 2, 4 or 8-byte elements: a bit per element, set where its bytes are
        not all zero, then those elements). ``xbits`` and ``sparse`` are chosen when smaller than
        ``bits`` and ``raw``, and only for columns of ``SMALL`` bytes or more.

Observations are mostly bool planes and masks that change little from one step to the next, and
armies are 0 on every fogged tile, so the layouts alone shrink a 24x24 trajectory of an early
game about 70x (400 KB to 6 KB) with a few vectorized numpy passes: cheap enough for the
write-ahead log, which uses no codec. Building a chunk (``PreparedChunk.seal``) holds the GIL
little (the copies, checksums and most numpy passes release it), so it runs off the event loop.
A truncated or altered chunk fails its length or crc checks and raises ``ChunkError``; chunks
written before ``xbits`` existed read as they did.
"""

from __future__ import annotations

import json
import lzma
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from generals_rl.services.replay.config import Codec
from generals_rl.services.replay.items import BOOL, FieldSpec, ItemBatch, ItemData, Signature
from generals_rl.services.replay.wire import Buffer

MAGIC = b"GRLREPL1"
CODECS: dict[str, int] = {"none": 0, "zlib": 1, "lzma": 2}
_PREAMBLE = struct.Struct("<8sBIQ")
_CRC = struct.Struct("<I")
_META = (
    ("keys", "<i8"),
    ("versions", "<i8"),
    ("priorities", "<f8"),
    ("times_sampled", "<i4"),
    ("times", "<f8"),
)
SMALL = 4096
"""Columns smaller than this many bytes are stored ``raw`` or ``bits``: not worth more passes."""
_UINTS: dict[int, np.dtype[Any]] = {2: np.dtype("<u2"), 4: np.dtype("<u4"), 8: np.dtype("<u8")}


class ChunkError(ValueError):
    """Bytes that are not a whole, intact chunk."""


@dataclass(frozen=True)
class Chunk:
    """A decoded chunk: its table, and its items as a batch (keys, versions, priorities and
    times sampled set) with one time per item."""

    table: str
    batch: ItemBatch
    times: npt.NDArray[np.float64]
    extra: dict[str, Any]


def _steps(spec: FieldSpec) -> tuple[int, int]:
    """(steps, elements per step) of one item of a field: its leading dimension is time."""
    if not spec.shape:
        return 1, 1
    return spec.shape[0], math.prod(spec.shape[1:])


def _nbytes(pieces: Sequence[Buffer]) -> int:
    return sum(memoryview(p).nbytes for p in pieces)


def _sparse(elements: npt.NDArray[np.uint8]) -> list[Buffer]:
    """Mostly-zero bytes (1-D) as: a bit per byte of their bitmap, set where that byte is not 0;
    those bytes of the bitmap (a bit per element, set where it is not 0); those elements."""
    present = elements != 0
    bitmap = np.packbits(present)
    marked = bitmap != 0
    return [np.packbits(marked).data, bitmap[marked].data, elements[present].data]


def _unsparse(name: str, part: memoryview, n: int) -> npt.NDArray[np.uint8]:
    """The ``n`` bytes ``_sparse`` stored in ``part``."""
    size = (n + 7) // 8
    marks = (size + 7) // 8
    if len(part) < marks:
        raise ChunkError(f"chunk field {name}: truncated sparse bitmap")
    marked = np.unpackbits(np.frombuffer(part[:marks], np.uint8), count=size).view(bool)
    end = marks + int(np.count_nonzero(marked))
    if len(part) < end:
        raise ChunkError(f"chunk field {name}: truncated sparse bitmap")
    bitmap = np.zeros(size, np.uint8)
    bitmap[marked] = np.frombuffer(part[marks:end], np.uint8)
    present = np.unpackbits(bitmap, count=n).view(bool)
    if len(part) - end != int(np.count_nonzero(present)):
        raise ChunkError(f"chunk field {name}: sparse values do not match their bitmap")
    elements = np.zeros(n, np.uint8)
    elements[present] = np.frombuffer(part[end:], np.uint8)
    return elements


def _store(spec: FieldSpec, column: Buffer) -> tuple[str, list[Buffer]]:
    """A column's layout and stored pieces (module docstring)."""
    size = memoryview(column).nbytes
    if spec.dtype == BOOL:
        if size >= SMALL and spec.nbytes:
            steps, per = _steps(spec)
            packed = np.packbits(np.frombuffer(column, np.uint8).reshape(-1, steps, per), axis=2)
            changes = np.empty_like(packed)
            changes[:, :1] = packed[:, :1]
            np.bitwise_xor(packed[:, 1:], packed[:, :-1], out=changes[:, 1:])
            stored = _sparse(changes.reshape(-1))
            if _nbytes(stored) < (size + 7) // 8:
                return "xbits", stored
        return "bits", [np.packbits(np.frombuffer(column, np.uint8)).data]
    uint = _UINTS.get(spec.itemsize)
    if uint is None or size < SMALL:
        return "raw", [column]
    elements = np.frombuffer(column, uint)
    present = elements != 0
    if int(np.count_nonzero(present)) * spec.itemsize + (present.size + 7) // 8 >= size:
        return "raw", [column]
    return "sparse", [np.packbits(present).data, elements[present].data]


def _load(spec: FieldSpec, layout: str, part: memoryview, count: int) -> memoryview:
    expected = spec.nbytes * count
    steps, per = _steps(spec)
    if layout == "raw":
        column = part
    elif layout == "bits":
        if len(part) != (expected + 7) // 8:
            raise ChunkError(f"chunk field {spec.name}: {len(part)} packed bytes for {expected} bools")
        column = np.unpackbits(np.frombuffer(part, np.uint8), count=expected).data
    elif layout == "xbits" and spec.dtype == BOOL:
        width = (per + 7) // 8
        changes = _unsparse(spec.name, part, count * steps * width)
        packed = np.bitwise_xor.accumulate(changes.reshape(count, steps, width), axis=1)
        column = np.unpackbits(packed, axis=2, count=per).reshape(-1).data
    elif layout == "sparse" and spec.itemsize in _UINTS:
        n = expected // spec.itemsize
        bitmap = (n + 7) // 8
        if len(part) < bitmap:
            raise ChunkError(f"chunk field {spec.name}: truncated sparse bitmap")
        present = np.unpackbits(np.frombuffer(part[:bitmap], np.uint8), count=n).view(bool)
        if len(part) - bitmap != int(np.count_nonzero(present)) * spec.itemsize:
            raise ChunkError(f"chunk field {spec.name}: sparse values do not match their bitmap")
        elements = np.zeros(n, _UINTS[spec.itemsize])
        elements[present] = np.frombuffer(part[bitmap:], _UINTS[spec.itemsize])
        column = elements.data.cast("B")
    else:
        raise ChunkError(f"chunk field {spec.name}: unknown layout {layout!r}")
    if len(column) != expected:
        raise ChunkError(f"chunk field {spec.name} has {len(column)} bytes, expected {expected}")
    return column


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk's parts gathered without copying: ``seal`` builds its bytes (in a worker thread:
    see the module docstring). Each field's bytes come from ``columns`` when given (the items'
    bytes back to back already, as in a request), else from ``data`` (one buffer per item)."""

    table: str
    signature: Signature
    meta: list[npt.NDArray[Any]]
    data: list[ItemData]
    columns: Sequence[Buffer] | None = None
    codec: Codec = "none"
    level: int = 1
    extra: dict[str, Any] | None = None

    def seal(self) -> bytes:
        """The chunk's bytes."""
        return b"".join(self.pieces())

    def pieces(self) -> list[Buffer]:
        """The chunk's bytes as pieces to write one after another (``seal`` joins them; a log
        segment joins the pieces of all its chunks at once)."""
        pieces: list[Buffer] = [a.tobytes() for a in self.meta]
        sizes = [len(p) for p in pieces]
        layouts = []
        for i, spec in enumerate(self.signature):
            column = self.columns[i] if self.columns is not None else b"".join(item[i] for item in self.data)
            layout, stored = _store(spec, column)
            layouts.append(layout)
            pieces += stored
            sizes.append(sum(memoryview(p).nbytes for p in stored))
        header = {
            "table": self.table,
            "signature": [f.to_json() for f in self.signature],
            "count": len(self.data),
            "sections": sizes,
            "layouts": layouts,
            "extra": self.extra or {},
        }
        text = json.dumps(header, separators=(",", ":")).encode()
        if self.codec == "none":
            crc = zlib.crc32(text)
            for piece in pieces:
                crc = zlib.crc32(piece, crc)
            preamble = _PREAMBLE.pack(MAGIC, CODECS[self.codec], len(text), sum(sizes))
            return [preamble, text, _CRC.pack(crc), *pieces]
        body = b"".join(pieces)
        if self.codec == "zlib":
            body = zlib.compress(body, self.level)
        else:
            body = lzma.compress(body, preset=min(self.level, 9))
        preamble = _PREAMBLE.pack(MAGIC, CODECS[self.codec], len(text), len(body))
        return [preamble, text, _CRC.pack(zlib.crc32(body, zlib.crc32(text))), body]


def prepare_chunk(
    table: str,
    signature: Signature,
    keys: npt.ArrayLike,
    versions: npt.ArrayLike,
    priorities: npt.ArrayLike,
    times_sampled: npt.ArrayLike,
    times: npt.ArrayLike,
    data: list[ItemData],
    *,
    columns: Sequence[Buffer] | None = None,
    codec: Codec = "none",
    level: int = 1,
    extra: dict[str, Any] | None = None,
) -> PreparedChunk:
    """A chunk of ``data`` (items of ``signature``; ``columns``: the same bytes per field, when
    the caller has them back to back) and their metadata, to ``seal``."""
    meta = [
        np.ascontiguousarray(a, dtype=d).reshape(-1)
        for a, (_, d) in zip((keys, versions, priorities, times_sampled, times), _META, strict=True)
    ]
    if any(a.shape[0] != len(data) for a in meta):
        raise ValueError("every metadata array needs one value per item")
    return PreparedChunk(table, signature, meta, data, columns, codec, level, extra)


def encode_chunk(*args: Any, **kwargs: Any) -> bytes:
    """The bytes of one chunk (arguments as ``prepare_chunk``)."""
    return prepare_chunk(*args, **kwargs).seal()


def decode_chunks(blob: bytes | memoryview) -> list[Chunk]:
    """Every chunk of a blob of chunks one after another; ``ChunkError`` when one is not whole."""
    view = memoryview(blob)
    chunks, offset = [], 0
    while offset < len(view):
        chunk, offset = _decode_one(view, offset)
        chunks.append(chunk)
    return chunks


def decode_chunk(blob: bytes | memoryview) -> Chunk:
    """The items of one chunk; ``ChunkError`` when it is not a whole, intact chunk."""
    view = memoryview(blob)
    chunk, end = _decode_one(view, 0)
    if end != len(view):
        raise ChunkError("trailing bytes after the chunk")
    return chunk


def _decode_one(view: memoryview, offset: int) -> tuple[Chunk, int]:
    if len(view) - offset < _PREAMBLE.size:
        raise ChunkError("too short for a chunk")
    magic, codec, header_size, body_size = _PREAMBLE.unpack_from(view, offset)
    if magic != MAGIC or codec not in CODECS.values():
        raise ChunkError("not a replay chunk (bad magic or codec)")
    start = offset + _PREAMBLE.size
    end = start + header_size + _CRC.size + body_size
    if len(view) < end:
        raise ChunkError("truncated chunk")
    header_bytes = view[start : start + header_size]
    (crc,) = _CRC.unpack_from(view, start + header_size)
    if zlib.crc32(view[start + header_size + _CRC.size : end], zlib.crc32(header_bytes)) != crc:
        raise ChunkError("chunk checksum mismatch (truncated or corrupt)")
    try:
        header = json.loads(bytes(header_bytes))
        signature = tuple(FieldSpec.from_json(f) for f in header["signature"])
        count, sizes, layouts = int(header["count"]), [int(s) for s in header["sections"]], header["layouts"]
    except (ValueError, KeyError, TypeError) as error:
        raise ChunkError(f"unreadable chunk header: {error}") from None
    stored = view[start + header_size + _CRC.size : end]
    try:
        if codec == CODECS["zlib"]:
            stored = memoryview(zlib.decompress(stored))
        elif codec == CODECS["lzma"]:
            stored = memoryview(lzma.decompress(stored))
    except (zlib.error, lzma.LZMAError) as error:
        raise ChunkError(f"chunk body does not decompress: {error}") from None
    if (
        len(sizes) != len(_META) + len(signature)
        or len(layouts) != len(signature)
        or sum(sizes) != len(stored)
    ):
        raise ChunkError("chunk sections do not add up to its body")
    parts, offset = [], 0
    for size in sizes:
        parts.append(stored[offset : offset + size])
        offset += size
    meta = [np.frombuffer(p, dtype=d) for p, (_, d) in zip(parts, _META, strict=False)]
    if any(a.shape[0] != count for a in meta):
        raise ChunkError("chunk metadata does not match its item count")
    columns = tuple(
        _load(spec, layout, part, count)
        for spec, layout, part in zip(signature, layouts, parts[len(_META) :], strict=True)
    )
    keys, versions, priorities, times_sampled, times = meta
    batch = ItemBatch(
        signature=signature,
        columns=columns,
        versions=versions.astype(np.int64),
        priorities=priorities.astype(np.float64),
        keys=keys.astype(np.int64),
        times_sampled=times_sampled.astype(np.int32),
    )
    return Chunk(str(header["table"]), batch, times.astype(np.float64), dict(header.get("extra", {}))), end
