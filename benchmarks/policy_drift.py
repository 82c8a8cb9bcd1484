"""How far a run's policy moves between published versions, as JSON lines.

The learner's PPO clip stops the gradient of a sample once the ratio pi/mu of the learner's policy
to the one that acted has left 1 +- ``clip_eps`` in the direction its advantage pushes; in
``grl train`` the actors play versions that are a few publications old, so that ratio measures
how far the policy moved in between. This script plays ``--rollouts`` rollouts of ``--games``
games on generals.io-like 1v1 maps (half self-play, half against ``expander``) with version
``--version`` of the run in ``--data-dir`` (``benchmarks/training_curve.py``'s folder), keeps all
but the first three (past the opening), and scores that experience with each later version in ``--ahead``
as the learner would, at a learning rate too small to move the weights:

    python benchmarks/policy_drift.py --data-dir /tmp/run --version 120 --ahead 1,2,3

One line per later version: ``{"figure": "policy_drift", "version", "later", "updates",
"clip_fraction", "ratio_mean", "positions"}``, where ``clip_fraction`` counts the ratios outside
1 +- ``--clip-eps`` and ``updates`` is the learner updates between the two versions.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
from pathlib import Path

import torch

from generals_rl.game import MapConfig, MapPool
from generals_rl.game.engine import EngineConfig
from generals_rl.game.rewards import RewardConfig
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import Learner
from generals_rl.training.rollout import RolloutCollector
from training_curve import _versions_and_networks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a training_curve.py run's folder")
    parser.add_argument("--version", type=int, required=True, help="the version that plays")
    parser.add_argument("--ahead", default="1,2", help="comma-separated: versions ahead of it to score with")
    parser.add_argument("--games", type=int, default=16, help="games played at once")
    parser.add_argument(
        "--rollouts", type=int, default=8, help="rollouts of 32 ticks; the first 3 are not scored"
    )
    parser.add_argument(
        "--clip-eps", type=float, default=0.2, help="the clip the fraction is counted against"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.rollouts < 4:
        parser.error("--rollouts must be at least 4 (the first 3 are the opening, not scored)")
    torch.set_num_threads(1)
    ahead = sorted({int(a) for a in args.ahead.split(",") if a})
    wanted = {args.version, *(args.version + a for a in ahead)}
    versions, networks = asyncio.run(
        _versions_and_networks(
            args.data_dir, "curve", lambda vs: [v.version for v in vs if v.version in wanted]
        )
    )
    missing = wanted - set(networks)
    if missing:
        raise SystemExit(f"no accepted version {sorted(missing)} in {args.data_dir}")
    steps = {v.version: v.metadata.training_step for v in versions}
    collector = RolloutCollector(
        copy.deepcopy(networks[args.version]),
        games=args.games,
        unroll=32,
        maps=MapPool(MapConfig.generalsio_1v1(), seed=args.seed),
        opponents={"self": 1.0, "expander": 1.0},
        engine=EngineConfig(max_ticks=2000),
        reward=RewardConfig(land=1.0, gamma=0.995),
        seed=args.seed,
    )
    batches = [collector.collect().trajectories.to_torch() for _ in range(args.rollouts)][3:]
    # one update per batch, all of it in one minibatch: its metrics are those of the weights as
    # loaded (the step after them moves nothing at this rate)
    still = TrainConfig(lr=1e-12, lr_final=1e-12, minibatch=1 << 16, clip_eps=args.clip_eps)
    for later in ahead:
        scored = [Learner(copy.deepcopy(networks[args.version + later]), still).update(b) for b in batches]
        positions = sum(int(b["actions"].numel()) for b in batches)
        print(
            json.dumps(
                {
                    "figure": "policy_drift",
                    "version": args.version,
                    "later": args.version + later,
                    "updates": steps[args.version + later] - steps[args.version],
                    "clip_fraction": round(sum(m["clip_fraction"] for m in scored) / len(scored), 4),
                    "ratio_mean": round(sum(m["ratio_mean"] for m in scored) / len(scored), 4),
                    "positions": positions,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
