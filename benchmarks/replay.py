"""Replay Service throughput over loopback gRPC beside a raw gRPC stream of the same bytes, one JSON
line per figure.

Items are real: trajectories of T = 32 steps of 24x24 1v1 games played by the engine (random legal
moves), N = 8 per RecordExperience message (about 400 KB per item, 3.2 MB per message: armies
int32, 9 bool planes, scalars, the legal-action mask, then actions, log-probabilities, rewards,
dones). Three servers listen on free loopback ports: a Replay Service with its default durability
(every item logged to a ``file://`` blob store in a temporary folder, fsync'd, before the stream is
acknowledged), one without a blob store (memory only), and a minimal raw servicer (defined here:
bytes in, bytes out, no interceptor). By default each server runs in a child process of its own,
as the service and its actors do in a deployment (``--layout inline`` runs all three in the
benchmark's own event loop, where the client and the servers share one process and its GIL;
``--layout both`` measures both layouts, one after the other). The client runs in this process, in
alternating rounds:

- **insert**: ``ReplayClient.record`` streams the chunks (numpy arrays, encoded per message) into a
  uniform table (rate limiter off, FIFO eviction at 256 items) of the durable service: the response
  comes once every item is in the log. Raw: the same wire messages streamed to the raw servicer,
  which only counts them. The same insert into the memory-only service (``no_log``) shows what
  durability costs.
- **sample**: ``ReplayClient.sample`` of batches of 32 items (12.8 MB messages, decoded to numpy
  views) from the durable service. Raw: the raw servicer streams a message of the same bytes (one
  batch the service sent), counted by the client.

Figures: ``replay_insert_ratio_to_raw`` and ``replay_sample_ratio_to_raw`` (our MB/s over raw MB/s,
medians of the rounds; target >= 0.5 each), ``replay_insert_no_log_ratio_to_raw``, and items/s and
MB/s of every side (MB of wire bytes); every line names its ``layout``.

    python benchmarks/replay.py                                           # servers in child processes
    python benchmarks/replay.py --layout both                             # and then all in one process
    python benchmarks/replay.py --rounds 2 --messages 20 --batches 10     # quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
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
LAYOUTS = ("child", "inline")
WHERE = {
    "child": "grpc loopback, each server in a child process of its own",
    "inline": "grpc loopback, the servers in the client's process and event loop",
}


# the servers


@contextlib.asynccontextmanager
async def raw_server(batch_message: bytes) -> AsyncIterator[str]:
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
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


@contextlib.asynccontextmanager
async def replay_server(folder: str | None, steps: int) -> AsyncIterator[str]:
    """A Replay Service with the benchmark's table: durable on a ``file://`` blob store in
    ``folder``, or memory only when ``folder`` is None."""
    blobs = None
    if folder is not None:
        blobs = open_blobs(f"file://{Path(folder) / 'blobs'}")
        blobs.ensure_buckets()
    config = ReplayServiceConfig(checkpoint_interval_s=0, checkpoint_wal_bytes=1 << 40)
    core = ReplayCore(blobs, config, seed=0)
    await core.open()
    try:
        table = TableConfig(
            "bench", unroll_length=steps, max_items=256, rate_limiter=RateLimiterConfig(min_size_to_sample=1)
        )
        await core.create_table(table)
        async with Server([replay_service(ReplayServicer(core))], ServerConfig(port=0)) as server:
            yield server.address
    finally:
        await core.close()
        if blobs is not None:
            blobs.close()


def _server(kind: str, folder: str | None, steps: int, batch_message: bytes) -> Any:
    if kind == "raw":
        return raw_server(batch_message)
    return replay_server(folder if kind == "durable" else None, steps)


async def _serve(
    kind: str, folder: str | None, steps: int, batch_message: bytes, ready: Any, stop: Any
) -> None:
    async with _server(kind, folder, steps, batch_message) as address:
        ready.put(address)
        await asyncio.to_thread(stop.wait)


def _serve_process(
    kind: str, folder: str | None, steps: int, batch_message: bytes, ready: Any, stop: Any
) -> None:
    """A child process of ``--layout child``: one server until ``stop`` is set."""
    asyncio.run(_serve(kind, folder, steps, batch_message, ready, stop))


@contextlib.asynccontextmanager
async def serving(
    layout: str, kind: str, folder: str | None, steps: int, batch_message: bytes = b""
) -> AsyncIterator[str]:
    """The address of a ``kind`` server (``durable``, ``memory`` or ``raw``), in this process or in
    a child process of its own."""
    if layout == "inline":
        async with _server(kind, folder, steps, batch_message) as address:
            yield address
        return
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    process = context.Process(
        target=_serve_process, args=(kind, folder, steps, batch_message, ready, stop), daemon=True
    )
    process.start()
    try:
        yield await asyncio.to_thread(ready.get, True, 300)
    finally:
        stop.set()
        await asyncio.to_thread(process.join, 60)
        if process.is_alive():
            process.terminate()


# the rounds


async def measure(args: argparse.Namespace, layout: str) -> list[dict[str, Any]]:
    """The figures of one layout as dicts (module docstring)."""
    trajectories = [engine_trajectories(args.n, args.steps, args.side, seed=s) for s in range(2)]
    chunks = [Chunk(t, policy_version=i + 1) for i, t in enumerate(trajectories)]
    messages = [encode_chunk("bench", c) for c in chunks]
    with tempfile.TemporaryDirectory(prefix="grl-bench-replay-") as folder:
        async with (
            serving(layout, "durable", folder, args.steps) as durable_address,
            serving(layout, "memory", None, args.steps) as memory_address,
            channel(durable_address) as durable_ch,
            channel(memory_address) as memory_ch,
        ):
            durable, memory = ReplayClient(durable_ch), ReplayClient(memory_ch)
            for replay in (durable, memory):
                await replay.record("bench", chunks)  # fill the tables, warm up
            batch_message = await _one_batch_message(durable, args.batch)
            async with (
                serving(layout, "raw", None, args.steps, batch_message) as raw_address,
                channel(raw_address) as raw_ch,
            ):
                rounds = await _rounds(args, durable, memory, raw_ch, chunks, messages)
    return _figures(args, layout, rounds, len(messages[0]), len(batch_message))


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
        total = await sink(raw_messages())
        assert int.from_bytes(total, "little") == sum(len(messages[i % len(messages)]) for i in range(m))

    work: dict[str, Callable[[], Any]] = {
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
    args: argparse.Namespace,
    layout: str,
    rounds: dict[str, list[float]],
    message_bytes: int,
    batch_bytes: int,
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
        "layout": layout,
        "transport": WHERE[layout],
        "item_kb": round(message_bytes / args.n / 1e3, 1),
        "items_per_message": args.n,
        "batch": args.batch,
        "steps": args.steps,
        "side": args.side,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
    }
    figures: list[dict[str, Any]] = [
        {
            "figure": "replay_insert_ratio_to_raw",
            "value": round(rate["insert"] / rate["insert_raw"], 3),
            "target": ">= 0.5",
        },
        {
            "figure": "replay_sample_ratio_to_raw",
            "value": round(rate["sample"] / rate["sample_raw"], 3),
            "target": ">= 0.5",
        },
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
    parser.add_argument(
        "--layout",
        choices=(*LAYOUTS, "both"),
        default="child",
        help="where the servers run: each in a child process (default), in this process, or both in turn",
    )
    args = parser.parse_args()
    for layout in LAYOUTS if args.layout == "both" else (args.layout,):
        for figure in asyncio.run(measure(args, layout)):
            print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
