"""Retries without duplicates in the Replay Service: messages tagged with a writer id and a
sequence are inserted once however often they arrive, also when a message went in only partly
(rate limiter), when a retry races the stream it retries, and across a crash restored from the
log or a checkpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.replay import Chunk, RateLimiterConfig, ReplayCore, ReplayServiceConfig
from generals_rl.services.replay.client import encode_chunk
from generals_rl.services.replay.testing import synthetic, table
from generals_rl.services.replay.wire import decode_record
from generals_rl.services.replay.writers import MAX_WRITERS, Tag, Writers
from generals_rl.storage import open_blobs
from generals_rl.v1 import replay_pb2


def tagged(sequence: int, n: int = 2, *, writer: str = "actor-1", seed: int | None = None) -> bytes:
    trajectories = synthetic(n, 4, 3, seed=sequence if seed is None else seed)
    chunk = Chunk(trajectories, policy_version=sequence, writer_id=writer, sequence=sequence)
    return encode_chunk("t", chunk)


async def stream(*messages: bytes) -> AsyncIterator[bytes]:
    for message in messages:
        yield message


def test_the_tags_travel_on_the_wire() -> None:
    raw = tagged(7, writer="actor-é")
    parsed = replay_pb2.RecordExperienceRequest.FromString(raw)
    assert (parsed.writer_id, parsed.sequence) == ("actor-é", 7)
    assert (decode_record(raw).writer_id, decode_record(raw).sequence) == ("actor-é", 7)
    untagged = decode_record(encode_chunk("t", Chunk(synthetic(1, 4, 3))))
    assert (untagged.writer_id, untagged.sequence) == ("", 0)


def test_a_resent_stream_inserts_only_what_is_new() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        await core.create_table(table())
        first = await core.record(stream(tagged(1), tagged(2)))
        assert (first.items, first.duplicates) == (4, 0)
        again = await core.record(stream(tagged(1), tagged(2), tagged(3)))  # a retry from the start
        assert (again.items, again.duplicates) == (2, 4)
        other = await core.record(stream(tagged(1, writer="actor-2")))  # another writer: its own count
        assert (other.items, other.duplicates) == (2, 0)
        plain = encode_chunk("t", Chunk(synthetic(2, 4, 3)))
        assert (await core.record(stream(plain, plain))).items == 4  # untagged: inserted every time
        assert core.stats("t").inserts == 4 + 2 + 2 + 4
        with pytest.raises(InvalidArgument, match="sequence >= 1"):
            await core.record(stream(encode_chunk("t", Chunk(synthetic(1, 4, 3), writer_id="a"))))
        with pytest.raises(InvalidArgument, match="at most 128"):
            await core.record(stream(tagged(1, writer="w" * 129)))

    asyncio.run(scenario())


def test_a_message_cut_by_the_rate_limiter_is_completed_not_repeated() -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        limiter = RateLimiterConfig(min_size_to_sample=2, samples_per_insert=1.0, error_buffer=1.0)
        await core.create_table(table(rate_limiter=limiter))
        # 3 items go in (2 + 1 of buffer), the 4th waits for a learner: the actor gives up.
        cut = asyncio.ensure_future(core.record(stream(tagged(1, n=5))))
        await asyncio.sleep(0.05)
        assert core.table("t").size == 3
        cut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cut
        # The retry and a stale copy of the same message both wait for the learner; each sample
        # of 2 lets 2 items in: the missing 2 go in once, the other copy then inserts nothing.
        retries = asyncio.gather(core.record(stream(tagged(1, n=5))), core.record(stream(tagged(1, n=5))))
        for _ in range(2):
            await asyncio.sleep(0.05)
            async for _ in core.sample("t", 2, num_batches=1):
                pass
        results = await asyncio.wait_for(retries, 5)
        assert sorted(r.items for r in results) == [0, 2] and sum(r.duplicates for r in results) == 8
        assert core.stats("t").inserts == 5

    asyncio.run(scenario())


@pytest.mark.parametrize("checkpoint", [False, True])
def test_writers_progress_survives_a_crash(tmp_path: Any, checkpoint: bool) -> None:
    blobs = open_blobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    config = ReplayServiceConfig(checkpoint_interval_s=0)

    async def first() -> None:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        await core.create_table(table())
        await core.record(stream(tagged(1), tagged(2)))
        if checkpoint:
            await core.checkpoint()
        await core.record(stream(tagged(3)))
        if core._timer is not None:  # a crash: no checkpoint at shutdown
            core._timer.cancel()

    async def second() -> tuple[int, int]:
        core = ReplayCore(blobs, config, seed=0)
        await core.open()
        result = await core.record(stream(tagged(2), tagged(3), tagged(4)))
        inserts = core.stats("t").inserts
        await core.close()
        return result.items, inserts

    asyncio.run(first())
    assert asyncio.run(second()) == (2, 8)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), *(st.integers(lo, 6) for lo in (1, 0, 1))), max_size=30))
def test_progress_never_goes_back_and_round_trips(moves: list[tuple[str, int, int, int]]) -> None:
    writers = Writers()
    newest: dict[str, tuple[int, int]] = {}
    for writer, sequence, done, count in moves:
        before = writers.done(Tag(writer, sequence), count)
        writers.advance(Tag(writer, sequence), done)
        assert writers.done(Tag(writer, sequence), count) >= before
        newest[writer] = max(newest.get(writer, (0, 0)), (sequence, done))
        top, top_done = newest[writer]
        assert writers.done(Tag(writer, top), 10) == min(top_done, 10)
        assert top == 1 or writers.done(Tag(writer, top - 1), count) == count
        assert writers.done(Tag(writer, top + 1), count) == 0
    restored = Writers()
    restored.load_json(writers.to_json())
    assert restored.to_json() == writers.to_json()


def test_only_the_most_recent_writers_are_remembered() -> None:
    writers = Writers()
    for i in range(MAX_WRITERS + 10):
        writers.advance(Tag(f"w{i}", 1), 1)
    assert len(writers) == MAX_WRITERS
    assert writers.done(Tag("w0", 1), 1) == 0 and writers.done(Tag(f"w{MAX_WRITERS + 9}", 1), 1) == 1


@settings(max_examples=40, deadline=None)
@given(writer=st.text(max_size=200), sequence=st.integers(0, 2**64 - 1))
def test_any_tag_is_inserted_once_or_refused_clearly(writer: str, sequence: int) -> None:
    async def scenario() -> None:
        core = ReplayCore(None, seed=0)
        await core.create_table(table())
        chunk = Chunk(synthetic(1, 4, 3), writer_id=writer, sequence=sequence)
        message = encode_chunk("t", chunk)
        try:
            results = [await core.record(stream(message)) for _ in range(2)]
        except InvalidArgument as error:
            assert (len(writer) > 128 and "writer_id" in str(error)) or (writer and sequence < 1)
            assert core.stats("t").inserts == 0
            return
        assert [r.items for r in results] == ([1, 0] if writer else [1, 1])
        assert core.stats("t").inserts == (1 if writer else 2)

    asyncio.run(scenario())
