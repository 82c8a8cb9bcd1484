"""The compact binary format of stored items: write-ahead log segments, checkpoints and archives.

One chunk holds items of one table, oldest first::

    magic  b"GRLREPL1"                      8 bytes
    codec  0 none, 1 zlib, 2 lzma           1 byte
    header length                           u32 little-endian
    header                                  UTF-8 JSON: table, signature, count, section sizes,
                                            whether each field is bit-packed
    body crc32                              u32 little-endian, of the stored (compressed) body
    body                                    compressed by the codec:
        keys int64, versions int64, priorities float64, times sampled int32, times float64
        (seconds since the epoch: when archived, or inserted), each (count,) little-endian;
        then per field of the signature, the items' bytes back to back, bool fields packed
        8 to a byte, each item on its own, padded to whole bytes (``numpy.packbits``:
        observations are mostly bool planes and masks, so this alone shrinks a 24x24
        trajectory about 3.5x for almost no CPU). The body is built with one copy.

A truncated or altered chunk fails its length or crc checks and raises ``ChunkError``.
"""

from __future__ import annotations

import json
import lzma
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from generals_rl.services.replay.config import Codec
from generals_rl.services.replay.items import BOOL, FieldSpec, ItemBatch, ItemData, Signature
from generals_rl.services.replay.wire import Buffer

MAGIC = b"GRLREPL1"
CODECS: dict[str, int] = {"none": 0, "zlib": 1, "lzma": 2}
_PREAMBLE = struct.Struct("<8sBI")
_CRC = struct.Struct("<I")
_META = (
    ("keys", "<i8"),
    ("versions", "<i8"),
    ("priorities", "<f8"),
    ("times_sampled", "<i4"),
    ("times", "<f8"),
)


def _nbytes(part: Buffer) -> int:
    return part.nbytes if isinstance(part, memoryview) else len(part)


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


@dataclass(frozen=True)
class PreparedChunk:
    """An uncompressed chunk before its checksum and final copy: ``seal`` does both, without
    holding the GIL for long (``zlib.crc32`` and a large ``bytes.join`` release it), so a worker
    thread can seal while the event loop goes on."""

    header: bytes
    pieces: list[Buffer]

    def seal(self) -> bytes:
        crc = 0
        for piece in self.pieces:
            crc = zlib.crc32(piece, crc)
        return b"".join([self.header, _CRC.pack(crc), *self.pieces])


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
    codec: Codec = "none",
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Buffer]]:
    """The header fields and the body's pieces of a chunk (views of the items' data, bool fields
    packed): no copy of the data yet."""
    count = len(data)
    meta = [
        np.ascontiguousarray(a, dtype=d).reshape(-1)
        for a, (_, d) in zip((keys, versions, priorities, times_sampled, times), _META, strict=True)
    ]
    if any(a.shape[0] != count for a in meta):
        raise ValueError("every metadata array needs one value per item")
    sections: list[list[Buffer]] = [[a.tobytes()] for a in meta]
    packed = []
    for i, spec in enumerate(signature):
        if spec.dtype == BOOL:  # each item packed on its own (padded to a byte): no join first
            sections.append([np.packbits(np.frombuffer(item[i], np.uint8)).data for item in data])
        else:
            sections.append([item[i] for item in data])
        packed.append(spec.dtype == BOOL)
    header = {
        "table": table,
        "signature": [f.to_json() for f in signature],
        "count": count,
        "sections": [sum(_nbytes(p) for p in section) for section in sections],
        "packed": packed,
        "extra": extra or {},
    }
    return header, [p for section in sections for p in section]


def _preamble(codec: Codec, header: dict[str, Any]) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode()
    return _PREAMBLE.pack(MAGIC, CODECS[codec], len(text)) + text


def prepared_chunk(*args: Any, **kwargs: Any) -> PreparedChunk:
    """An uncompressed chunk ready to ``seal`` (arguments as ``prepare_chunk``)."""
    header, pieces = prepare_chunk(*args, **kwargs)
    return PreparedChunk(_preamble("none", header), pieces)


def encode_chunk(
    table: str,
    signature: Signature,
    keys: npt.ArrayLike,
    versions: npt.ArrayLike,
    priorities: npt.ArrayLike,
    times_sampled: npt.ArrayLike,
    times: npt.ArrayLike,
    data: list[ItemData],
    *,
    codec: Codec = "none",
    level: int = 1,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """One chunk of ``data`` (items of ``signature``) and their metadata (module docstring)."""
    header, pieces = prepare_chunk(
        table, signature, keys, versions, priorities, times_sampled, times, data, extra=extra
    )
    if codec == "none":
        return PreparedChunk(_preamble(codec, header), pieces).seal()
    body = b"".join(pieces)
    body = zlib.compress(body, level) if codec == "zlib" else lzma.compress(body, preset=min(level, 9))
    return b"".join((_preamble(codec, header), _CRC.pack(zlib.crc32(body)), body))


def decode_chunk(blob: bytes | memoryview) -> Chunk:
    """The items of a chunk; ``ChunkError`` when it is not a whole, intact chunk."""
    view = memoryview(blob)
    if len(view) < _PREAMBLE.size:
        raise ChunkError("too short for a chunk")
    magic, codec, header_size = _PREAMBLE.unpack_from(view)
    if magic != MAGIC or codec not in CODECS.values():
        raise ChunkError("not a replay chunk (bad magic or codec)")
    start = _PREAMBLE.size
    if len(view) < start + header_size + _CRC.size:
        raise ChunkError("truncated chunk header")
    try:
        header = json.loads(bytes(view[start : start + header_size]))
        signature = tuple(FieldSpec.from_json(f) for f in header["signature"])
        count, sizes, packed = int(header["count"]), [int(s) for s in header["sections"]], header["packed"]
    except (ValueError, KeyError, TypeError) as error:
        raise ChunkError(f"unreadable chunk header: {error}") from None
    start += header_size
    (crc,) = _CRC.unpack_from(view, start)
    stored = view[start + _CRC.size :]
    if zlib.crc32(stored) != crc:
        raise ChunkError("chunk checksum mismatch (truncated or corrupt)")
    try:
        if codec == CODECS["zlib"]:
            stored = memoryview(zlib.decompress(stored))
        elif codec == CODECS["lzma"]:
            stored = memoryview(lzma.decompress(stored))
    except (zlib.error, lzma.LZMAError) as error:
        raise ChunkError(f"chunk body does not decompress: {error}") from None
    if len(sizes) != len(_META) + len(signature) or sum(sizes) != len(stored):
        raise ChunkError("chunk sections do not add up to its body")
    parts, offset = [], 0
    for size in sizes:
        parts.append(stored[offset : offset + size])
        offset += size
    meta = [np.frombuffer(p, dtype=d) for p, (_, d) in zip(parts, _META, strict=False)]
    if any(a.shape[0] != count for a in meta):
        raise ChunkError("chunk metadata does not match its item count")
    columns = []
    for spec, part, bits in zip(signature, parts[len(_META) :], packed, strict=True):
        expected = spec.nbytes * count
        if bits:
            per_item = (spec.nbytes + 7) // 8
            if len(part) != per_item * count:
                raise ChunkError(
                    f"chunk field {spec.name} has {len(part)} packed bytes, expected {per_item * count}"
                )
            packed_bits = np.frombuffer(part, np.uint8).reshape(count, per_item)
            column = memoryview(np.unpackbits(packed_bits, axis=1, count=spec.nbytes).tobytes())
        else:
            column = part
        if len(column) != expected:
            raise ChunkError(f"chunk field {spec.name} has {len(column)} bytes, expected {expected}")
        columns.append(column)
    keys, versions, priorities, times_sampled, times = meta
    batch = ItemBatch(
        signature=signature,
        columns=tuple(columns),
        versions=versions.astype(np.int64),
        priorities=priorities.astype(np.float64),
        keys=keys.astype(np.int64),
        times_sampled=times_sampled.astype(np.int32),
    )
    return Chunk(str(header["table"]), batch, times.astype(np.float64), dict(header.get("extra", {})))
