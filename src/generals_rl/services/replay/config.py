"""Settings of the Replay Service: each table's config (fixed at creation, as ``TableConfig`` in
``replay.proto``) and the service's own (checkpoints, write-ahead log, archive), parsed from the
``GRL_REPLAY_*`` environment variables at the edge."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.replay.ratelimiter import RateLimiterConfig

SamplerKind = Literal["uniform", "fifo", "prioritized"]
RemoverKind = Literal["fifo", "max_times_sampled"]
Codec = Literal["none", "zlib", "lzma"]

TABLE_NAME = re.compile(r"[a-z0-9_-]{1,64}")
MAX_UNROLL = 4096


@dataclass(frozen=True)
class SamplerConfig:
    """Which item a sample draws: ``uniform``, ``fifo`` (oldest first) or ``prioritized`` (P(i)
    proportional to priority^alpha, importance weights with exponent beta)."""

    kind: SamplerKind = "uniform"
    alpha: float = 0.0
    beta: float = 0.0
    default_priority: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "fifo", "prioritized"):
            raise InvalidArgument(f"unknown sampler {self.kind!r}: uniform, fifo or prioritized")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidArgument(f"the sampler's {name} must lie in [0, 1], got {value}")
        if not math.isfinite(self.default_priority) or self.default_priority < 0:
            raise InvalidArgument(f"default_priority must be finite and >= 0, got {self.default_priority}")


@dataclass(frozen=True)
class RemoverConfig:
    """Which items leave: ``fifo`` (oldest first at capacity) or ``max_times_sampled`` (after
    ``max_times`` samples, and oldest first at capacity)."""

    kind: RemoverKind = "fifo"
    max_times: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("fifo", "max_times_sampled"):
            raise InvalidArgument(f"unknown remover {self.kind!r}: fifo or max_times_sampled")
        if self.kind == "max_times_sampled" and self.max_times < 1:
            raise InvalidArgument(f"max_times must be >= 1, got {self.max_times}")


@dataclass(frozen=True)
class TableConfig:
    """A table's settings (``TableConfig`` in ``replay.proto``)."""

    name: str
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    remover: RemoverConfig = field(default_factory=RemoverConfig)
    max_items: int = 100_000
    max_bytes: int = 0
    rate_limiter: RateLimiterConfig = field(default_factory=RateLimiterConfig)
    unroll_length: int = 32
    archive: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TABLE_NAME.fullmatch(self.name):
            raise InvalidArgument(f"a table name is 1..64 characters of [a-z0-9_-], got {self.name!r}")
        if self.max_items < 1:
            raise InvalidArgument(f"max_items must be >= 1, got {self.max_items}")
        if self.max_bytes < 0:
            raise InvalidArgument(f"max_bytes must be >= 0, got {self.max_bytes}")
        if not 1 <= self.unroll_length <= MAX_UNROLL:
            raise InvalidArgument(f"unroll_length must lie in 1..{MAX_UNROLL}, got {self.unroll_length}")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sampler": vars(self.sampler).copy(),
            "remover": vars(self.remover).copy(),
            "max_items": self.max_items,
            "max_bytes": self.max_bytes,
            "rate_limiter": vars(self.rate_limiter).copy(),
            "unroll_length": self.unroll_length,
            "archive": self.archive,
        }

    @staticmethod
    def from_json(value: Mapping[str, Any]) -> TableConfig:
        return TableConfig(
            name=value["name"],
            sampler=SamplerConfig(**value["sampler"]),
            remover=RemoverConfig(**value["remover"]),
            max_items=int(value["max_items"]),
            max_bytes=int(value["max_bytes"]),
            rate_limiter=RateLimiterConfig(**value["rate_limiter"]),
            unroll_length=int(value["unroll_length"]),
            archive=bool(value["archive"]),
        )


@dataclass(frozen=True)
class ReplayServiceConfig:
    """How the service keeps its tables durable.

    Attributes:
        checkpoint_interval_s: seconds between timed checkpoints (0: only on request, on shutdown
            and when the log grows past ``checkpoint_wal_bytes``).
        checkpoint_wal_bytes: write a checkpoint once this many bytes of log were written since
            the last one (bounds the log a restart replays).
        wal: log every insert to the blob store before acknowledging it (off: only checkpoints
            protect the data; a crash loses what came after the last one).
        wal_segment_bytes: the log writes a segment once it holds this many bytes of items (and
            whenever a stream waits for its acknowledgement, at its end).
        stalled_stream_log_s: a stream whose next message has not come for this many seconds has
            what it inserted so far logged meanwhile: a client stalled mid-stream (frozen, or on a
            slow link) holds no unlogged items in the service's memory. Their acknowledgement
            still comes at the stream's end.
        checkpoint_codec, archive_codec: compression of checkpoints and archived chunks.
        archive_chunk_bytes: archived items are written in chunks of about this many bytes.
        keep_checkpoints: complete checkpoints kept (older ones are deleted).
    """

    checkpoint_interval_s: float = 300.0
    checkpoint_wal_bytes: int = 1 << 30
    wal: bool = True
    wal_segment_bytes: int = 32 << 20
    stalled_stream_log_s: float = 1.0
    checkpoint_codec: Codec = "zlib"
    archive_codec: Codec = "zlib"
    archive_chunk_bytes: int = 32 << 20
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        if (
            self.checkpoint_interval_s < 0
            or self.checkpoint_wal_bytes < 1
            or self.wal_segment_bytes < 1
            or self.stalled_stream_log_s <= 0
        ):
            raise ValueError("checkpoint and log sizes and intervals must be positive")
        for codec in (self.checkpoint_codec, self.archive_codec):
            if codec not in ("none", "zlib", "lzma"):
                raise ValueError(f"unknown codec {codec!r}: none, zlib or lzma")
        if self.keep_checkpoints < 1:
            raise ValueError("keep_checkpoints must be >= 1")

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> ReplayServiceConfig:
        """From ``GRL_REPLAY_CHECKPOINT_INTERVAL_S`` (300), ``GRL_REPLAY_CHECKPOINT_WAL_BYTES`` (1 GiB),
        ``GRL_REPLAY_WAL`` (``1``; ``0`` turns the log off), ``GRL_REPLAY_CHECKPOINT_CODEC`` and
        ``GRL_REPLAY_ARCHIVE_CODEC`` (``zlib``; ``lzma`` or ``none``)."""
        env = os.environ if env is None else env
        base = ReplayServiceConfig()

        def number(name: str, default: float) -> float:
            text = env.get(name, "")
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {text!r}") from None

        return ReplayServiceConfig(
            checkpoint_interval_s=number("GRL_REPLAY_CHECKPOINT_INTERVAL_S", base.checkpoint_interval_s),
            checkpoint_wal_bytes=int(number("GRL_REPLAY_CHECKPOINT_WAL_BYTES", base.checkpoint_wal_bytes)),
            wal=env.get("GRL_REPLAY_WAL", "1") not in ("0", "false", "off"),
            checkpoint_codec=env.get("GRL_REPLAY_CHECKPOINT_CODEC", base.checkpoint_codec),  # type: ignore[arg-type]
            archive_codec=env.get("GRL_REPLAY_ARCHIVE_CODEC", base.archive_codec),  # type: ignore[arg-type]
        )
