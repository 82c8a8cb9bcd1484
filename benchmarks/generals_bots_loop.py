"""The engine benchmark's loop over generals-bots 2.5.0, run inside its own venv by engine.py --compare.

Same work as engine.py: every tick both players' observations (the env computes them), a
uniformly random legal action per player drawn from the env's move masks (pass, or a valid
(row, col, direction) with or without split), auto-reset when a game ends. generals-bots'
generals.io-like generator only draws 18-23 sides, so 24x24 maps come from its uniform generator.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame greets on stdout otherwise

import numpy as np
from generals.core.action import Action
from generals.core.grid import GridFactory
from generals.envs import GymnasiumGenerals

AGENTS = ["player_0", "player_1"]


def random_action(mask: np.ndarray, rng: np.random.Generator) -> Action:
    moves = np.argwhere(mask)
    r = int(rng.integers(2 * len(moves) + 1))
    if r == 0:
        return Action(to_pass=True)
    row, col, direction = moves[(r - 1) // 2]
    return Action(
        to_pass=False, row=int(row), col=int(col), direction=int(direction), to_split=bool((r - 1) % 2)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=24)
    parser.add_argument("--max-ticks", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    dims = (args.size, args.size)
    envs = [
        GymnasiumGenerals(
            agents=AGENTS,
            grid_factory=GridFactory(
                mode="uniform", min_grid_dims=dims, max_grid_dims=dims, seed=args.seed + i
            ),
            pad_observations_to=args.size,
            truncation=args.max_ticks,
        )
        for i in range(args.batch)
    ]
    infos = [env.reset(seed=args.seed + i)[1] for i, env in enumerate(envs)]

    def tick() -> None:
        for i, env in enumerate(envs):
            actions = [random_action(infos[i][agent]["masks"], rng) for agent in AGENTS]
            _, _, terminated, truncated, info = env.step(actions)
            infos[i] = env.reset()[1] if terminated or truncated else info

    warmup_end = time.perf_counter() + min(2.0, args.seconds / 4)
    while time.perf_counter() < warmup_end:
        tick()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        tick()
        steps += 1
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "figure": "engine_steps_per_s",
                "engine": "generals-bots-2.5",
                "device": "cpu",
                "batch": args.batch,
                "value": round(steps * args.batch / elapsed, 1),
                "unit": "env_steps/s",
                "size": args.size,
                "max_ticks": args.max_ticks,
                "seconds": round(elapsed, 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
