"""Engine throughput: env-steps per second with random legal moves, one JSON line per figure.

One env-step is one tick of one game in which every player acts: each tick computes every
player's fogged observation and legal mask (``observe``), draws a uniformly random legal action
per player from the mask, steps the engine, and auto-resets finished games on fresh maps
(24x24 generals.io-like maps, truncation at ``--max-ticks``).

    python benchmarks/engine.py                      # batches 1, 256, 4096 on the CPU
    python benchmarks/engine.py --device cuda --batch 65536 --batch 131072
    python benchmarks/engine.py --compare            # + generals-bots 2.5.0, same loop, own venv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads (generals_rl/__init__.py)

import torch

from generals_rl.agents.base import sample_legal
from generals_rl.game import EngineConfig, MapConfig, MapPool, observe, step
from generals_rl.game.autoreset import new_games, reset_finished

ROOT = Path(__file__).resolve().parent.parent
COMPARE_VENV = ROOT / ".bench-venv" / "generals-bots-2.5"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    batch: int,
    device: torch.device,
    size: int,
    max_ticks: int,
    seconds: float,
    seed: int,
    compile: bool = False,
) -> dict:
    torch.manual_seed(seed)
    pool = MapPool(
        MapConfig.generalsio_1v1().with_side(size), seed=seed, device=device, block=max(1024, batch)
    )
    config = EngineConfig(max_ticks=max_ticks)
    state = new_games(batch, pool)
    players = state.num_players

    def play(state, uniform):  # type: ignore[no-untyped-def]
        obs = observe(state)
        actions = sample_legal(obs.action_mask, uniform)
        return step(state, actions, config)

    if compile:
        play = torch.compile(play, dynamic=False)

    def tick(state):  # type: ignore[no-untyped-def]
        state = play(state, torch.rand(batch, players, device=device))
        state, _ = reset_finished(state, pool)
        return state

    warmup_end = time.perf_counter() + min(2.0, seconds / 4)
    while time.perf_counter() < warmup_end:
        state = tick(state)
    sync(device)
    steps = 0
    start = time.perf_counter()
    while True:
        for _ in range(10):
            state = tick(state)
        steps += 10
        sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return {
        "figure": "engine_steps_per_s",
        "engine": "generals_rl" + ("+compile" if compile else ""),
        "device": device_name(device),
        "batch": batch,
        "value": round(steps * batch / elapsed, 1),
        "unit": "env_steps/s",
        "size": size,
        "max_ticks": max_ticks,
        "threads": torch.get_num_threads(),
        "seconds": round(elapsed, 2),
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"


def ensure_compare_venv() -> Path:
    """A venv holding generals-bots 2.5.0 (it pins numpy/numba versions of its own)."""
    python = COMPARE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(COMPARE_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "generals-bots==2.5.0"],
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
    return python


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, action="append", help="batch sizes (default 1, 256, 4096)")
    parser.add_argument("--size", type=int, default=24, help="map side")
    parser.add_argument("--max-ticks", type=int, default=500, help="truncation limit before auto-reset")
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="also run generals-bots 2.5.0 (own venv)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the observe-act-step loop")
    args = parser.parse_args()
    device = torch.device(args.device)
    batches = args.batch or [1, 256, 4096]
    for batch in batches:
        print(
            json.dumps(measure(batch, device, args.size, args.max_ticks, args.seconds, args.seed)), flush=True
        )
    if args.compare:
        python = ensure_compare_venv()
        for batch in batches:
            if batch > 256:
                continue  # one Python object per game: larger batches take minutes and say nothing new
            subprocess.run(
                [
                    str(python),
                    str(ROOT / "benchmarks" / "generals_bots_loop.py"),
                    f"--batch={batch}",
                    f"--size={args.size}",
                    f"--max-ticks={args.max_ticks}",
                    f"--seconds={args.seconds}",
                    f"--seed={args.seed}",
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
