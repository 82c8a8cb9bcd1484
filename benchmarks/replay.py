"""Replay Service throughput over loopback gRPC beside a raw gRPC stream of the same bytes, one JSON
line per figure.

Items are real: trajectories of T = 32 steps of 24x24 1v1 games played by the engine (random legal
moves), N = 8 per RecordExperience message (about 400 KB per item, 3.2 MB per message: armies
int32, 9 bool planes, scalars, the legal-action mask, then actions, log-probabilities, rewards,
dones). Every server runs in this process on a free loopback port (so client and server share its
CPU), in alternating rounds:

- **insert**: ``ReplayClient.record`` streams the chunks (numpy arrays, encoded per message) into a
  uniform table (rate limiter off, FIFO eviction at 256 items) of a Replay Service with its default
  durability: every item logged to a ``file://`` blob store in a temporary folder (fsync'd) before
  the stream is acknowledged. Raw: the same wire messages streamed to a servicer that only counts
  them. The same insert into a service without a blob store (``no_log``: memory only) shows what
  durability costs.
- **sample**: ``ReplayClient.sample`` of batches of 32 items (12.8 MB messages, decoded to numpy
  views). Raw: a servicer streaming a prepared message of the same size, counted by the client.

Figures: ``replay_insert_ratio_to_raw`` and ``replay_sample_ratio_to_raw`` (our MB/s over raw MB/s,
medians of the rounds; target >= 0.5 each), ``replay_insert_no_log_ratio_to_raw``, and items/s and
MB/s of every side (MB of wire bytes).

    python benchmarks/replay.py
    python benchmarks/replay.py --rounds 2 --messages 20 --batches 10     # quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.server import MAX_MESSAGE_BYTES, server_options
from generals_rl.services.replay import (
    Chunk,
    RateLimiterConfig,
    ReplayClient,
    ReplayCore,
    ReplayServiceConfig,
    ReplayServicer,
    TableConfig,
    replay_service,
)
from generals_rl.services.replay.client import encode_chunk
from generals_rl.services.replay.testing import engine_trajectories
from generals_rl.storage import open_blobs
from generals_rl.v1 import replay_pb2

RAW = "raw.Raw"
SIDES = ("insert", "insert_no_log", "insert_raw", "sample", "sample_raw")


async def start_raw_server(batch_message: bytes) -> tuple[grpc.aio.Server, int]:
    """A servicer that counts streamed bytes (insert) and streams ``batch_message`` (sample)."""

    async def sink(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
        total = 0
        async for message in requests:
            total += len(message)
        return total.to_bytes(8, "little")

    async def source(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for _ in range(int.from_bytes(request, "little")):
            yield batch_message

    handlers = {
        "Sink": grpc.stream_unary_rpc_method_handler(sink),
        "Source": grpc.unary_stream_rpc_method_handler(source),
    }
    server = grpc.aio.server(options=server_options(MAX_MESSAGE_BYTES))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(RAW, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@contextlib.asynccontextmanager
async def replay_server(core: ReplayCore, steps: int) -> AsyncIterator[ReplayClient]:
    await core.open()
    table = TableConfig(
        "bench", unroll_length=steps, max_items=256, rate_limiter=RateLimiterConfig(min_size_to_sample=1)
    )
    await core.create_table(table)
    server = Server([replay_service(ReplayServicer(core))], ServerConfig(port=0))
    try:
        async with server, channel(server.address) as ch:
            yield ReplayClient(ch)
    finally:
        await core.close()


async def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    trajectories = [engine_trajectories(args.n, args.steps, args.side, seed=s) for s in range(2)]
    chunks = [Chunk(t, policy_version=i + 1) for i, t in enumerate(trajectories)]
    messages = [encode_chunk("bench", c) for c in chunks]
    with tempfile.TemporaryDirectory(prefix="grl-bench-replay-") as folder:
        blobs = open_blobs(f"file://{Path(folder) / 'blobs'}")
        blobs.ensure_buckets()
        config = ReplayServiceConfig(checkpoint_interval_s=0, checkpoint_wal_bytes=1 << 40)
        async with (
            replay_server(ReplayCore(blobs, config, seed=0), args.steps) as durable,
            replay_server(ReplayCore(None, seed=0), args.steps) as memory,
        ):
            for replay in (durable, memory):
                await replay.record("bench", chunks)  # fill the tables, warm up
            batch_message = await _one_batch_message(durable, args.batch)
            raw_server, raw_port = await start_raw_server(batch_message)
            try:
                async with channel(f"127.0.0.1:{raw_port}") as raw_ch:
                    rounds = await _rounds(args, durable, memory, raw_ch, chunks, messages)
            finally:
                await raw_server.stop(0)
        blobs.close()
    return _figures(args, rounds, len(messages[0]), len(batch_message))


async def _one_batch_message(replay: ReplayClient, batch: int) -> bytes:
    """One sampled batch as its wire bytes (what the raw source streams)."""
    request = replay_pb2.GetExperienceBatchRequest(table="bench", batch_size=batch, num_batches=1)
    async for message in replay._sample(request):
        return bytes(message)
    raise RuntimeError("no batch")


async def _rounds(
    args: argparse.Namespace,
    durable: ReplayClient,
    memory: ReplayClient,
    raw_ch: grpc.aio.Channel,
    chunks: list[Chunk],
    messages: list[bytes],
) -> dict[str, list[float]]:
    sink = raw_ch.stream_unary(f"/{RAW}/Sink", request_serializer=None, response_deserializer=None)
    source = raw_ch.unary_stream(f"/{RAW}/Source", request_serializer=None, response_deserializer=None)
    out: dict[str, list[float]] = {side: [] for side in SIDES}
    m = args.messages

    async def raw_messages() -> AsyncIterator[bytes]:
        for i in range(m):
            yield messages[i % len(messages)]

    async def insert(replay: ReplayClient) -> None:
        result = await replay.record("bench", (chunks[i % len(chunks)] for i in range(m)))
        assert result.items == m * args.n

    async def raw_sample() -> None:
        async for _ in source(args.batches.to_bytes(8, "little")):
            pass

    async def sample() -> None:
        count = 0
        async for batch in durable.sample("bench", args.batch, num_batches=args.batches):
            count += batch.keys.shape[0]
        assert count == args.batch * args.batches

    async def raw_insert() -> None:
        await sink(raw_messages())

    work = {
        "insert_raw": raw_insert,
        "insert": lambda: insert(durable),
        "insert_no_log": lambda: insert(memory),
        "sample_raw": raw_sample,
        "sample": sample,
    }
    for _ in range(args.rounds):
        for side in ("insert_raw", "insert", "insert_no_log", "sample_raw", "sample"):
            start = time.perf_counter()
            await work[side]()
            out[side].append(time.perf_counter() - start)
    return out


def _figures(
    args: argparse.Namespace, rounds: dict[str, list[float]], message_bytes: int, batch_bytes: int
) -> list[dict[str, Any]]:
    seconds = {side: statistics.median(values) for side, values in rounds.items()}
    mb = {
        side: (args.messages * message_bytes if side.startswith("insert") else args.batches * batch_bytes)
        / 1e6
        for side in SIDES
    }
    items = {
        side: args.messages * args.n if side.startswith("insert") else args.batches * args.batch
        for side in SIDES
    }
    rate = {side: mb[side] / seconds[side] for side in SIDES}
    common = {
        "item_kb": round(message_bytes / args.n / 1e3, 1),
        "items_per_message": args.n,
        "batch": args.batch,
        "steps": args.steps,
        "side": args.side,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
    }
    figures: list[dict[str, Any]] = [
        {"figure": "replay_insert_ratio_to_raw", "value": round(rate["insert"] / rate["insert_raw"], 3)},
        {"figure": "replay_sample_ratio_to_raw", "value": round(rate["sample"] / rate["sample_raw"], 3)},
        {
            "figure": "replay_insert_no_log_ratio_to_raw",
            "value": round(rate["insert_no_log"] / rate["insert_raw"], 3),
        },
    ]
    for figure in figures:
        figure["unit"] = "ratio"
    for side in SIDES:
        figures.append({"figure": f"replay_{side}_mb_per_s", "value": round(rate[side], 1), "unit": "MB/s"})
        figures.append(
            {
                "figure": f"replay_{side}_items_per_s",
                "value": round(items[side] / seconds[side], 1),
                "unit": "items/s",
            }
        )
    return [{**f, **common} for f in figures]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=8, help="trajectories per RecordExperience message")
    parser.add_argument("--steps", type=int, default=32, help="unroll length T")
    parser.add_argument("--side", type=int, default=24, help="board side")
    parser.add_argument("--batch", type=int, default=32, help="items per sampled batch")
    parser.add_argument("--messages", type=int, default=100, help="messages per insert round")
    parser.add_argument("--batches", type=int, default=25, help="batches per sample round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (medians reported)")
    args = parser.parse_args()
    for figure in asyncio.run(measure(args)):
        print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
