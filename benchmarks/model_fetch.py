"""Fetching a 10 MB policy through the Model Service's GetPolicy versus a raw gRPC stream of the same
bytes, in the same run: JSON lines, the figure ``policy_fetch_10mb_ratio_to_raw`` (target <= 1.5).

A Model Service on a free loopback port, on the embedded storage (a SQLite file and a blob folder in a
temporary folder), holds one accepted version whose safetensors file is just under 10 MiB (the widest
8-block ``resnet-v1`` that fits: 10 chunks). Beside it, a minimal raw servicer (defined here: one
server-streaming method, bytes in, bytes out, no interceptor) streams the same file in the same 1 MiB
chunks. By default both servers run in a child process, as a service and its actors do (``--layout
inline`` runs them in the benchmark's own event loop). Repeats alternate between the kinds of fetch,
through one ``common.channel`` per server:

- ``policy``: ``ModelClient.fetch_bytes("latest")``: the alias resolved in SQL, the weights from the
  hot cache, the version's metadata, the chunks, the SHA-256, which the client checks against the
  bytes before returning them (the contract's obligation; hashing 10 MiB costs several ms of CPU);
- ``raw``: the chunks, joined.

Medians of ``--repeats`` are reported in ms, and their ratio. Two more lines put the figure in
context: ``policy_fetch_10mb_unverified_ratio_to_raw`` (the GetPolicy stream read and joined without
the SHA-256 check: the protocol's own overhead) and ``policy_fetch_and_load_10mb_ms`` (``fetch``: the
checked download plus building the network from the file).

    python benchmarks/model_fetch.py                   # 30 repeats, servers in a child process
    python benchmarks/model_fetch.py --repeats 5       # quick
    python benchmarks/model_fetch.py --layout inline   # servers in this process
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import torch

from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.server import MAX_MESSAGE_BYTES
from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.model import (
    ModelClient,
    ModelServiceConfig,
    Selector,
    ValidationConfig,
    open_service,
)
from generals_rl.services.model import weights as policy_weights
from generals_rl.services.model.transfer import chunks
from generals_rl.settings import Settings
from generals_rl.training.networks import ResNetConfig, ResNetPolicy, parameter_count

MIB = 1024 * 1024
RAW_METHOD = "/bench.RawBytes/Stream"
LATEST = Selector(alias="latest")


def network_of_size(target_bytes: int, blocks: int = 8) -> ResNetPolicy:
    """The widest ``resnet-v1`` whose safetensors file fits in ``target_bytes`` (float32 weights
    plus a header of a few KiB)."""
    best = None
    for width in range(8, 1025):
        with torch.device("meta"):
            size = parameter_count(ResNetPolicy(ResNetConfig(channels=width, blocks=blocks))) * 4
        if size + 16 * 1024 > target_bytes:
            break
        best = width
    if best is None:
        raise ValueError(f"no resnet-v1 of {blocks} blocks fits in {target_bytes} bytes")
    return ResNetPolicy(ResNetConfig(channels=best, blocks=blocks))


async def raw_server(pieces: list[bytes]) -> tuple[grpc.aio.Server, str]:
    """The raw baseline: one server-streaming method that sends ``pieces`` as they are."""

    async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    options = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    server = grpc.aio.server(options=options)
    handler = grpc.method_handlers_generic_handler(
        "bench.RawBytes", {"Stream": grpc.unary_stream_rpc_method_handler(stream)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def serving(folder: str, size_bytes: int) -> AsyncIterator[tuple[str, str, int]]:
    """A Model Service on the embedded storage in ``folder`` with the policy published and accepted,
    and the raw servicer with the same bytes: (model address, raw address, file size)."""
    torch.set_num_threads(1)
    network = network_of_size(size_bytes)
    quick = ValidationConfig(
        board_sides=(6,), ffa_players=0, boards_per_size=1, sanity_games=2, sanity_side=6
    )
    settings = Settings(data_dir=Path(folder))
    stores = await asyncio.to_thread(Stores.open, settings)
    handle = await open_service(settings, stores, Peers(settings), ModelServiceConfig(validation=quick))
    data = policy_weights.encode(network)
    raw, raw_address = await raw_server(list(chunks(data)))
    try:
        async with Server(handle.services, ServerConfig(port=0)) as server:
            async with channel(server.address) as ch:
                published = await ModelClient(ch).publish(network, publisher="benchmark")
            assert published.state == "accepted", published.status_reason
            yield server.address, raw_address, len(data)
    finally:
        await raw.stop(None)
        await handle.close()
        stores.close()


async def _serve(folder: str, size_bytes: int, ready: Any, stop: Any) -> None:
    async with serving(folder, size_bytes) as addresses:
        ready.put(addresses)
        await asyncio.to_thread(stop.wait)


def _serve_process(folder: str, size_bytes: int, ready: Any, stop: Any) -> None:
    """The child process of ``--layout process``: serves until ``stop`` is set."""
    asyncio.run(_serve(folder, size_bytes, ready, stop))


async def fetch_repeatedly(
    model_address: str, raw_address: str, size: int, repeats: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Seconds of each kind of fetch, alternating kinds within every repeat."""
    async with channel(model_address) as model_channel, channel(raw_address) as raw_channel:
        models = ModelClient(model_channel)
        raw_call = raw_channel.unary_stream(RAW_METHOD)

        async def raw() -> int:
            return len(b"".join([piece async for piece in raw_call(b"")]))

        async def policy() -> int:
            got = await models.fetch_bytes(LATEST)
            return len(got[1]) if isinstance(got, tuple) else -1

        async def unverified() -> int:
            pieces = [p async for p in models.download(LATEST) if isinstance(p, bytes | memoryview)]
            return len(b"".join(pieces))

        async def load() -> int:
            return size if await models.fetch(LATEST) is not None else -1

        kinds: dict[str, Callable[[], Awaitable[int]]] = {
            "raw": raw,
            "policy": policy,
            "unverified": unverified,
            "load": load,
        }
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for i in range(warmup + repeats):
            for name, fetch in kinds.items():
                start = time.perf_counter()
                got = await fetch()
                seconds = time.perf_counter() - start
                assert got == size, f"{name} fetched {got} bytes, expected {size}"
                if i >= warmup:
                    times[name].append(seconds)
        return times


async def measure(
    repeats: int = 30, size_bytes: int = 10 * MIB, layout: str = "process"
) -> list[dict[str, Any]]:
    """The figures as dicts (module docstring)."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="grl-bench-model-") as folder:
        if layout == "inline":
            async with serving(folder, size_bytes) as (model_address, raw_address, size):
                times = await fetch_repeatedly(model_address, raw_address, size, repeats)
        else:
            context = multiprocessing.get_context("spawn")
            ready, stop = context.Queue(), context.Event()
            process = context.Process(
                target=_serve_process, args=(folder, size_bytes, ready, stop), daemon=True
            )
            process.start()
            try:
                model_address, raw_address, size = await asyncio.to_thread(ready.get, True, 300)
                times = await fetch_repeatedly(model_address, raw_address, size, repeats)
            finally:
                stop.set()
                process.join(30)
                if process.is_alive():
                    process.terminate()
    ms = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    where = "servers in a child process" if layout != "inline" else "servers in the client's event loop"
    common = {
        "bytes": size,
        "chunks": -(-size // MIB),
        "repeats": repeats,
        "storage": "sqlite+file, hot cache",
        "transport": f"grpc loopback, {where}",
    }
    return [
        {
            "figure": "policy_fetch_10mb_ratio_to_raw",
            "value": round(ms["policy"] / ms["raw"], 3),
            "target": "<= 1.5",
            "policy_ms": round(ms["policy"], 2),
            "raw_ms": round(ms["raw"], 2),
            **common,
        },
        {
            "figure": "policy_fetch_10mb_unverified_ratio_to_raw",
            "value": round(ms["unverified"] / ms["raw"], 3),
            "unverified_ms": round(ms["unverified"], 2),
            "raw_ms": round(ms["raw"], 2),
            **common,
        },
        {"figure": "policy_fetch_and_load_10mb_ms", "value": round(ms["load"], 2), **common},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed fetches of each kind")
    parser.add_argument("--mib", type=float, default=10.0, help="largest size of the policy file in MiB")
    parser.add_argument(
        "--layout", choices=("process", "inline"), default="process", help="where the servers run"
    )
    args = parser.parse_args()
    for figure in asyncio.run(measure(args.repeats, int(args.mib * MIB), args.layout)):
        print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
