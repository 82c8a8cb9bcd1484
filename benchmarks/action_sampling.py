"""Drawing actions from the policy over the flat action space, one JSON line per figure.

Every acting step draws one action per game from a distribution over ``8 * H * W + 1`` actions
(4,233 on a 23 x 23 board), most of them illegal (probability 0). ``torch.multinomial`` draws an
exponential variate for every entry; ``networks.sample`` inverts the cumulative sum at one uniform
number a row. Both are timed side by side on the same probabilities, in interleaved rounds (the
fastest round of each counting): the softmax of the default network's logits in generals.io-like
1v1 positions, ``--batch`` rows, on ``--device``.

    python benchmarks/action_sampling.py                          # CPU, batches 32, 64 and 256
    python benchmarks/action_sampling.py --device cuda --batch 2048

One line per way and batch: ``{"figure": "action_sampling", "way", "batch", "us_per_draw"}``;
``us_per_draw`` is microseconds per row (per game and step).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch
from rich.progress import Progress

from engine import device_name, sync
from generals_rl.game import MapConfig, generate_maps, initial_state, observe
from generals_rl.training.config import TrainConfig
from generals_rl.training.networks import build, sample

Way = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
WAYS: dict[str, Way] = {
    "torch.multinomial": lambda probs, gen: torch.multinomial(probs, 1, generator=gen).squeeze(1),
    "networks.sample": sample,
}


def policy_probabilities(batch: int, device: torch.device) -> torch.Tensor:
    """(batch, A) action probabilities of a fresh default network in opening positions."""
    config = TrainConfig()
    network = build(config.arch, config.network_config()).to(device)
    state = initial_state(generate_maps(batch, MapConfig.generalsio_1v1(), seed=0)).to(device)
    with torch.no_grad():
        logits = network(observe(state).player(0)).logits
    return torch.softmax(logits.float(), dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, action="append", help="rows per draw [default: 32 64 256]")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--draws", type=int, default=200, help="draws timed per way, batch and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the fastest counts)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batches = args.batch or [32, 64, 256]
    probs = {batch: policy_probabilities(batch, device) for batch in batches}
    best = {(way, batch): float("inf") for way in WAYS for batch in batches}
    with Progress(transient=True) as progress:
        task = progress.add_task("drawing", total=args.rounds * len(best))
        for _ in range(args.rounds):
            for (way, batch), fastest in best.items():
                generator = torch.Generator(device=device).manual_seed(0)
                draw = WAYS[way]
                draw(probs[batch], generator)  # warm-up
                sync(device)
                clock = time.perf_counter()
                for _ in range(args.draws):
                    draw(probs[batch], generator)
                sync(device)
                best[way, batch] = min(fastest, (time.perf_counter() - clock) / (args.draws * batch))
                progress.advance(task)
    for (way, batch), seconds in best.items():
        record = {
            "figure": "action_sampling",
            "way": way,
            "batch": batch,
            "actions": int(probs[batch].shape[1]),
            "us_per_draw": round(seconds * 1e6, 3),
            "device": device_name(device),
            "threads": args.threads,
            "rounds": args.rounds,
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
