"""Win rate against training time of ``grl train`` from scratch, as JSON lines (issue 5's goals).

Runs ``grl train --no-evaluate`` (every service, one learner, the actors, on a fresh data folder;
with ``--fused`` the one fused process instead, its own evaluations off) for ``--seconds`` of
wall-clock time, then, with training stopped, plays the version that was the latest at every
``--every`` seconds against each bot in ``--opponents``: ``--games`` games each on generals.io-like
1v1 maps (``MapConfig.generalsio_1v1``), half in each seat, 2000 ticks (a draw counts as not
won), with a 95% Wilson interval. The clock starts when ``grl train`` is launched, so service
start-up counts as training time; evaluation does not (it runs afterwards, so it takes no CPU
from training).

    python benchmarks/training_curve.py                                   # 15 min, against random
    python benchmarks/training_curve.py --seconds 3600 --every 600 --opponents random,expander
    python benchmarks/training_curve.py --seconds 60 --every 30 --games 20 --set map_side=8
    python benchmarks/training_curve.py --data-dir D --evaluate-only --opponents expander   # again
    python benchmarks/training_curve.py --fused --seconds 3600 --every 900 --opponents expander
    python benchmarks/training_curve.py --seconds 3600 --opponents expander --train-flag=--table-items=512

One line per point: ``{"figure": "win_rate", "opponent", "train_s", "version", "wins", "draws",
"games", "win_rate", "low", "high"}``; first a ``{"figure": "run", ...}`` line with the settings
and the load average (``os.getloadavg``) before and after training; then, from the actors' logs,
the training games against each of ``--opponents`` won in every ``--window`` seconds:
``{"figure": "training_games", "opponent", "from_s", "to_s", "games", "wins", "win_rate"}``
(the actors' progress lines count games since each actor started; a window is the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.progress import Progress

from generals_rl.cli.model import _registry
from generals_rl.game.generators import MapConfig
from generals_rl.services.model.domain import Selector, VersionInfo
from generals_rl.stats import wilson_interval
from generals_rl.training.networks import PolicyNetwork
from generals_rl.training.serial import evaluate


def _made(version: VersionInfo) -> float:
    """When ``version`` was published, in seconds since the epoch (stored times are UTC)."""
    assert version.created_at is not None
    made = version.created_at
    return (made if made.tzinfo else made.replace(tzinfo=UTC)).timestamp()


def _emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def _train(data_dir: Path, run: str, seconds: float, overrides: list[str], flags: list[str]) -> float:
    """Run ``grl train`` for ``seconds`` (with ``flags``); the wall-clock time it started at."""
    command = [sys.executable, "-m", "generals_rl.cli.main", "train", "--run", run]
    command += ["--data-dir", str(data_dir)]
    command += ["--no-evaluate", "--no-gateway", "--no-dashboard", "--set", f"time_budget_s={seconds}"]
    command += [f"--set={item}" for item in overrides]
    command += flags
    log = data_dir / "train.out"
    started = time.time()
    (data_dir / "started").write_text(f"{started}\n")  # for --evaluate-only
    with log.open("w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        sys.exit(f"grl train exited with {code}; its output is in {log}")
    return started


def _progress(log: Path, started: float) -> list[tuple[float, str]]:
    """An actor log's ``actor progress`` lines with their seconds since ``started`` (the log
    stamps time of day in UTC)."""
    day = datetime.fromtimestamp(started, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lines: list[tuple[float, str]] = []
    for line in log.read_text().splitlines():
        if "actor progress" not in line:
            continue
        clock = datetime.strptime(line[:12], "%H:%M:%S.%f")
        at = day.timestamp() + clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6
        if lines and at - started < lines[-1][0] - 43_200:  # past midnight
            day += timedelta(days=1)
            at += 86_400
        lines.append((at - started, line))
    return lines


def _training_games(
    logs: Path, started: float, opponents: list[str], window: float
) -> list[dict[str, object]]:
    """Training games won against each of ``opponents`` in each ``window`` seconds since
    ``started``, from every actor's ``games_<bot>`` and ``wins_<bot>`` (counts since that actor
    started): at each window's end, every actor's last report before it, summed over the actors."""
    actors = [_progress(log, started) for log in sorted(logs.glob("actor-*.log"))]
    last = max((lines[-1][0] for lines in actors if lines), default=0.0)
    rows: list[dict[str, object]] = []
    for name in opponents:
        games_re, wins_re = re.compile(rf"\bgames_{name}=(\d+)"), re.compile(rf"\bwins_{name}=(\d+)")
        counted = [
            [
                (at, int(g[1]), int(w[1]))
                for at, line in lines
                if (g := games_re.search(line)) and (w := wins_re.search(line))
            ]
            for lines in actors
        ]
        before, end = (0, 0), window
        while end < last + window:
            reached = [[(g, w) for at, g, w in reports if at <= end][-1:] for reports in counted]
            total = (sum(r[0][0] for r in reached if r), sum(r[0][1] for r in reached if r))
            games, wins = total[0] - before[0], total[1] - before[1]
            rows.append(
                {
                    "figure": "training_games",
                    "opponent": name,
                    "from_s": end - window,
                    "to_s": min(end, round(last, 1)),  # the last window ends at the last report
                    "games": games,
                    "wins": wins,
                    "win_rate": round(wins / games, 4) if games else None,
                }
            )
            before, end = total, end + window
    return rows


Pick = Callable[[list[VersionInfo]], list[int]]


async def _versions_and_networks(
    data_dir: Path, run: str, pick: Pick
) -> tuple[list[VersionInfo], dict[int, PolicyNetwork]]:
    """The run's accepted versions (oldest first) and the networks of those ``pick`` names, from
    the run's local registry (``grl model``'s)."""
    os.environ["GRL_DATA_DIR"] = str(data_dir)
    async with _registry(None) as registry:
        versions: list[VersionInfo] = []
        token = ""
        while True:
            page = await registry.list_versions(state="accepted", run_id=run, page_size=500, page_token=token)
            versions += [v for v in page.versions if v.created_at is not None]
            if not (token := page.next_page_token):
                break
        versions.sort(key=lambda v: v.version)
        networks = {}
        for number in pick(versions):
            fetched = await registry.fetch(Selector(version=number))
            assert fetched is not None
            networks[number] = fetched[1]
        return versions, networks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=900.0, help="training time (wall clock)")
    parser.add_argument("--every", type=float, default=180.0, help="seconds between evaluated points")
    parser.add_argument("--games", type=int, default=200, help="evaluation games per point and bot")
    parser.add_argument("--opponents", default="random", help="comma-separated bots")
    parser.add_argument(
        "--window", type=float, default=300.0, help="seconds per window of the training games' win rates"
    )
    parser.add_argument("--actors", type=int, default=None, help="grl train --actors")
    parser.add_argument(
        "--fused", action="store_true", help="grl train --fused (one process: engine, inference, learning)"
    )
    parser.add_argument(
        "--sampling", default="uniform", choices=("uniform", "queue"), help="grl train --sampling"
    )
    parser.add_argument("--seed", type=int, default=12345, help="seed of the evaluation maps")
    parser.add_argument("--data-dir", type=Path, default=None, help="[default: a temporary folder]")
    parser.add_argument("--device", default="cpu", help="where the evaluation games run (cpu, cuda)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="grl train --set")
    parser.add_argument(
        "--train-flag",
        dest="train_flags",
        action="append",
        default=[],
        help="another grl train flag, as one word (repeatable): --train-flag=--table-items=512",
    )
    parser.add_argument(
        "--evaluate-only", action="store_true", help="evaluate the run already in --data-dir (no training)"
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="grl-curve-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    run = "curve"
    # the fused loop would also evaluate as it trains, on the clock: the curve evaluates after
    overrides = ["eval_every_s=-1", *args.overrides] if args.fused else args.overrides
    load_before = os.getloadavg()
    if args.evaluate_only:
        started = float((data_dir / "started").read_text())
    else:
        flags = [] if args.actors is None else ["--actors", str(args.actors)]
        flags += ["--fused"] if args.fused else ["--sampling", args.sampling]
        flags += args.train_flags
        started = _train(data_dir, run, args.seconds, overrides, flags)
    load_after = os.getloadavg()
    _emit(
        {
            "figure": "run",
            "seconds": args.seconds,
            "overrides": overrides,
            "actors": args.actors,
            "sampling": None if args.fused else args.sampling,
            "fused": args.fused,
            "train_flags": args.train_flags,
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "data_dir": str(data_dir),
            "evaluate_only": args.evaluate_only,
        }
    )
    opponents = [name for name in args.opponents.split(",") if name]
    for row in _training_games(data_dir / "logs" / run, started, opponents, args.window):
        _emit(row)
    points: list[tuple[float, VersionInfo]] = []

    def pick(versions: list[VersionInfo]) -> list[int]:
        """The version latest at every ``--every`` seconds."""
        at = args.every
        while at <= args.seconds + 1e-6:
            ready = [v for v in versions if _made(v) - started <= at]
            if ready:
                points.append((at, ready[-1]))
            at += args.every
        return sorted({info.version for _, info in points})

    versions, networks = asyncio.run(_versions_and_networks(data_dir, run, pick))
    if not versions:
        sys.exit(f"grl train published no version; see {data_dir / 'train.out'}")
    maps = MapConfig.generalsio_1v1()
    with Progress(transient=True) as progress:
        task = progress.add_task("evaluating", total=len(points) * len(opponents) * args.games)
        for at, info in points:
            network = networks[info.version]
            for opponent in opponents:
                result = evaluate(network, opponent, args.games, maps, seed=args.seed, device=args.device)
                low, high = wilson_interval(result.wins, result.games)
                _emit(
                    {
                        "figure": "win_rate",
                        "opponent": opponent,
                        "train_s": at,
                        "version": info.version,
                        "version_age_s": round(at - (_made(info) - started), 1),
                        "training_step": info.metadata.training_step,
                        "wins": result.wins,
                        "draws": result.draws,
                        "games": result.games,
                        "win_rate": round(result.win_rate, 4),
                        "low": round(low, 4),
                        "high": round(high, 4),
                        "mean_ticks": round(result.mean_ticks, 1),
                    }
                )
                progress.advance(task, args.games)


if __name__ == "__main__":
    main()
