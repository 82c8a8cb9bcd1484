"""Rating updates per second through the Elo Service: one JSON line, figure ``elo_updates_per_s``.

An in-process server on a free loopback port, on the embedded storage (a SQLite file in a temporary
folder, the in-memory cache), receives N finished 1v1 games between 50 bots from ``EloClient`` over
gRPC, ``--concurrency`` calls in flight at a time (results of different games arrive concurrently, as
from the Game Service). Each update is the whole ReportResult: validation, player rows, the game row
and its results, Elo and Glicko-2 with history in one transaction, and the cached leaderboard's refresh.

    python benchmarks/elo_updates.py                 # N = 500, 8 in flight
    python benchmarks/elo_updates.py --results 2000 --concurrency 1

``benchmarks/services.py`` calls ``measure`` (``sys.path`` holds this folder when run as a script).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.elo import EloClient, GameReport, PlayerRef, SeatResult, open_service
from generals_rl.settings import Settings


def _reports(n: int, players: int, seed: int) -> list[GameReport]:
    rng = random.Random(seed)
    bots = [PlayerRef("bot", f"bot-{i}") for i in range(players)]
    reports = []
    for i in range(n):
        a, b = rng.sample(bots, 2)
        if rng.random() < 0.05:
            seats = (SeatResult(a, 0, "draw", 1), SeatResult(b, 1, "draw", 1))
        else:
            seats = (SeatResult(a, 0, "win", 1), SeatResult(b, 1, "loss", 2))
        reports.append(GameReport(f"bench-{seed}-{i}", "1v1", seats, ticks=rng.randint(50, 900)))
    return reports


async def measure(
    results: int = 500, concurrency: int = 8, players: int = 50, seed: int = 0
) -> dict[str, Any]:
    """Report ``results`` games through a fresh in-process Elo Service; the figure as a dict."""
    with tempfile.TemporaryDirectory(prefix="grl-bench-elo-") as folder:
        settings = Settings(data_dir=Path(folder))
        stores = await asyncio.to_thread(Stores.open, settings)
        handle = await open_service(settings, stores, Peers(settings))
        reports = _reports(results, players, seed)
        try:
            async with Server(handle.services, ServerConfig(port=0)) as server, channel(server.address) as ch:
                elo = EloClient(ch)
                await elo.get_rating(reports[0].players[0].player, "1v1")  # connect, build the leaderboard
                gate = asyncio.Semaphore(concurrency)

                async def report(r: GameReport) -> None:
                    async with gate:
                        await elo.report_result(r)

                start = time.perf_counter()
                await asyncio.gather(*(report(r) for r in reports))
                seconds = time.perf_counter() - start
                board = await elo.leaderboard("1v1", page_size=1000)
        finally:
            await handle.close()
            stores.close()
    assert sum(e.games for e in board.entries) == 2 * results, "every result rated once"
    return {
        "figure": "elo_updates_per_s",
        "value": round(results / seconds, 1),
        "results": results,
        "concurrency": concurrency,
        "players": players,
        "seconds": round(seconds, 3),
        "storage": "sqlite+memory",
        "transport": "grpc loopback",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=500, help="games to report (N)")
    parser.add_argument("--concurrency", type=int, default=8, help="ReportResult calls in flight")
    parser.add_argument("--players", type=int, default=50, help="bots the games are drawn between")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    figure = asyncio.run(measure(args.results, args.concurrency, args.players, args.seed))
    print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
