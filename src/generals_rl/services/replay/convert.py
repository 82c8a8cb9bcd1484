"""Between the Replay Service's messages and its domain: requests checked and turned into item
batches and configs, samples and statistics turned into responses.

``item_batch`` is the one gate of inserted data: every tensor's dtype, shape and byte length, N
agreeing between tensors, T the table's, H and W agreeing between the observation tensors, bool
bytes 0 or 1, truncations a subset of dones, priorities finite and >= 0. It copies nothing: the
batch's columns are views of the request's buffer.
"""

from __future__ import annotations

import math

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.common.tensors import FLOAT_DTYPES, INT_DTYPES, check
from generals_rl.services.replay.config import RemoverConfig, SamplerConfig, TableConfig
from generals_rl.services.replay.items import FieldSpec, ItemBatch, Sampled, Signature, as_bytes_view
from generals_rl.services.replay.ratelimiter import RateLimiterConfig
from generals_rl.services.replay.tables import TableStats
from generals_rl.services.replay.wire import (
    OBSERVATION_FIELDS,
    TensorParts,
    WireRecord,
    WireTensor,
    WireTrajectories,
    encode_batch,
)
from generals_rl.v1 import common_pb2, replay_pb2

INT32, INT64, BOOL = common_pb2.DTYPE_INT32, common_pb2.DTYPE_INT64, common_pb2.DTYPE_BOOL
FLOAT32, FLOAT64 = common_pb2.DTYPE_FLOAT32, common_pb2.DTYPE_FLOAT64
MAX_EXTRA_NAME = 64
MAX_BATCH = 4096


# inserted data


class _Shapes:
    """N, found from the first tensor, and checks of the leading (N, steps) of the others (only
    the leading N where ``steps`` is None)."""

    def __init__(self, unroll_length: int) -> None:
        self.unroll = unroll_length
        self.n: int | None = None
        self.first = ""

    def leading(
        self, tensor: WireTensor | None, name: str, steps: int | None, *, required: bool = True
    ) -> None:
        if tensor is None:
            if required:
                raise InvalidArgument(f"{name}: missing")
            return
        dims = tuple(tensor.shape)
        if len(dims) < (1 if steps is None else 2):
            raise InvalidArgument(f"{name}: shape {dims} must start with (N, {steps or '...'})")
        if self.n is None:
            if dims[0] < 1:
                raise InvalidArgument(f"{name}: N = {dims[0]} trajectories, at least 1 needed")
            self.n, self.first = dims[0], name
        elif dims[0] != self.n:
            raise InvalidArgument(
                f"{name}: N = {dims[0]} trajectories, but {self.first} has {self.n} (N must agree)"
            )
        if steps is not None and dims[1] != steps:
            what = "T + 1" if steps == self.unroll + 1 else "T"
            raise InvalidArgument(
                f"{name}: {dims[1]} steps, but the table's unroll_length T = {self.unroll} needs "
                f"{what} = {steps}"
            )


def item_batch(record: WireRecord, unroll_length: int) -> ItemBatch:
    """The checked items of one RecordExperience message (module docstring)."""
    t = record.trajectories
    if t is None:
        raise InvalidArgument("trajectories: missing")
    if not t.has_observations:
        raise InvalidArgument("trajectories.observations: missing")
    shapes = _Shapes(unroll_length)
    steps = unroll_length + 1
    named: list[tuple[str, WireTensor]] = []
    obs = {name: getattr(t, name) for name in OBSERVATION_FIELDS}
    for name in OBSERVATION_FIELDS:
        shapes.leading(obs[name], f"trajectories.observations.{name}", steps)
    n = shapes.n
    assert n is not None
    _check(obs["armies"], "trajectories.observations.armies", (INT32,), (n, steps, None, None))
    h, w = obs["armies"].shape[2:]
    patterns: dict[str, tuple[tuple[int, ...], tuple[int | None, ...]]] = {
        "armies": ((INT32,), (n, steps, h, w)),
        "planes": ((BOOL,), (n, steps, None, h, w)),
        "scalars": ((INT32,), (n, steps, None)),
        "action_mask": ((BOOL,), (n, steps, 1 + 8 * h * w)),
    }
    for name in OBSERVATION_FIELDS:
        dtypes, shape = patterns[name]
        named.append((f"observations.{name}", obs[name]))
        _check(obs[name], f"trajectories.observations.{name}", dtypes, shape)
    steps_of = {
        "actions": INT_DTYPES,
        "behaviour_log_probs": (FLOAT32,),
        "rewards": (FLOAT32,),
        "dones": (BOOL,),
        "truncated": (BOOL,),
    }
    for name, dtypes in steps_of.items():
        tensor = getattr(t, name)
        if tensor is None and name == "truncated":
            tensor = WireTensor(BOOL, (n, unroll_length), bytes(n * unroll_length))
        shapes.leading(tensor, f"trajectories.{name}", unroll_length)
        _check(tensor, f"trajectories.{name}", dtypes, (n, unroll_length))
        named.append((name, tensor))
    _check_truncations(t, named)
    for key in sorted(t.extras):
        if not 1 <= len(key) <= MAX_EXTRA_NAME or not key.isprintable():
            raise InvalidArgument(
                f"trajectories.extras: a name is 1..{MAX_EXTRA_NAME} printable characters, got {key!r}"
            )
        tensor = t.extras[key]
        shapes.leading(tensor, f"trajectories.extras[{key!r}]", None)  # per step or per trajectory
        _check(tensor, f"trajectories.extras[{key!r}]", None, None)
        named.append((f"extras.{key}", tensor))
    signature: Signature = tuple(
        FieldSpec(name, tensor.dtype, tuple(tensor.shape[1:])) for name, tensor in named
    )
    priorities = None
    if record.priorities is not None:
        priorities = _float_vector(record.priorities, "priorities", n)
    return ItemBatch(
        signature=signature,
        columns=tuple(as_bytes_view(tensor.data) for _, tensor in named),
        versions=np.full(n, record.policy_version, np.int64),
        priorities=priorities,
    )


def _check(
    tensor: WireTensor, name: str, dtypes: tuple[int, ...] | None, shape: tuple[int | None, ...] | None
) -> None:
    check(tensor, name=name, dtypes=dtypes, shape=shape)  # type: ignore[arg-type]  # duck-typed message


def _check_truncations(t: WireTrajectories, named: list[tuple[str, WireTensor]]) -> None:
    if t.truncated is None:
        return
    tensors = {name: tensor for name, tensor in named}
    truncated = np.frombuffer(tensors["truncated"].data, np.uint8)
    dones = np.frombuffer(tensors["dones"].data, np.uint8)
    if np.any(truncated > dones):
        raise InvalidArgument("trajectories.truncated: a truncation where dones is false (must be a subset)")


def _float_vector(tensor: WireTensor, name: str, n: int | None) -> np.ndarray:
    info, _ = check(tensor, name=name, dtypes=FLOAT_DTYPES, shape=None if n is None else (n,))  # type: ignore[arg-type]
    if len(tensor.shape) != 1:
        raise InvalidArgument(f"{name}: shape must be (K,), got {tuple(tensor.shape)}")
    assert info.numpy is not None
    values = np.frombuffer(tensor.data, info.numpy).astype(np.float64)
    if values.size and (not np.all(np.isfinite(values)) or values.min() < 0):
        raise InvalidArgument(f"{name}: priorities must be finite and >= 0")
    return values


def priorities_from(message: common_pb2.Tensor, keys: int) -> np.ndarray:
    """UpdatePriorities' priorities: float32/float64 (K,), finite, >= 0, one per key."""
    wire = WireTensor(message.dtype, tuple(message.shape), message.data)
    values = _float_vector(wire, "priorities", None)
    if values.shape[0] != keys:
        raise InvalidArgument(f"{keys} keys but {values.shape[0]} priorities (they must pair up)")
    return values


# sampled data


def batch_bytes(sampled: Sampled, signature: Signature) -> bytes:
    """The wire bytes of an ``ExperienceBatch`` of ``sampled`` (one copy of the items' data)."""
    items = sampled.items
    b = items.count
    data = items.data
    tensors = {
        spec.name: TensorParts(spec.dtype, (b, *spec.shape), [item[i] for item in data])
        for i, spec in enumerate(signature)
    }
    return encode_batch(
        items.keys.tolist(),
        tensors,
        policy_versions=_parts(INT64, items.versions.astype("<i8")),
        probabilities=_parts(FLOAT64, sampled.probabilities.astype("<f8")),
        importance_weights=_parts(FLOAT32, sampled.weights.astype("<f4")),
        times_sampled=_parts(INT32, items.times_sampled.astype("<i4")),
        table_size=sampled.table_size,
    )


def _parts(dtype: int, array: np.ndarray) -> TensorParts:
    return TensorParts(dtype, tuple(array.shape), [array.tobytes()])


# configs and statistics


def table_config_from(message: replay_pb2.TableConfig) -> TableConfig:
    """A table's config from its message; ``InvalidArgument`` saying what is wrong."""
    sampler_kind = message.sampler.WhichOneof("kind")
    if sampler_kind is None:
        raise InvalidArgument("config.sampler: missing (uniform, fifo or prioritized)")
    remover_kind = message.remover.WhichOneof("kind")
    if remover_kind is None:
        raise InvalidArgument("config.remover: missing (fifo or max_times_sampled)")
    p = message.sampler.prioritized
    if sampler_kind == "prioritized":
        sampler = SamplerConfig("prioritized", p.alpha, p.beta, p.default_priority)
    else:
        sampler = SamplerConfig(sampler_kind)
    remover = RemoverConfig(remover_kind, message.remover.max_times_sampled.max_times)
    r = message.rate_limiter
    return TableConfig(
        name=message.name,
        sampler=sampler,
        remover=remover,
        max_items=message.max_items,
        max_bytes=message.max_bytes,
        rate_limiter=RateLimiterConfig(r.min_size_to_sample, r.samples_per_insert, r.error_buffer),
        unroll_length=message.unroll_length,
        archive=message.archive,
    )


def table_config_to(config: TableConfig) -> replay_pb2.TableConfig:
    s, r = config.sampler, config.rate_limiter
    sampler = replay_pb2.Sampler()
    if s.kind == "prioritized":
        sampler.prioritized.CopyFrom(
            replay_pb2.PrioritizedSampler(alpha=s.alpha, beta=s.beta, default_priority=s.default_priority)
        )
    elif s.kind == "fifo":
        sampler.fifo.SetInParent()
    else:
        sampler.uniform.SetInParent()
    remover = replay_pb2.Remover()
    if config.remover.kind == "max_times_sampled":
        remover.max_times_sampled.max_times = config.remover.max_times
    else:
        remover.fifo.SetInParent()
    return replay_pb2.TableConfig(
        name=config.name,
        sampler=sampler,
        remover=remover,
        max_items=config.max_items,
        max_bytes=config.max_bytes,
        rate_limiter=replay_pb2.RateLimiter(
            min_size_to_sample=r.min_size_to_sample,
            samples_per_insert=r.samples_per_insert,
            error_buffer=r.error_buffer,
        ),
        unroll_length=config.unroll_length,
        archive=config.archive,
    )


def stats_to(stats: TableStats) -> replay_pb2.TableStats:
    return replay_pb2.TableStats(**vars(stats))


def stats_from(message: replay_pb2.TableStats) -> TableStats:
    return TableStats(**{name: getattr(message, name) for name in TableStats.__dataclass_fields__})


def timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def seconds(ts: Timestamp, present: bool) -> float | None:
    return ts.ToNanoseconds() / 1e9 if present else None


def check_batch_request(batch_size: int, beta: float | None) -> None:
    if not 1 <= batch_size <= MAX_BATCH:
        raise InvalidArgument(f"batch_size must lie in 1..{MAX_BATCH}, got {batch_size}")
    if beta is not None and not (math.isfinite(beta) and 0.0 <= beta <= 1.0):
        raise InvalidArgument(f"beta must lie in [0, 1], got {beta}")
