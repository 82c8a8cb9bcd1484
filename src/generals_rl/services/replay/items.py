"""What a table stores: items (one trajectory each) as raw tensor bytes, and the signature they share.

A table's **signature** is the ordered list of its tensors (``FieldSpec``: name, wire dtype, the
shape of one item), set by the first item inserted: ``observations.armies``,
``observations.planes``, ``observations.scalars``, ``observations.action_mask`` with T + 1 steps,
then ``actions``, ``behaviour_log_probs``, ``rewards``, ``dones``, ``truncated`` and
``extras.<name>`` (sorted) with T steps. Every item of a table has the same signature, hence the
same size in bytes.

An ``ItemBatch`` is N items as one buffer per field (the N items' bytes back to back, as they
arrive in a request); an item's data is a tuple of ``memoryview`` slices of those buffers, one per
field, so inserting copies nothing and the buffers of a request live as long as one of its items.
``Items`` are items taken out of a table (to sample, archive or checkpoint), ``Sampled`` one draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.common.tensors import DTYPES, dtype_name
from generals_rl.v1 import common_pb2

ItemData = tuple[memoryview, ...]
"""One item's tensors, one buffer per field of its table's signature."""

BOOL = common_pb2.DTYPE_BOOL


@dataclass(frozen=True)
class FieldSpec:
    """One tensor of a signature: name, wire dtype and the shape of one item's part."""

    name: str
    dtype: int
    shape: tuple[int, ...]

    @cached_property
    def itemsize(self) -> int:
        return DTYPES[self.dtype].itemsize

    @cached_property
    def nbytes(self) -> int:
        """Bytes of one item's part."""
        return math.prod(self.shape) * self.itemsize

    def describe(self) -> str:
        return f"{self.name} {dtype_name(self.dtype)} {self.shape}"

    def to_json(self) -> list[object]:
        return [self.name, self.dtype, list(self.shape)]

    @staticmethod
    def from_json(value: Sequence[Any]) -> FieldSpec:
        name, dtype, shape = value
        return FieldSpec(str(name), int(dtype), tuple(int(d) for d in shape))


Signature = tuple[FieldSpec, ...]


def signature_bytes(signature: Signature) -> int:
    """Bytes of one item of this signature."""
    return sum(f.nbytes for f in signature)


def check_same_signature(table: str, expected: Signature, got: Signature) -> None:
    """``InvalidArgument`` naming the first difference between a table's signature and a batch's."""
    if expected == got:
        return
    mine, theirs = {f.name: f for f in expected}, {f.name: f for f in got}
    for name in [*mine, *(n for n in theirs if n not in mine)]:  # in signature order
        a, b = mine.get(name), theirs.get(name)
        if a is None or b is None:
            which = "have" if a is None else "lack"
            raise InvalidArgument(
                f"table {table!r}: the trajectories {which} {name!r}, unlike the table's items "
                f"(fields: {', '.join(mine)})"
            )
        if a != b:
            raise InvalidArgument(
                f"table {table!r}: {name} is {dtype_name(b.dtype)} of item shape {b.shape}, "
                f"but the table's items have {dtype_name(a.dtype)} {a.shape}"
            )
    raise InvalidArgument(f"table {table!r}: the fields are in a different order")  # not reachable


@dataclass(frozen=True, eq=False)
class ItemBatch:
    """N items of one signature: per field, the N items' bytes back to back (module docstring).

    ``versions`` is int64 (N,); ``priorities`` float64 (N,) or None (the sampler's default);
    ``keys`` and ``times_sampled`` are set only when items come back from a checkpoint.
    """

    signature: Signature
    columns: tuple[memoryview, ...]
    versions: npt.NDArray[np.int64]
    priorities: npt.NDArray[np.float64] | None = None
    keys: npt.NDArray[np.int64] | None = None
    times_sampled: npt.NDArray[np.int32] | None = None

    @property
    def count(self) -> int:
        return int(self.versions.shape[0])

    @cached_property
    def item_bytes(self) -> int:
        return signature_bytes(self.signature)

    @property
    def nbytes(self) -> int:
        return self.item_bytes * self.count

    @cached_property
    def _sizes(self) -> tuple[int, ...]:
        return tuple(f.nbytes for f in self.signature)

    def item(self, i: int) -> ItemData:
        """Item ``i``'s data: a view of each column."""
        return tuple(column[i * n : (i + 1) * n] for n, column in zip(self._sizes, self.columns, strict=True))

    def items(self, start: int = 0, stop: int | None = None) -> list[ItemData]:
        stop = self.count if stop is None else stop
        return [self.item(i) for i in range(start, stop)]

    def slice_columns(self, start: int, stop: int) -> list[memoryview]:
        """Items ``start .. stop`` as one view per column."""
        return [column[start * n : stop * n] for n, column in zip(self._sizes, self.columns, strict=True)]


def columns_of(signature: Signature, items: Sequence[ItemData]) -> list[bytes]:
    """Per field, the items' bytes back to back (one copy)."""
    return [b"".join(item[i] for item in items) for i in range(len(signature))]


def as_bytes_view(data: bytes | bytearray | memoryview) -> memoryview:
    """A flat byte view of any buffer (``memoryview.cast('B')`` of a multi-byte format)."""
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def select(batch: ItemBatch, index: npt.NDArray[Any]) -> ItemBatch:
    """The items ``index`` of a batch (contiguous runs stay views; others are copied)."""
    if index.shape[0] == batch.count and np.array_equal(index, np.arange(batch.count)):
        return batch
    items = [batch.item(int(i)) for i in index]
    columns = tuple(memoryview(b"".join(item[f] for item in items)) for f in range(len(batch.signature)))

    def pick(array: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
        return None if array is None else array[index]

    return ItemBatch(
        signature=batch.signature,
        columns=columns,
        versions=batch.versions[index],
        priorities=pick(batch.priorities),
        keys=pick(batch.keys),
        times_sampled=pick(batch.times_sampled),
    )


def concat(batches: Sequence[ItemBatch]) -> ItemBatch:
    """One batch of the items of several of one signature, in order (copies their data)."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]

    def joined(arrays: list[npt.NDArray[Any] | None]) -> npt.NDArray[Any] | None:
        return None if any(a is None for a in arrays) else np.concatenate(arrays)  # type: ignore[arg-type]

    return ItemBatch(
        signature=first.signature,
        columns=tuple(
            memoryview(b"".join(b.columns[f] for b in batches)) for f in range(len(first.signature))
        ),
        versions=np.concatenate([b.versions for b in batches]),
        priorities=joined([b.priorities for b in batches]),
        keys=joined([b.keys for b in batches]),
        times_sampled=joined([b.times_sampled for b in batches]),
    )


def check_unroll(table: str, signature: Signature, unroll_length: int) -> None:
    """``InvalidArgument`` unless observations have T + 1 steps and every other field T (extras
    may also be per trajectory, of any shape)."""
    for spec in signature:
        if spec.name.startswith("extras."):
            continue
        steps = unroll_length + 1 if spec.name.startswith("observations.") else unroll_length
        if not spec.shape or spec.shape[0] != steps:
            raise InvalidArgument(
                f"table {table!r}: {spec.name} has item shape {spec.shape}, but unroll_length "
                f"{unroll_length} needs {steps} steps"
            )


@dataclass(frozen=True)
class Items:
    """Items taken out of a table, in one order: keys, versions, priorities, times sampled, data."""

    keys: npt.NDArray[np.int64]
    versions: npt.NDArray[np.int64]
    priorities: npt.NDArray[np.float64]
    times_sampled: npt.NDArray[np.int32]
    data: list[ItemData]

    @property
    def count(self) -> int:
        return int(self.keys.shape[0])


@dataclass(frozen=True)
class Sampled:
    """One draw of items: their state after the draw, and what the draw's statistics were."""

    items: Items
    probabilities: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float32]
    table_size: int


def concat_items(parts: list[Items]) -> Items:
    return Items(
        keys=np.concatenate([p.keys for p in parts]),
        versions=np.concatenate([p.versions for p in parts]),
        priorities=np.concatenate([p.priorities for p in parts]),
        times_sampled=np.concatenate([p.times_sampled for p in parts]),
        data=[d for p in parts for d in p.data],
    )


def concat_sampled(parts: list[Sampled]) -> Sampled:
    """Draws of one batch as one (the table size of the last)."""
    if len(parts) == 1:
        return parts[0]
    return Sampled(
        items=concat_items([p.items for p in parts]),
        probabilities=np.concatenate([p.probabilities for p in parts]),
        weights=np.concatenate([p.weights for p in parts]),
        table_size=parts[-1].table_size,
    )


def select_sampled(drawn: Sampled, mask: npt.NDArray[np.bool_]) -> Sampled:
    index = np.flatnonzero(mask)
    items = drawn.items
    return Sampled(
        Items(
            items.keys[index],
            items.versions[index],
            items.priorities[index],
            items.times_sampled[index],
            [items.data[i] for i in index.tolist()],
        ),
        drawn.probabilities[index],
        drawn.weights[index],
        drawn.table_size,
    )
