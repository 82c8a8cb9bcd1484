"""``ReplayClient``: the Replay Service over a ``grpc.aio`` channel, for actors and learners.

    async with channel("127.0.0.1:50055") as ch:
        replay = ReplayClient(ch)
        await replay.create_table(TableConfig("learner", unroll_length=32))
        await replay.record("learner", [Chunk(trajectories, policy_version=7)])     # actors
        async for batch in replay.sample("learner", 64, num_batches=100):           # learners
            tensors = batch.trajectories.to_torch("cuda")
            await replay.update_priorities("learner", batch.keys, new_priorities)

Tensors travel as raw bytes both ways without the generated classes' copies (``wire``): a chunk's
numpy arrays or CPU torch tensors are written into the request with one copy, and a sampled
batch's arrays are read-only numpy views of the received message (``to_torch`` copies them once
more, onto a device if asked). A failed call raises the domain error of its status
(``NotFound``, ``InvalidArgument``, ``DeadlineExceeded``, ...) with the server's message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

import grpc
import grpc.aio
import numpy as np
import numpy.typing as npt
import torch

from generals_rl.services.common.errors import from_rpc_error
from generals_rl.services.common.tensors import DTYPES, to_numpy
from generals_rl.services.replay import convert
from generals_rl.services.replay.config import TableConfig
from generals_rl.services.replay.core import RecordResult
from generals_rl.services.replay.tables import TableStats
from generals_rl.services.replay.wire import (
    OBSERVATION_FIELDS,
    STEP_FIELDS,
    TensorParts,
    WireTensor,
    WireTrajectories,
    decode_batch,
    encode_record,
)
from generals_rl.v1 import common_pb2, replay_pb2, replay_pb2_grpc

T = TypeVar("T")
Array = npt.NDArray[Any] | torch.Tensor
SERVICE = "/generals_rl.v1.ReplayService/"
_BY_NAME = {info.name: info.code for info in DTYPES.values()}


@dataclass
class Trajectories:
    """N trajectories of T steps (``Trajectories`` in ``replay.proto``): observations with
    leading (N, T + 1), the rest (N, T); numpy arrays or CPU torch tensors."""

    armies: Array
    planes: Array
    scalars: Array
    action_mask: Array
    actions: Array
    behaviour_log_probs: Array
    rewards: Array
    dones: Array
    truncated: Array | None = None
    extras: dict[str, Array] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes of every tensor (what a message carries, give or take its headers)."""
        values = [getattr(self, f.name) for f in fields(self) if f.name != "extras"]
        values += list(self.extras.values())
        return sum(int(v.nbytes) for v in values if v is not None)

    def take(self, rows: torch.Tensor) -> Trajectories:
        """The trajectories at ``rows`` (int64 row numbers), in that order (copies)."""

        def pick(value: Array) -> Array:
            return value[rows] if isinstance(value, torch.Tensor) else value[rows.numpy()]

        return Trajectories(
            pick(self.armies),
            pick(self.planes),
            pick(self.scalars),
            pick(self.action_mask),
            pick(self.actions),
            pick(self.behaviour_log_probs),
            pick(self.rewards),
            pick(self.dones),
            None if self.truncated is None else pick(self.truncated),
            {k: pick(v) for k, v in self.extras.items()},
        )

    def to_torch(self, device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
        """Every tensor as a new torch tensor (on ``device``), by field name (extras as
        ``extras.<name>``)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extras":
                out.update({f"extras.{k}": _torch(v, device) for k, v in value.items()})
            elif value is not None:
                out[f.name] = _torch(value, device)
        return out


@dataclass
class Chunk:
    """One RecordExperience message: N trajectories, the policy version that acted, optional
    initial priorities (N,), and for retries without duplicates the writer's id and the
    message's sequence (``replay.proto``)."""

    trajectories: Trajectories
    policy_version: int = 0
    priorities: Array | None = None
    writer_id: str = ""
    sequence: int = 0


@dataclass(frozen=True)
class SampledBatch:
    """One batch of GetExperienceBatch: read-only numpy views of the received message."""

    keys: npt.NDArray[np.uint64]
    trajectories: Trajectories
    policy_versions: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float64]
    importance_weights: npt.NDArray[np.float32]
    times_sampled: npt.NDArray[np.int32]
    table_size: int


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.RpcError as error:
        raise from_rpc_error(error) from error


class ReplayClient:
    """The Replay Service's operations, remotely; ``timeout_s`` bounds every unary call."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout_s: float | None = 60.0) -> None:
        self.stub = replay_pb2_grpc.ReplayServiceStub(channel)
        self.timeout_s = timeout_s
        self._record = channel.stream_unary(
            SERVICE + "RecordExperience",
            request_serializer=None,
            response_deserializer=replay_pb2.RecordExperienceResponse.FromString,
        )
        self._sample = channel.unary_stream(
            SERVICE + "GetExperienceBatch",
            request_serializer=replay_pb2.GetExperienceBatchRequest.SerializeToString,
            response_deserializer=None,
        )

    async def create_table(self, config: TableConfig) -> TableConfig:
        request = replay_pb2.CreateTableRequest(config=convert.table_config_to(config))
        info = await _call(self.stub.CreateTable(request, timeout=self.timeout_s))
        return convert.table_config_from(info.config)

    async def list_tables(self) -> list[tuple[TableConfig, TableStats]]:
        response = await _call(self.stub.ListTables(replay_pb2.ListTablesRequest(), timeout=self.timeout_s))
        return [(convert.table_config_from(t.config), convert.stats_from(t.stats)) for t in response.tables]

    async def stats(self, table: str) -> TableStats:
        request = replay_pb2.GetTableStatsRequest(table=table)
        return convert.stats_from(await _call(self.stub.GetTableStats(request, timeout=self.timeout_s)))

    async def record(
        self, table: str, chunks: Iterable[Chunk] | AsyncIterable[Chunk], *, timeout_s: float | None = None
    ) -> RecordResult:
        """Stream ``chunks`` into ``table``; returns once every item is acknowledged (durable).
        Chunks with a ``writer_id`` and ``sequence`` may be sent again after a failure: what the
        table has of them already is skipped (counted as ``duplicates``)."""

        async def messages() -> AsyncIterator[bytes]:
            # Each message is encoded in a worker thread (its one copy drops the GIL) while the
            # previous one is sent: one message ahead.
            ahead: asyncio.Future[bytes] | None = None
            async for chunk in _aiter(chunks):
                encoding = asyncio.ensure_future(asyncio.to_thread(encode_chunk, table, chunk))
                if ahead is not None:
                    yield await ahead
                ahead = encoding
            if ahead is not None:
                yield await ahead

        response = await _call(self._record(messages(), timeout=timeout_s))
        return RecordResult(response.items, response.bytes, response.wait_s, response.duplicates)

    async def sample(
        self,
        table: str,
        batch_size: int,
        *,
        num_batches: int = 0,
        timeout_s: float | None = None,
        beta: float | None = None,
        learner_version: int = 0,
    ) -> AsyncIterator[SampledBatch]:
        """Sampled batches as the server streams them (forever when ``num_batches`` is 0; stop
        by leaving the loop). ``timeout_s`` bounds each rate-limiter wait on the server."""
        request = replay_pb2.GetExperienceBatchRequest(
            table=table,
            batch_size=batch_size,
            num_batches=num_batches,
            timeout_ms=0 if not timeout_s else max(1, round(timeout_s * 1000)),
            beta=beta,
            learner_version=learner_version,
        )
        call = self._sample(request)
        try:
            async for raw in call:
                yield decode_sampled(raw)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()

    async def update_priorities(
        self, table: str, keys: Iterable[int] | Array, priorities: Array
    ) -> tuple[int, int]:
        """(updated, missing) after setting the priorities of ``keys``."""
        keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
        values = np.ascontiguousarray(priorities, dtype="<f8").reshape(-1)
        request = replay_pb2.UpdatePrioritiesRequest(
            table=table,
            keys=keys.tolist(),
            priorities=common_pb2.Tensor(
                dtype=common_pb2.DTYPE_FLOAT64, shape=[values.shape[0]], data=values.tobytes()
            ),
        )
        response = await _call(self.stub.UpdatePriorities(request, timeout=self.timeout_s))
        return response.updated, response.missing

    async def checkpoint(self) -> replay_pb2.CheckpointResponse:
        return await _call(self.stub.Checkpoint(replay_pb2.CheckpointRequest(), timeout=self.timeout_s))

    async def load_archive(
        self,
        table: str,
        *,
        source_table: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        max_items: int = 0,
    ) -> tuple[int, int]:
        """(items, bytes) loaded from the archive of ``source_table`` (default ``table``)."""
        request = replay_pb2.LoadArchiveRequest(table=table, source_table=source_table, max_items=max_items)
        if since is not None:
            request.since.CopyFrom(convert.timestamp(since.timestamp()))
        if until is not None:
            request.until.CopyFrom(convert.timestamp(until.timestamp()))
        response = await _call(self.stub.LoadArchive(request, timeout=self.timeout_s))
        return response.items, response.bytes


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


# encoding and decoding


def tensor_parts(value: Array) -> TensorParts:
    """A numpy array or CPU torch tensor as the wire's dtype, shape and one flat byte view."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        if tensor.dtype == torch.bfloat16:
            array = tensor.view(torch.int16).numpy()
            return TensorParts(
                common_pb2.DTYPE_BFLOAT16, tuple(array.shape), [_bytes_view(array.astype("<i2"))]
            )
        array = tensor.numpy()
    else:
        array = np.asarray(value)
    code = _BY_NAME.get(array.dtype.name)
    if code is None:
        raise ValueError(f"arrays of {array.dtype} cannot be sent")
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return TensorParts(code, tuple(array.shape), [_bytes_view(np.ascontiguousarray(array))])


def _bytes_view(array: npt.NDArray[Any]) -> memoryview:
    return array.reshape(-1).view(np.uint8).data


def encode_chunk(table: str, chunk: Chunk) -> bytes:
    """The wire bytes of one RecordExperience message."""
    t = chunk.trajectories
    tensors: dict[str, TensorParts] = {
        f"observations.{n}": tensor_parts(getattr(t, n)) for n in OBSERVATION_FIELDS
    }
    for name in STEP_FIELDS:
        value = getattr(t, name)
        if value is not None:
            tensors[name] = tensor_parts(value)
    for name, value in t.extras.items():
        tensors[f"extras.{name}"] = tensor_parts(value)
    priorities = None if chunk.priorities is None else tensor_parts(chunk.priorities)
    return encode_record(
        table, chunk.policy_version, tensors, priorities, writer_id=chunk.writer_id, sequence=chunk.sequence
    )


def decode_sampled(raw: bytes) -> SampledBatch:
    """A GetExperienceBatch message as numpy views of ``raw``."""
    batch = decode_batch(raw)
    t = batch.trajectories or WireTrajectories()

    def array(tensor: WireTensor | None, name: str) -> npt.NDArray[Any]:
        return to_numpy(tensor or WireTensor(), name=name, copy=False)  # type: ignore[arg-type]

    trajectories = Trajectories(
        **{name: array(getattr(t, name), name) for name in (*OBSERVATION_FIELDS, *STEP_FIELDS[:-1])},
        truncated=None if t.truncated is None else array(t.truncated, "truncated"),
        extras={name: array(value, name) for name, value in t.extras.items()},
    )
    return SampledBatch(
        keys=np.asarray(batch.keys, np.uint64),
        trajectories=trajectories,
        policy_versions=array(batch.policy_versions, "policy_versions"),
        probabilities=array(batch.probabilities, "probabilities"),
        importance_weights=array(batch.importance_weights, "importance_weights"),
        times_sampled=array(batch.times_sampled, "times_sampled"),
        table_size=batch.table_size,
    )


def _torch(value: Array, device: torch.device | str | None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(device) if device is not None else value.clone()
    tensor = torch.from_numpy(np.array(value))
    return tensor if device is None else tensor.to(device)
