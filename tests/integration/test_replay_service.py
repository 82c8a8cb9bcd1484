"""The Replay Service over gRPC as actors and learners use it: in process through ``open_service`` on
the embedded storage, driven by ``ReplayClient``; and ``grl serve replay`` killed with SIGKILL after
acknowledging a stream, then restarted on the same storage, serving every acknowledged item."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.replay import (
    Chunk,
    RateLimiterConfig,
    RemoverConfig,
    ReplayClient,
    ReplayServiceConfig,
    SamplerConfig,
    TableConfig,
    open_service,
)
from generals_rl.services.replay.client import encode_chunk
from generals_rl.services.replay.testing import synthetic
from generals_rl.settings import Settings
from generals_rl.v1 import replay_pb2, replay_pb2_grpc

GRL = [sys.executable, "-m", "generals_rl.cli.main"]


def queue(name: str) -> TableConfig:
    """A FIFO queue: every item sampled once, in insertion order."""
    return TableConfig(
        name,
        sampler=SamplerConfig("fifo"),
        remover=RemoverConfig("max_times_sampled", 1),
        unroll_length=4,
        max_items=1000,
    )


def test_actors_and_learners_through_the_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path / "data")
        stores = await asyncio.to_thread(Stores.open, settings)
        handle = await open_service(
            settings, stores, Peers(settings), ReplayServiceConfig(checkpoint_interval_s=0)
        )
        try:
            async with Server(handle.services, ServerConfig(port=0)) as server, channel(server.address) as ch:
                health = health_pb2_grpc.HealthStub(ch)
                answer = await health.Check(
                    health_pb2.HealthCheckRequest(service="generals_rl.v1.ReplayService")
                )
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
                replay = ReplayClient(ch)
                await prioritized_learning(replay)
                await rate_limited(replay)
                await errors(replay, replay_pb2_grpc.ReplayServiceStub(ch))
                await cut_short(replay, ch)
                response = await replay.checkpoint()
                assert response.items > 0 and response.uri.endswith("manifest.json")
        finally:
            await handle.close()
            stores.close()

    asyncio.run(scenario())


async def prioritized_learning(replay: ReplayClient) -> None:
    config = TableConfig(
        "learner",
        sampler=SamplerConfig("prioritized", alpha=1.0, beta=1.0),
        unroll_length=4,
        archive=True,
        max_items=6,
    )
    assert await replay.create_table(config) == config
    assert await replay.create_table(config) == config  # every actor may create it at start
    chunks = [Chunk(synthetic(2, 4, 5, seed=i, extras=True), policy_version=i + 1) for i in range(4)]
    result = await replay.record("learner", chunks)
    assert result.items == 8 and result.bytes > 0
    seen = 0
    async for batch in replay.sample("learner", 5, num_batches=2, learner_version=10):
        assert batch.trajectories.armies.shape == (5, 5, 5, 5) and batch.trajectories.planes.dtype == np.bool_
        assert batch.trajectories.extras["values"].shape == (5, 4)
        assert batch.trajectories.extras["memory"].shape == (5, 5, 5, 5)  # per trajectory
        stored = {row.tobytes() for chunk in chunks for row in chunk.trajectories.extras["memory"]}
        assert all(row.tobytes() in stored for row in batch.trajectories.extras["memory"])
        assert batch.table_size == 6 and np.all(batch.importance_weights <= 1.0)
        tensors = batch.trajectories.to_torch()
        assert tensors["actions"].shape == (5, 4) and tensors["extras.values"].dtype.is_floating_point
        updated, missing = await replay.update_priorities("learner", batch.keys, np.full(5, 0.5))
        assert updated == 5 and missing == 0
        seen += 1
    assert seen == 2
    assert await replay.update_priorities("learner", [1, 2], [1.0, 1.0]) == (0, 2)  # evicted already
    stats = await replay.stats("learner")
    assert (stats.size, stats.inserts, stats.samples, stats.removed) == (6, 8, 10, 2)
    assert (stats.newest_version, stats.oldest_version) == (4, 2)
    assert 6.0 <= stats.sampled_lag_versions <= 8.0
    [(listed, listed_stats)] = [t for t in await replay.list_tables() if t[0].name == "learner"]
    assert listed == config and listed_stats.size == 6
    await replay.checkpoint()  # writes the archive of the two evicted items
    assert (await replay.stats("learner")).archived == 2
    await replay.create_table(TableConfig("replayed", unroll_length=4))
    assert (await replay.load_archive("replayed", source_table="learner"))[0] == 2


async def rate_limited(replay: ReplayClient) -> None:
    limited = TableConfig(
        "limited",
        unroll_length=4,
        rate_limiter=RateLimiterConfig(min_size_to_sample=2, samples_per_insert=1.0, error_buffer=2.0),
    )
    await replay.create_table(limited)
    with pytest.raises(DeadlineExceeded, match="rate limiter"):
        async for _ in replay.sample("limited", 1, timeout_s=0.05):
            pass
    writing = asyncio.ensure_future(
        replay.record("limited", [Chunk(synthetic(3, 4, 3)), Chunk(synthetic(3, 4, 3))])
    )
    await asyncio.sleep(0.2)
    assert not writing.done()  # 2 + 2 items fit before a sample; the actor waits
    async for _ in replay.sample("limited", 4, num_batches=1):
        pass
    assert (await asyncio.wait_for(writing, 10)).items == 6
    stats = await replay.stats("limited")
    assert stats.insert_waits == 1 and stats.sample_waits >= 1 and stats.rate_limiter_diff == 6 - 4


async def errors(replay: ReplayClient, stub: replay_pb2_grpc.ReplayServiceStub) -> None:
    with pytest.raises(NotFound, match="unknown table 'ghost'"):
        await replay.stats("ghost")
    with pytest.raises(NotFound):
        await replay.record("ghost", [Chunk(synthetic(1, 4, 3))])
    with pytest.raises(AlreadyExists):
        await replay.create_table(TableConfig("learner", unroll_length=8))
    with pytest.raises(InvalidArgument, match="alpha"):
        await replay.create_table(TableConfig("x", sampler=SamplerConfig("prioritized", alpha=2.0)))
    with pytest.raises(FailedPrecondition):
        await replay.update_priorities("limited", [1], [1.0])
    before = await replay.stats("learner")
    with pytest.raises(InvalidArgument, match=r"steps.*unroll_length T = 4.*\(1 items of this stream"):
        await replay.record(
            "learner", [Chunk(synthetic(1, 4, 5, extras=True)), Chunk(synthetic(1, 3, 5, extras=True))]
        )
    # A tensor cut short on the wire, through the generated stub.
    bad = replay_pb2.RecordExperienceRequest.FromString(
        encode_chunk("learner", Chunk(synthetic(1, 4, 5, extras=True)))
    )
    bad.trajectories.rewards.data = bad.trajectories.rewards.data[:-1]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RecordExperience(iter([bad]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "trajectories.rewards" in (info.value.details() or "")
    after = await replay.stats("learner")
    assert after.inserts == before.inserts + 1 and after.size == before.size  # the good message only


async def cut_short(replay: ReplayClient, ch: grpc.aio.Channel) -> None:
    """A client that goes away mid-stream: its whole messages stay, the service goes on."""
    await replay.create_table(queue("cut"))
    sent = asyncio.Event()

    async def messages() -> AsyncIterator[bytes]:
        yield encode_chunk("cut", Chunk(synthetic(2, 4, 3)))
        sent.set()
        await asyncio.sleep(3600)
        yield b""

    record = ch.stream_unary("/generals_rl.v1.ReplayService/RecordExperience", request_serializer=None)
    call = record(messages())
    await sent.wait()
    while (await replay.stats("cut")).size < 2:
        await asyncio.sleep(0.01)
    call.cancel()
    assert (await replay.stats("cut")).size == 2
    assert (await replay.record("cut", [Chunk(synthetic(1, 4, 3))])).items == 1


# kill -9 and restart


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "GRL_DATA_DIR": str(data),
        "PYTHONUNBUFFERED": "1",
        "GRL_REPLAY_CHECKPOINT_INTERVAL_S": "0",
    }
    return subprocess.Popen(
        [*GRL, "serve", "replay", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def wait_serving(address: str) -> None:
    deadline = time.monotonic() + 60
    async with channel(address) as ch:
        while True:
            try:
                health = health_pb2_grpc.HealthStub(ch)
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            assert time.monotonic() < deadline, f"{address} did not become SERVING"
            await asyncio.sleep(0.2)


def test_a_killed_service_restarts_with_every_acknowledged_item(tmp_path: Path) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    chunks = [Chunk(synthetic(3, 4, 6, seed=i), policy_version=i) for i in range(5)]

    async def before_the_kill() -> None:
        await wait_serving(address)
        async with channel(address) as ch:
            replay = ReplayClient(ch)
            await replay.create_table(queue("q"))
            assert (await replay.record("q", chunks[:3])).items == 9
            assert (await replay.record("q", chunks[3:])).items == 6  # acknowledged: in the log

    async def after_the_restart() -> None:
        await wait_serving(address)
        async with channel(address) as ch:
            replay = ReplayClient(ch)
            assert (await replay.stats("q")).size == 15
            armies = [b.trajectories.armies async for b in replay.sample("q", 5, num_batches=3)]
            expected = np.concatenate([np.asarray(c.trajectories.armies) for c in chunks])
            assert np.array_equal(np.concatenate(armies), expected)  # every item, in order, intact

    first = serve(tmp_path / "data", port)
    try:
        asyncio.run(before_the_kill())
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = serve(tmp_path / "data", port)
    try:
        asyncio.run(after_the_restart())
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=30)[0]
    assert second.returncode == 0, output
