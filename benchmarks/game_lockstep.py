"""Lock-step games through the Game Service's StepBatch over loopback gRPC versus the in-process engine
loop, in the same run; one JSON line per figure.

Both sides do the same work per env-step (one tick of one game, both players acting): every
player's fogged observation and legal mask, a uniformly random legal action per player drawn from
the mask, the engine step, and auto-reset of finished games on fresh 24x24 generals.io-like maps.
Through the service the caller controls both seats: each step sends the (B, 2) actions and reads
back observations, rewards and dones as raw tensors (a GameClient on 127.0.0.1, the server in the
same process on its own event loop thread's worker threads).

    python benchmarks/game_lockstep.py                  # B = 256, 8 s per figure
    python benchmarks/game_lockstep.py --batch 64 --seconds 4

Figures: ``engine_env_steps_per_s`` (the in-process loop), ``game_lockstep_env_steps_per_s``
(through StepBatch), ``game_lockstep_ratio_to_engine`` (the second over the first) and
``game_lockstep_step_ms`` (latency of one StepBatch round trip, median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import torch
from prometheus_client import CollectorRegistry

from generals_rl.agents.base import sample_legal
from generals_rl.game import EngineConfig, MapConfig, MapPool, observe, step
from generals_rl.game.autoreset import new_games, reset_finished
from generals_rl.services.common.server import Server, ServerConfig, bind
from generals_rl.services.game import GameClient, GameHost, GameServicer
from generals_rl.services.game.client import RemoteBatch
from generals_rl.services.game.domain import BatchSpec, EngineOptions, GeneratorSpec
from generals_rl.services.game.servicer import SERVICE


class EngineLoop:
    """The in-process loop of benchmarks/engine.py."""

    def __init__(self, batch: int, size: int, max_ticks: int, seed: int) -> None:
        self.batch = batch
        self.pool = MapPool(MapConfig.generalsio_1v1().with_side(size), seed=seed, block=max(256, batch))
        self.config = EngineConfig(max_ticks=max_ticks)
        self.state = new_games(batch, self.pool)

    def tick(self) -> None:
        state = self.state
        obs = observe(state)
        actions = sample_legal(obs.action_mask, torch.rand(self.batch, state.num_players))
        state = step(state, actions, self.config)
        self.state, _ = reset_finished(state, self.pool)

    def run(self, seconds: float) -> float:
        """Env-steps per second over ``seconds``."""
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            self.tick()
            steps += 1
        return steps * self.batch / (time.perf_counter() - start)


class ServiceLoop:
    """The same loop through a StepBatch stream (the caller controls both seats)."""

    def __init__(self, stream: RemoteBatch, batch: int) -> None:
        self.stream = stream
        self.batch = batch
        self.result = stream.first
        self.latencies: list[float] = []

    async def tick(self) -> None:
        mask = self.result.observation.action_mask
        self.result = await self.stream.step(sample_legal(mask, torch.rand(mask.shape[:-1])))

    async def run(self, seconds: float) -> float:
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            await self.tick()
            self.latencies.append(time.perf_counter() - t0)
            steps += 1
        return steps * self.batch / (time.perf_counter() - start)


async def measure(args: argparse.Namespace) -> tuple[list[float], list[float], float]:
    """Rounds of both loops, alternating, so that load from elsewhere hits both alike."""
    engine = EngineLoop(args.batch, args.size, args.max_ticks, args.seed)
    host = GameHost()
    registry = CollectorRegistry()
    async with (
        host,
        Server([bind(GameServicer(host), SERVICE)], ServerConfig(port=0), registry=registry) as server,
    ):
        games = GameClient.connect(server.address, timeout_s=None)
        spec = BatchSpec(
            num_games=args.batch,
            maps=GeneratorSpec(side=(args.size, args.size)),
            autoreset=True,
            engine=EngineOptions(max_ticks=args.max_ticks),
            seed=args.seed,
        )
        try:
            async with await games.open_batch(spec) as stream:
                service = ServiceLoop(stream, args.batch)
                warmup = min(2.0, args.seconds / 4)
                engine.run(warmup)
                await service.run(warmup)
                service.latencies.clear()
                engine_rates, service_rates = [], []
                for _ in range(args.rounds):
                    engine_rates.append(engine.run(args.seconds / args.rounds))
                    service_rates.append(await service.run(args.seconds / args.rounds))
        finally:
            await games.close()
    return engine_rates, service_rates, statistics.median(service.latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=24, help="map side")
    parser.add_argument("--max-ticks", type=int, default=500, help="truncation limit before auto-reset")
    parser.add_argument(
        "--seconds", type=float, default=8.0, help="timed seconds per figure, over all rounds"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds of the two loops")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine_rates, service_rates, step_ms = asyncio.run(measure(args))
    engine, service = statistics.median(engine_rates), statistics.median(service_rates)
    common = {
        "batch": args.batch,
        "size": args.size,
        "max_ticks": args.max_ticks,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
        "device": "cpu",
    }
    figures: list[dict[str, Any]] = [
        {"figure": "engine_env_steps_per_s", "value": round(engine, 1), "unit": "env_steps/s"},
        {"figure": "game_lockstep_env_steps_per_s", "value": round(service, 1), "unit": "env_steps/s"},
        {"figure": "game_lockstep_ratio_to_engine", "value": round(service / engine, 3), "unit": "ratio"},
        {"figure": "game_lockstep_step_ms", "value": round(step_ms, 2), "unit": "ms (median)"},
    ]
    for figure in figures:
        print(json.dumps({**figure, **common}), flush=True)


if __name__ == "__main__":
    main()
