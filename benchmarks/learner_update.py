"""The learner's cost per trajectory against its minibatch size, one JSON line per figure.

On a 2-core CPU the learner sets the pace of ``grl train`` (``training_time.py``). If its cost per
trajectory does not depend on the minibatch, a smaller minibatch gives more gradient steps for the
same experience at no cost in env steps. The script collects one rollout of ``TrainConfig``'s
default network on generals.io-like 1v1 maps, then times ``Learner.update`` on the first
``--minibatch`` trajectories of it for each size, side by side in interleaved rounds (the fastest
round of each counting), with one torch thread and the default mixed precision.

    python benchmarks/learner_update.py                          # minibatches 8, 16, 32, 64
    python benchmarks/learner_update.py --minibatch 16 --minibatch 32 --rounds 3

One line per size: ``{"figure": "learner_update", "minibatch", "ms_per_trajectory", "rounds"}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch
from rich.progress import Progress

from generals_rl.game import MapConfig, MapPool
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import Learner
from generals_rl.training.networks import build
from generals_rl.training.rollout import RolloutCollector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minibatch", type=int, action="append", help="sizes [default: 8 16 32 64]")
    parser.add_argument("--games", type=int, default=64, help="games of the collected rollout")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (the fastest counts)")
    parser.add_argument("--trajectories", type=int, default=256, help="trajectories timed per size and round")
    args = parser.parse_args()
    sizes = args.minibatch or [8, 16, 32, 64]
    torch.set_num_threads(1)
    config = TrainConfig()
    collector = RolloutCollector(
        build(config.arch, config.network_config()),
        games=args.games,
        unroll=config.unroll,
        maps=MapPool(MapConfig.generalsio_1v1(), seed=0),
        opponents={"self": 1.0, "random": 1.0},
        reward=config.reward_config(),
        seed=0,
        mixed_precision=config.mixed_precision,
    )
    batch = collector.collect().trajectories.to_torch()
    available = batch["actions"].shape[0]
    if max(sizes) > available:
        parser.error(f"--minibatch {max(sizes)} exceeds the rollout's {available} trajectories")
    best = {size: float("inf") for size in sizes}
    with Progress(transient=True) as progress:
        task = progress.add_task("updates", total=args.rounds * len(sizes))
        for _ in range(args.rounds):
            for size in sizes:
                torch.manual_seed(0)
                learner = Learner(
                    build(config.arch, config.network_config()), dataclasses.replace(config, minibatch=size)
                )
                part = {key: value[:size] for key, value in batch.items()}
                learner.update(part)  # warm-up
                updates = max(2, args.trajectories // size)
                clock = time.perf_counter()
                for _ in range(updates):
                    learner.update(part)
                best[size] = min(best[size], (time.perf_counter() - clock) / (updates * size))
                progress.advance(task)
    for size in sizes:
        record = {
            "figure": "learner_update",
            "minibatch": size,
            "ms_per_trajectory": round(best[size] * 1e3, 2),
        }
        print(json.dumps({**record, "rounds": args.rounds}), flush=True)


if __name__ == "__main__":
    main()
