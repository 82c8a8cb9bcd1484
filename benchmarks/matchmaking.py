"""Matchmaking latency with 1,000 waiting players: one JSON line per figure.

Figures, each the median over ``--repeats`` runs (min and max alongside):

- ``pair_step_ms``: one pairing step over a queue of 1,000 tickets none of which can meet (the
  loop's steady cost while players wait);
- ``pair_step_500_games_ms``: one step that pairs 1,000 close tickets into 500 games (game
  creation on a fake Game Service that answers at once);
- ``latency_1000th_ms`` (domain): from the 1,000th FindMatch call to its ticket stored MATCHED,
  with the pairing loop running (999 tickets wait, the 1,000th meets one of them);
- ``latency_1000th_grpc_ms``: the same through an in-process gRPC server and ``MatchmakerClient``:
  from sending FindMatch to receiving the MATCHED message on WatchTicket.

The Game, Elo and Model services are the fakes of ``generals_rl.services.testing.fakes``, so the
figures are the matchmaker's own cost (cache, pairing, its RPCs), not game creation.

    python benchmarks/matchmaking.py                     # memory://
    python benchmarks/matchmaking.py --redis             # also on a redis-server started here
    python benchmarks/matchmaking.py --cache-uri redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from generals_rl.services.common.server import Server, bind
from generals_rl.services.matchmaker import SERVICE
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.matchmaker.core import MatchmakerConfig, PlayerRef, TicketStatus
from generals_rl.services.matchmaker.queues import FindMatch, Queues
from generals_rl.services.matchmaker.servicer import MatchmakerServicer
from generals_rl.services.matchmaker.tournaments_runner import Tournaments
from generals_rl.services.testing.fakes import FakeGames, FakeModels, FakeRatings, FakeSessions
from generals_rl.storage import Cache, open_cache
from generals_rl.v1 import matchmaker_pb2 as pb

SPACING = 5_000.0  # rating gap between waiting players: wider than any window (800 at most)


def queues_on(cache: Cache, n: int, interval_s: float = 0.5) -> Queues:
    """Matchmaker queues over fakes: model versions 1..n+1, version v rated v * SPACING."""
    ratings = FakeRatings({f"model:{v}": v * SPACING for v in range(1, n + 1)})
    ratings.values[f"model:{n + 1}"] = SPACING + 10  # meets version 1
    models = FakeModels(accepted=range(1, n + 2))
    config = MatchmakerConfig(seed=1, interval_s=interval_s, watch_poll_s=0.01)
    return Queues(cache, FakeGames(), ratings, models, FakeSessions(), config)


def flush(cache: Cache) -> None:
    for name in cache.hgetall("mm:queues"):
        cache.delete(f"mm:waiting:{name}", f"mm:waits:{name}")
    cache.delete("mm:queues")


async def fill(queues: Queues, n: int) -> None:
    for v in range(1, n + 1):
        await queues.find_match(FindMatch(player=PlayerRef.model(v)))


def summary(name: str, values: list[float], **context: Any) -> dict[str, Any]:
    return {
        "benchmark": "matchmaking",
        "figure": name,
        "value": round(statistics.median(values), 3),
        "unit": "ms",
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "repeats": len(values),
        **context,
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def pair_step(cache: Cache, waiting: int, repeats: int) -> list[float]:
    flush(cache)
    queues = queues_on(cache, waiting)
    await fill(queues, waiting)
    times = [await timed(queues.step) for _ in range(repeats)]
    assert len(queues.store.waiting("1v1")) == waiting, "no ticket may pair in this figure"
    return times


async def pair_step_games(cache: Cache, waiting: int, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        flush(cache)
        queues = queues_on(cache, waiting)
        queues.ratings = FakeRatings()  # everyone at the starting rating: all can meet
        await fill(queues, waiting)
        start = time.perf_counter()
        started = await queues.step()
        times.append((time.perf_counter() - start) * 1000)
        assert len(started) == waiting // 2
    return times


async def latency(cache: Cache, waiting: int, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        flush(cache)
        queues = queues_on(cache, waiting - 1)
        await fill(queues, waiting - 1)
        await queues.step()
        await queues.start()
        try:
            start = time.perf_counter()
            ticket = await queues.find_match(FindMatch(player=PlayerRef.model(waiting)))
            async for state in queues.watch(ticket.id):
                if state.status is TicketStatus.MATCHED:
                    break
            times.append((time.perf_counter() - start) * 1000)
        finally:
            await queues.close()
    return times


async def latency_grpc(cache: Cache, waiting: int, repeats: int, tmp: str) -> list[float]:
    from generals_rl.storage.blobs.file import FileBlobStore

    times = []
    for _ in range(repeats):
        flush(cache)
        queues = queues_on(cache, waiting - 1)
        tournaments = Tournaments(FileBlobStore(f"file://{tmp}"), cache, queues.games, queues.models)
        async with Server([bind(MatchmakerServicer(queues, tournaments), SERVICE)]) as server:
            times.append(await one_latency_grpc(server.address, queues, waiting))
    return times


async def one_latency_grpc(address: str, queues: Queues, waiting: int) -> float:
    async with MatchmakerClient(address) as client:
        for v in range(1, waiting):
            await client.find_match(model_version=v)
        await queues.step()
        await queues.start()
        try:
            start = time.perf_counter()
            ticket = await client.find_match(model_version=waiting)
            final = await client.wait_ticket(ticket.ticket_id, timeout_s=30)
            elapsed = (time.perf_counter() - start) * 1000
        finally:
            await queues.close()
    assert final.status == pb.TICKET_STATUS_MATCHED
    return elapsed


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("--redis needs redis-server on PATH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="grl-bench-redis-")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*command, "--dir", folder], stdout=subprocess.DEVNULL)
    try:
        uri = f"redis://127.0.0.1:{port}/0"
        for _ in range(200):
            try:
                open_cache(uri).get("ping")
                break
            except Exception:
                time.sleep(0.05)
        yield uri
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


async def run(uri: str, waiting: int, repeats: int) -> None:
    cache = open_cache(uri)
    context = {"waiting": waiting, "cache": uri.split("://")[0] + "://", "peers": "in-process fakes"}
    with tempfile.TemporaryDirectory(prefix="grl-bench-blobs-") as tmp:
        figures = [
            ("pair_step_ms", pair_step(cache, waiting, repeats)),
            ("pair_step_500_games_ms", pair_step_games(cache, waiting, max(3, repeats // 4))),
            ("latency_1000th_ms", latency(cache, waiting, repeats)),
            ("latency_1000th_grpc_ms", latency_grpc(cache, waiting, max(3, repeats // 4), tmp)),
        ]
        for name, work in figures:
            print(json.dumps(summary(name, await work, **context)), flush=True)
    flush(cache)
    cache.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=1000, help="players waiting (default 1000)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cache-uri", default="memory://")
    parser.add_argument("--redis", action="store_true", help="also on a redis-server started here")
    args = parser.parse_args()
    asyncio.run(run(args.cache_uri, args.waiting, args.repeats))
    if args.redis:
        with redis_server() as uri:
            asyncio.run(run(uri, args.waiting, args.repeats))


if __name__ == "__main__":
    main()
