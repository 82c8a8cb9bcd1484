"""The Replay Service's domain: the wire codec against the generated classes, inserts and samples
through ``ReplayCore``, fuzzed bad input that changes nothing, the chunk format, restart after a
crash from the log and checkpoints, and the archive round trip on file and S3 blob stores."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from generals_rl.services.replay import (
    Chunk,
    RateLimiterConfig,
    RemoverConfig,
    ReplayCore,
    ReplayServiceConfig,
    SamplerConfig,
    chunks,
)
from generals_rl.services.replay.chunks import ChunkError, decode_chunk, decode_chunks, encode_chunk
from generals_rl.services.replay.client import decode_sampled
from generals_rl.services.replay.client import encode_chunk as encode_message
from generals_rl.services.replay.convert import batch_bytes
from generals_rl.services.replay.items import FieldSpec
from generals_rl.services.replay.servicer import ReplayServicer
from generals_rl.services.replay.testing import item_batch, synthetic, table
from generals_rl.services.replay.wire import decode_batch, decode_record
from generals_rl.storage import BlobStore, StorageError, open_blobs
from generals_rl.storage.blobs.file import FileBlobStore
from generals_rl.v1 import common_pb2, replay_pb2

R = TypeVar("R")


def run(work: Callable[[], Awaitable[R]]) -> R:
    return asyncio.run(work())  # type: ignore[arg-type]


async def stream(*messages: bytes) -> AsyncIterator[bytes]:
    for message in messages:
        yield message


def message(
    n: int = 2, steps: int = 4, side: int = 3, *, seed: int = 0, version: int = 1, name: str = "t"
) -> bytes:
    return encode_message(name, Chunk(synthetic(n, steps, side, seed=seed), policy_version=version))


def snapshot(core: ReplayCore) -> dict[str, Any]:
    return {
        name: (dataclasses.astuple(t.stats()), t.items().keys.tolist(), t.signature)
        for name, t in core.tables.items()
    }


# the wire codec


def test_records_decode_as_the_generated_classes_parse_them() -> None:
    raw = message(3, 4, 3, seed=1)
    parsed = replay_pb2.RecordExperienceRequest.FromString(raw)
    ours = decode_record(raw)
    assert ours.table == parsed.table and ours.policy_version == parsed.policy_version
    t = parsed.trajectories
    assert ours.trajectories is not None and ours.trajectories.armies is not None
    assert bytes(ours.trajectories.armies.data) == t.observations.armies.data
    assert ours.trajectories.armies.shape == tuple(t.observations.armies.shape)
    # Any valid encoding reads the same: the generated serializer's output, with fields merged.
    again = decode_record(
        parsed.SerializeToString() + replay_pb2.RecordExperienceRequest(policy_version=-5).SerializeToString()
    )
    assert again.policy_version == -5 and again.trajectories is not None
    assert bytes(again.trajectories.rewards.data) == t.rewards.data  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(
    table_name=st.text(max_size=5),
    version=st.integers(-(2**63), 2**63 - 1),
    shape=st.lists(st.integers(-(2**40), 2**40), max_size=4),
    dtype=st.integers(-3, 12),
    data=st.binary(max_size=20),
    extras=st.dictionaries(st.text(max_size=3), st.binary(max_size=5), max_size=3),
    duplicate=st.booleans(),
)
def test_fuzzed_records_decode_exactly_as_protobuf_does(
    table_name: str,
    version: int,
    shape: list[int],
    dtype: int,
    data: bytes,
    extras: dict[str, bytes],
    duplicate: bool,
) -> None:
    tensor = common_pb2.Tensor(dtype=dtype, shape=shape, data=data)  # type: ignore[arg-type]
    request = replay_pb2.RecordExperienceRequest(
        table=table_name,
        policy_version=version,
        trajectories=replay_pb2.Trajectories(
            observations=common_pb2.Observation(planes=tensor),
            rewards=tensor,
            extras={k: common_pb2.Tensor(data=v) for k, v in extras.items()},
        ),
    )
    raw = request.SerializeToString()
    if duplicate:  # a second copy of the message merges into the first
        raw += replay_pb2.RecordExperienceRequest(
            trajectories=replay_pb2.Trajectories(rewards=tensor)
        ).SerializeToString()
    parsed = replay_pb2.RecordExperienceRequest.FromString(raw)
    ours = decode_record(raw)
    assert (ours.table, ours.policy_version) == (parsed.table, parsed.policy_version)
    assert ours.trajectories is not None and ours.trajectories.rewards is not None
    for mine, theirs in (
        (ours.trajectories.rewards, parsed.trajectories.rewards),
        (ours.trajectories.planes, parsed.trajectories.observations.planes),
    ):
        assert mine is not None
        assert (mine.dtype, mine.shape, bytes(mine.data)) == (theirs.dtype, tuple(theirs.shape), theirs.data)
    assert {k: bytes(v.data) for k, v in ours.trajectories.extras.items()} == {
        k: v.data for k, v in parsed.trajectories.extras.items()
    }


def test_batches_encode_what_the_generated_classes_read() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        await core.create_table(
            table(sampler=SamplerConfig("fifo"), remover=RemoverConfig("max_times_sampled", 1))
        )
        await core.record(stream(message(3, seed=4, version=8)))
        sampled, signature = await anext(core.sample("t", 2, num_batches=1))
        raw = batch_bytes(sampled, signature)
        parsed = replay_pb2.ExperienceBatch.FromString(raw)
        assert list(parsed.keys) == [1, 2] and parsed.table_size == 3
        mine = decode_sampled(raw)
        original = synthetic(3, 4, 3, seed=4)
        assert np.array_equal(mine.trajectories.armies, np.asarray(original.armies)[:2])
        assert np.array_equal(mine.trajectories.action_mask, np.asarray(original.action_mask)[:2])
        assert mine.policy_versions.tolist() == [8, 8] and mine.times_sampled.tolist() == [1, 1]
        assert parsed.trajectories.observations.planes.data == np.asarray(original.planes)[:2].tobytes()
        assert decode_batch(parsed.SerializeToString()).keys == (1, 2)

    run(scenario)


# inserting and sampling


def test_a_stream_is_inserted_whole_and_sampled_with_its_statistics() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=1)
        await core.create_table(table())
        assert await core.create_table(table()) is core.table("t")  # the same config: a no-op
        with pytest.raises(AlreadyExists):
            await core.create_table(table(max_items=5))
        result = await core.record(stream(message(2, version=3), message(3, seed=1, version=4)))
        assert (result.items, result.bytes) == (5, 5 * core.table("t").item_bytes)
        batches = [s async for s, _ in core.sample("t", 4, num_batches=3, learner_version=6)]
        assert [b.items.count for b in batches] == [4, 4, 4]
        stats = core.stats("t")
        assert (stats.size, stats.inserts, stats.samples, stats.newest_version, stats.oldest_version) == (
            5,
            5,
            12,
            4,
            3,
        )
        assert stats.mean_age_versions == pytest.approx(4 - (3 * 2 + 4 * 3) / 5)
        assert 2.0 <= stats.sampled_lag_versions <= 3.0
        with pytest.raises(NotFound, match="unknown table 'nope'"):
            await core.record(stream(message(name="nope")))
        with pytest.raises(InvalidArgument, match="batch_size"):
            await anext(core.sample("t", 0))

    run(scenario)


def test_a_stream_receives_its_next_message_while_one_is_inserted() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        await core.create_table(table())
        sizes: list[int] = []

        async def watched() -> AsyncIterator[bytes]:
            for i in range(3):
                sizes.append(core.table("t").size)
                yield message(2, seed=i)

        assert (await core.record(watched())).items == 6
        assert sizes == [0, 0, 2]  # message i + 1 asked for before message i is inserted

    run(scenario)


def test_rate_limited_streams_wait_and_samples_time_out() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        await core.create_table(
            table(
                rate_limiter=RateLimiterConfig(min_size_to_sample=4, samples_per_insert=1.0, error_buffer=2.0)
            )
        )
        with pytest.raises(ServiceError) as info:  # below the minimum size: the sample times out
            await anext(core.sample("t", 2, timeout_s=0.05))
        assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        # Inserts: up to 4 + 2 = 6 items before a sample; the 7th waits for the learner.
        writing = asyncio.ensure_future(core.record(stream(message(4), message(3, seed=1))))
        await asyncio.sleep(0.1)
        assert not writing.done() and core.table("t").size == 6
        batches = core.sample("t", 3, num_batches=1)
        async for _ in batches:
            pass
        result = await asyncio.wait_for(writing, 5)
        assert result.items == 7 and result.wait_s > 0.05
        stats = core.stats("t")
        assert (stats.insert_waits, stats.sample_waits) == (1, 1) and stats.rate_limiter_diff == 7 - 3

    run(scenario)


@st.composite
def bad_messages(draw: st.DrawFn) -> bytes:
    """A RecordExperience message with one flaw (or none), for a table of T = 4, 3x3 boards."""
    n = draw(st.integers(1, 3))
    t = synthetic(n, 4, 3, seed=draw(st.integers(0, 3)))
    flaw = draw(
        st.sampled_from(
            [
                "none",
                "dtype",
                "steps",
                "n",
                "trailing",
                "truncated data",
                "bool",
                "table",
                "missing",
                "priorities",
                "truncations",
                "garbage",
                "board",
            ]
        )
    )
    priorities = None
    name = "t"
    if flaw == "dtype":
        field = draw(st.sampled_from(["armies", "planes", "rewards", "dones", "actions"]))
        value = np.asarray(getattr(t, field))
        setattr(t, field, value.astype(np.float64 if value.dtype != np.float64 else np.int16))
    elif flaw == "steps":
        t.rewards = np.zeros((n, 5), np.float32)
    elif flaw == "n":
        t.dones = np.zeros((n + 1, 4), bool)
    elif flaw == "trailing":
        t.action_mask = np.zeros((n, 5, 10), bool)
    elif flaw == "bool":
        t.planes = np.asarray(t.planes).view(np.uint8).copy()
        t.planes[..., 0] = 2
        t.planes = t.planes.view(np.bool_)
    elif flaw == "table":
        name = draw(st.sampled_from(["", "nope"]))
    elif flaw == "priorities":
        priorities = draw(st.sampled_from([np.full(n, -1.0), np.full(n + 1, 1.0), np.array([np.inf] * n)]))
    elif flaw == "truncations":
        t.dones = np.zeros((n, 4), bool)
        t.truncated = np.ones((n, 4), bool)
    elif flaw == "board":
        t = synthetic(n, 4, 4)  # a valid message of another board size than the table's first
    raw = encode_message(name, Chunk(t, policy_version=2, priorities=priorities))
    if flaw == "truncated data":  # a tensor shorter than its shape says
        parsed = replay_pb2.RecordExperienceRequest.FromString(raw)
        parsed.trajectories.observations.armies.data = parsed.trajectories.observations.armies.data[:-4]
        raw = parsed.SerializeToString()
    elif flaw == "missing":
        parsed = replay_pb2.RecordExperienceRequest.FromString(raw)
        parsed.trajectories.ClearField(draw(st.sampled_from(["actions", "rewards", "observations"])))
        raw = parsed.SerializeToString()
    elif flaw == "garbage":
        raw = raw[: draw(st.integers(1, len(raw) - 1))] if draw(st.booleans()) else b"\xff\xff\xff"
    return raw


def test_fuzzed_bad_input_fails_cleanly_and_changes_nothing() -> None:
    core = ReplayCore(None, seed=0)
    run(lambda: core.create_table(table(unroll_length=4)))
    run(lambda: core.record(stream(message(1))))  # the table's signature: 3x3 boards
    allowed = {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
    seen: set[str] = set()

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(bad=bad_messages())
    def check(bad: bytes) -> None:
        before = snapshot(core)
        try:
            result = run(lambda: core.record(stream(bad)))
        except ServiceError as error:
            assert error.code in allowed, error
            assert "0 items of this stream were inserted" in error.message
            assert snapshot(core) == before, error
            seen.add(error.code.name)
        else:
            assert result.items >= 1
            seen.add("inserted")

    check()
    assert {"INVALID_ARGUMENT", "NOT_FOUND", "inserted"} <= seen


def test_an_error_mid_stream_keeps_the_messages_before_it_and_says_how_many() -> None:
    async def scenario() -> None:
        core = ReplayCore(None)
        await core.create_table(table(max_bytes=10**9))
        with pytest.raises(InvalidArgument, match=r"\(3 items of this stream were inserted before it\)"):
            await core.record(stream(message(3), message(2, steps=5)))
        assert core.table("t").size == 3

        async def cut_short() -> AsyncIterator[bytes]:  # a client that goes away mid-stream
            yield message(2)
            raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await core.record(cut_short())
        assert core.table("t").size == 5  # whole messages only
        with pytest.raises(ResourceExhausted):
            big = ReplayCore(None)
            await big.create_table(table(name="b", max_bytes=100))
            await big.record(stream(message(1, name="b")))

    run(scenario)


def test_fuzzed_requests_through_the_servicer_only_ever_fail_cleanly() -> None:
    core = ReplayCore(None, seed=0)
    servicer = ReplayServicer(core)
    run(lambda: core.create_table(table(sampler=SamplerConfig("prioritized", 0.6, 0.4))))
    run(lambda: core.record(stream(message(4))))
    allowed = {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    }

    @settings(max_examples=80, deadline=None)
    @given(
        name=st.sampled_from(["t", "x", ""]),
        keys=st.lists(st.integers(0, 2**64 - 1), max_size=5),
        dtype=st.integers(0, 11),
        count=st.integers(0, 6),
        value=st.sampled_from([0.5, -1.0, float("nan"), 3.0]),
        batch_size=st.integers(0, 5000),
        beta=st.one_of(st.none(), st.floats(-1, 2)),
    )
    def check(
        name: str, keys: list[int], dtype: int, count: int, value: float, batch_size: int, beta: float | None
    ) -> None:
        before = snapshot(core)
        data = np.full(
            count, value, np.float64 if dtype == common_pb2.DTYPE_FLOAT64 else np.float32
        ).tobytes()
        update = replay_pb2.UpdatePrioritiesRequest(
            table=name,
            keys=keys,
            priorities=common_pb2.Tensor(dtype=dtype, shape=[count], data=data),  # type: ignore[arg-type]
        )
        try:
            response = run(lambda: servicer.UpdatePriorities(update, None))  # type: ignore[arg-type]
            assert response.updated + response.missing == len(keys)
        except ServiceError as error:
            assert error.code in allowed, error
            assert snapshot(core) == before
        sample = replay_pb2.GetExperienceBatchRequest(
            table=name, batch_size=batch_size, num_batches=1, timeout_ms=1, beta=beta
        )

        async def one() -> None:
            async for _ in servicer.GetExperienceBatch(sample, None):  # type: ignore[arg-type]
                pass

        try:
            run(one)
        except ServiceError as error:
            assert error.code in allowed | {grpc.StatusCode.DEADLINE_EXCEEDED}, error

    check()


# chunks, restarts, the archive


def test_chunks_round_trip_and_refuse_corruption() -> None:
    batch = item_batch(synthetic(3, 4, 3, seed=2, extras=True), policy_version=4)
    items = batch.items()
    for codec in ("none", "zlib", "lzma"):
        blob = encode_chunk(
            "t",
            batch.signature,
            [5, 6, 7],
            [4, 4, 4],
            [1.0, 2.0, 3.0],
            [0, 1, 2],
            [9.0] * 3,
            items,
            codec=codec,
        )  # type: ignore[arg-type]
        chunk = decode_chunk(blob)
        assert chunk.table == "t" and chunk.batch.signature == batch.signature
        assert [bytes(c) for c in chunk.batch.columns] == [bytes(c) for c in batch.columns]
        assert chunk.batch.keys is not None and chunk.batch.keys.tolist() == [5, 6, 7]
        assert chunk.batch.times_sampled is not None and chunk.batch.times_sampled.tolist() == [0, 1, 2]
        for broken in (blob[:-1], blob[:40], blob[:100] + bytes([blob[100] ^ 1]) + blob[101:], b"x" * 20):
            with pytest.raises(ChunkError):
                decode_chunk(broken)


def _layouts(blob: bytes) -> list[str]:
    _, _, size, _ = chunks._PREAMBLE.unpack_from(blob)
    header = json.loads(blob[chunks._PREAMBLE.size : chunks._PREAMBLE.size + size])
    return list(header["layouts"])


def _older_store(spec: FieldSpec, column: Any) -> tuple[str, list[Any]]:
    """How chunks were written before ``xbits``: bools bit-packed whole, 2, 4 and 8-byte fields
    sparse when smaller."""
    if spec.dtype == common_pb2.DTYPE_BOOL:
        return "bits", [np.packbits(np.frombuffer(column, np.uint8)).data]
    if spec.itemsize not in (2, 4, 8) or not column:
        return "raw", [column]
    elements = np.frombuffer(column, {2: np.uint16, 4: np.uint32, 8: np.uint64}[spec.itemsize])
    present = elements != 0
    if int(np.count_nonzero(present)) * spec.itemsize + (present.size + 7) // 8 >= len(column):
        return "raw", [column]
    return "sparse", [np.packbits(present).data, elements[present].data]


def test_chunk_layouts_round_trip_and_older_chunks_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 3
    bool_, int32, int64 = common_pb2.DTYPE_BOOL, common_pb2.DTYPE_INT32, common_pb2.DTYPE_INT64
    slow = np.cumsum(rng.random((n, 33, 4609)) < 0.002, axis=1) % 2  # bools that rarely change
    armies = np.where(rng.random((n, 33, 24, 24)) < 0.1, rng.integers(1, 99, (n, 33, 24, 24)), 0)
    fields = [
        (FieldSpec("mask", bool_, (33, 4609)), slow.astype(np.uint8), "xbits"),
        (FieldSpec("noise", bool_, (9, 5, 70)), rng.random((n, 9, 5, 70)) < 0.5, "bits"),
        (FieldSpec("flag", bool_, ()), np.array([True, False, True]), "bits"),
        (FieldSpec("armies", int32, (33, 24, 24)), armies.astype(np.int32), "sparse"),
        (FieldSpec("values", common_pb2.DTYPE_FLOAT32, (33, 64)), rng.random((n, 33, 64), np.float32), "raw"),
        (FieldSpec("actions", int64, (32,)), rng.integers(0, 9, (n, 32)), "raw"),  # small: raw
    ]
    signature = tuple(spec for spec, _, _ in fields)
    columns = [np.ascontiguousarray(v).astype(v.dtype.newbyteorder("<")).tobytes() for _, v, _ in fields]
    views = [(memoryview(c), s.nbytes) for s, c in zip(signature, columns, strict=True)]
    items = [tuple(view[i * size : (i + 1) * size] for view, size in views) for i in range(n)]

    def encode(**kwargs: Any) -> bytes:
        meta = ([1, 2, 3], [0, 0, 0], [1.0] * 3, [0] * 3, [5.0] * 3)
        return encode_chunk("t", signature, *meta, items, **kwargs)

    for codec in ("none", "zlib"):
        blob = encode(codec=codec)
        assert _layouts(blob) == [layout for _, _, layout in fields]
        assert [bytes(c) for c in decode_chunk(blob).batch.columns] == columns
        with_columns = encode(codec=codec, columns=[memoryview(c) for c in columns])
        assert with_columns == blob
    assert len(encode()) < sum(map(len, columns)) // 10
    with monkeypatch.context() as patch:
        patch.setattr(chunks, "_store", _older_store)
        older = encode()
    assert _layouts(older) == ["bits", "bits", "bits", "sparse", "raw", "sparse"]
    assert [bytes(c) for c in decode_chunk(older).batch.columns] == columns
    # Stored sections that do not add up to their field fail cleanly, not with a numpy error.
    spec = signature[0]
    _, stored = chunks._store(spec, columns[0])
    whole = b"".join(bytes(p) for p in stored)
    for broken in (whole[:-1], whole + b"\x01", whole[:10], b""):
        with pytest.raises(ChunkError):
            chunks._load(spec, "xbits", memoryview(broken), n)


def crash(core: ReplayCore) -> None:
    """Drop a core as a killed process would: no checkpoint, timers just stop."""
    if core._timer is not None:
        core._timer.cancel()


@pytest.mark.parametrize("checkpoint_first", [False, True])
def test_a_restart_after_a_crash_loses_no_acknowledged_item(tmp_path: Any, checkpoint_first: bool) -> None:
    blobs = open_blobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    config = ReplayServiceConfig(wal_segment_bytes=4000, checkpoint_interval_s=0)

    async def first() -> dict[int, bytes]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        await core.create_table(table(max_items=50, sampler=SamplerConfig("prioritized", 1.0, 1.0)))
        await core.record(stream(*(message(2, seed=i, version=i) for i in range(4))))
        if checkpoint_first:
            await core.checkpoint()
        # Two concurrent streams: their log segments interleave keys.
        await asyncio.gather(
            core.record(stream(*(message(3, seed=10 + i, version=20) for i in range(3)))),
            core.record(stream(*(message(1, seed=20 + i, version=30) for i in range(3)))),
        )
        acknowledged = {
            int(k): b"".join(bytes(p) for p in d)
            for k, d in zip(core.table("t").items().keys, core.table("t").items().data, strict=True)
        }
        assert len(acknowledged) == 8 + 9 + 3
        crash(core)
        return acknowledged

    async def second() -> ReplayCore:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        return core

    acknowledged = run(first)
    core = run(second)
    items = core.table("t").items()
    assert {
        int(k): b"".join(bytes(p) for p in d) for k, d in zip(items.keys, items.data, strict=True)
    } == acknowledged
    assert core.stats("t").inserts == 20 and core.table("t").limiter.inserts == 20
    assert core.table("t").config.sampler.kind == "prioritized"
    # The restore checkpointed and cleared the log: a graceful restart restores exactly.
    assert blobs.list("checkpoints", "replay/wal/") == []
    run(lambda: core.table("t").limiter.acquire_samples(1))
    list(core.table("t").sample(5).items.keys)
    before = dataclasses.astuple(core.stats("t"))
    run(core.close)
    again = run(second)
    assert dataclasses.astuple(again.stats("t")) == before


class FlakyBlobs(FileBlobStore):
    """A folder blob store whose log writes fail while ``failing``."""

    failing = False

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if self.failing and key.startswith("replay/wal/"):
            raise StorageError("disk full")
        super().put(bucket, key, data)


def logged_keys(blobs: BlobStore) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for key in blobs.list("checkpoints", "replay/wal/"):
        for chunk in decode_chunks(blobs.get("checkpoints", key)):
            assert chunk.batch.keys is not None
            out.setdefault(chunk.table, []).extend(chunk.batch.keys.tolist())
    return {table: sorted(keys) for table, keys in out.items()}


def test_streams_are_acknowledged_only_once_their_items_are_logged(tmp_path: Any) -> None:
    blobs = FlakyBlobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()

    async def scenario() -> None:
        core = ReplayCore(blobs, ReplayServiceConfig(wal_segment_bytes=4000, checkpoint_interval_s=0), seed=0)
        await core.open()
        await core.create_table(table())
        blobs.failing = True
        with pytest.raises(Unavailable, match="not acknowledged: disk full"):
            await core.record(stream(*(message(2, seed=i) for i in range(3))))
        both = await asyncio.gather(
            core.record(stream(message(1, seed=5))),
            core.record(stream(message(2, seed=6))),
            return_exceptions=True,
        )
        assert all(isinstance(result, Unavailable) for result in both), both
        assert logged_keys(blobs) == {}
        blobs.failing = False  # the store recovers: the log goes on
        assert (await core.record(stream(message(2, seed=7), message(1, seed=8)))).items == 3
        assert logged_keys(blobs) == {"t": [10, 11, 12]}
        assert core.table("t").size == 12  # failed streams' items stay in memory, unacknowledged
        await core.close()

    run(scenario)


def test_a_stalled_streams_items_are_logged_before_it_ends(tmp_path: Any) -> None:
    """A client that sends a message and then sleeps mid-stream (frozen, a slow link): the items
    it inserted reach the log within ``stalled_stream_log_s``, so a crash meanwhile keeps them,
    though the stream has not been answered yet."""
    blobs = open_blobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    config = ReplayServiceConfig(checkpoint_interval_s=0, stalled_stream_log_s=0.05)

    async def first() -> list[int]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        await core.create_table(table())
        wake = asyncio.Event()

        async def stalling() -> AsyncIterator[bytes]:
            yield message(3, seed=1)
            await wake.wait()
            yield message(2, seed=2)

        async def logged(last_key: int) -> None:
            for _ in range(500):  # up to 5 s
                if logged_keys(blobs).get("t", [0])[-1] >= last_key:
                    return
                await asyncio.sleep(0.01)

        recording = asyncio.ensure_future(core.record(stalling()))
        await logged(3)
        assert not recording.done()  # not answered: the stream is still open
        assert logged_keys(blobs) == {"t": [1, 2, 3]}
        wake.set()
        assert (await recording).items == 5  # the rest is logged at the stream's end
        assert logged_keys(blobs) == {"t": [1, 2, 3, 4, 5]}
        wake.clear()
        stalled = asyncio.ensure_future(core.record(stalling()))
        await logged(8)
        crash(core)  # the client still asleep
        stalled.cancel()
        return core.table("t").items().keys.tolist()

    async def second() -> list[int]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        keys = core.table("t").items().keys.tolist()
        await core.close()
        return keys

    inserted = run(first)
    assert inserted == list(range(1, 9))
    assert run(second) == inserted


def test_the_log_commits_concurrent_streams_and_tables_together(tmp_path: Any) -> None:
    blobs = open_blobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    config = ReplayServiceConfig(checkpoint_interval_s=0)  # one segment per flush at most

    async def first() -> dict[str, list[int]]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        await core.create_table(table("t"))
        await core.create_table(table("u"))
        mixed = [message(2, seed=i, name="tu"[i % 2]) for i in range(6)]
        await asyncio.gather(*(core.record(stream(*mixed[i::3])) for i in range(3)))
        tables = {
            chunk.table
            for key in blobs.list("checkpoints", "replay/wal/")
            for chunk in decode_chunks(blobs.get("checkpoints", key))
        }
        assert tables == {"t", "u"}
        assert logged_keys(blobs) == {"t": [1, 2, 3, 4, 5, 6], "u": [1, 2, 3, 4, 5, 6]}
        await core.checkpoint()
        assert blobs.list("checkpoints", "replay/wal/") == []  # covered for both tables
        await core.record(stream(message(1, seed=9, name="u"), message(1, seed=10, name="t")))
        acknowledged = {name: core.table(name).items().keys.tolist() for name in "tu"}
        crash(core)
        return acknowledged

    async def second() -> dict[str, list[int]]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        restored = {name: core.table(name).items().keys.tolist() for name in "tu"}
        await core.close()
        return restored

    acknowledged = run(first)
    assert acknowledged == {"t": [1, 2, 3, 4, 5, 6, 7], "u": [1, 2, 3, 4, 5, 6, 7]}
    assert run(second) == acknowledged


def test_the_archive_round_trips_on_every_blob_store(blobs: BlobStore) -> None:
    async def scenario() -> None:
        core = ReplayCore(blobs, ReplayServiceConfig(checkpoint_interval_s=0), seed=0)
        await core.open()
        await core.create_table(table("live", max_items=3, archive=True))
        await core.create_table(table("back", max_items=100))
        start = time.time()
        await core.record(
            stream(*(message(2, seed=i, version=i, name="live") for i in range(4))),
        )
        evicted = {k for k in range(1, 9)} - set(core.table("live").items().keys.tolist())
        assert len(evicted) == 5
        await core.checkpoint()  # flushes the archive
        assert core.stats("live").archived == 5
        items, nbytes = await core.load_archive("back", "live", since=start - 1)
        assert (items, nbytes) == (5, 5 * core.table("live").item_bytes)
        original = [synthetic(2, 4, 3, seed=i) for i in range(4)]
        armies = np.concatenate([np.asarray(t.armies) for t in original])[: len(evicted)]
        back = core.table("back").items()
        assert [bytes(d[0]) for d in back.data] == [a.tobytes() for a in armies]  # oldest first
        assert back.versions.tolist() == [0, 0, 1, 1, 2]
        assert await core.load_archive("back", "live", max_items=2) == (2, 2 * core.table("live").item_bytes)
        assert await core.load_archive("back", "live", until=start - 1) == (0, 0)
        await core.create_table(table("other", unroll_length=5))
        with pytest.raises(InvalidArgument, match="unroll_length"):
            await core.load_archive("other", "live")
        assert core.table("other").size == 0
        await core.close()

    run(scenario)
