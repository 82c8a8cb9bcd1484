"""Scripted bots' speed: moves per second of ``expander``, ``gatherer`` and ``raider``, as JSON lines.

Each bot plays both seats of ``--batch`` generals.io-like 1v1 games for ``--ticks`` ticks from the
same maps; only its ``act`` calls are timed (the device synchronised before and after each), so
the engine's time is left out. The figures compare how often the bots' searches
(``tactics.distance_field``, ``tactics.cost_field``) check for convergence, side by side on the
same games: every sweep, or every ``k`` (``tactics.SWEEPS_PER_CHECK``; on CUDA each check makes
the host wait for the device), in interleaved rounds, the fastest round of each counting. Every
setting must play the same moves; the script stops if one does not.

    python benchmarks/bots.py                                  # CPU, batch 64, checks every 1 and 8
    python benchmarks/bots.py --device cuda --batch 2048 --every 1 --every 8 --every 16
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from rich.progress import Progress

from engine import device_name, sync
from generals_rl.agents import make_agent, tactics
from generals_rl.game import EngineConfig, MapConfig, generate_maps, initial_state, observe, step
from generals_rl.game.maps import Maps


def play(bot: str, maps: Maps, device: torch.device, ticks: int) -> tuple[float, list[torch.Tensor]]:
    """Seconds spent in the bot's ``act`` over ``ticks`` ticks of both seats, and the moves."""
    agents = [make_agent(bot, seed=1), make_agent(bot, seed=2)]
    state = initial_state(maps).to(device)
    config = EngineConfig(max_ticks=ticks + 1)
    spent, moves = 0.0, []
    for _ in range(ticks):
        obs = observe(state)
        sync(device)
        start = time.perf_counter()
        actions = torch.stack([agent.act(obs.player(p)) for p, agent in enumerate(agents)], dim=1)
        sync(device)
        spent += time.perf_counter() - start
        moves.append(actions.cpu())
        state = step(state, actions, config)
    return spent, moves


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--bots", default="expander,gatherer,raider")
    parser.add_argument("--every", type=int, action="append", help="sweeps per check (default 1 and 8)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the settings; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device(args.device)
    settings = args.every or [1, 8]
    maps = generate_maps(args.batch, MapConfig.generalsio_1v1(), seed=args.seed)
    bots = args.bots.split(",")
    play(bots[0], maps, device, ticks=10)  # warm-up: kernels, allocator
    with Progress(transient=True) as progress:
        task = progress.add_task("bots", total=len(bots) * len(settings) * args.rounds)
        for bot in bots:
            fastest = dict.fromkeys(settings, float("inf"))
            first: list[torch.Tensor] | None = None
            for _ in range(args.rounds):  # settings interleaved, so drift in the machine hits each
                for every in settings:
                    tactics.SWEEPS_PER_CHECK[device.type] = every
                    seconds, moves = play(bot, maps, device, args.ticks)
                    first = first if first is not None else moves
                    if not all(torch.equal(a, b) for a, b in zip(first, moves, strict=True)):
                        raise SystemExit(f"{bot} played other moves checking every {every} sweeps")
                    fastest[every] = min(fastest[every], seconds)
                    progress.advance(task)
            for every, seconds in fastest.items():
                record = {
                    "figure": "bot_moves_per_s",
                    "bot": bot,
                    "device": device_name(device),
                    "batch": args.batch,
                    "sweeps_per_check": every,
                    "value": round(2 * args.batch * args.ticks / seconds, 1),
                    "unit": "moves/s",
                    "ticks": args.ticks,
                    "seconds": round(seconds, 3),
                    "rounds": args.rounds,
                }
                print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
