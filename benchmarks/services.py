"""The service backbone's figures, one JSON line each: the three service benchmarks in one run.

- ``benchmarks/game_lockstep.py``: lock-step games through the Game Service's StepBatch versus the
  in-process engine loop, same run (``game_lockstep_ratio_to_engine``);
- ``benchmarks/elo_updates.py``: rating updates per second through the Elo Service
  (``elo_updates_per_s``);
- ``benchmarks/matchmaking.py``: matchmaking latency with 1,000 waiting players.

    python benchmarks/services.py            # each script with its defaults
    python benchmarks/services.py --quick    # shorter runs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    args = parser.parse_args()
    runs = [
        ["game_lockstep.py", *(["--seconds", "2", "--rounds", "2"] if args.quick else [])],
        ["elo_updates.py", *(["--results", "100"] if args.quick else [])],
        ["matchmaking.py", *(["--repeats", "3"] if args.quick else [])],
    ]
    for script, *flags in runs:
        subprocess.run([sys.executable, str(HERE / script), *flags], check=True)


if __name__ == "__main__":
    main()
