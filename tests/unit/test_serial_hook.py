"""The serial loop's ``on_iteration`` hook: it sees every iteration and can stop the run, which then
checkpoints as at the end of its budget (fused mode publishes and stops through it)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from generals_rl.storage import open_blobs
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import BUCKET
from generals_rl.training.serial import Progress, main, train


def test_the_hook_sees_each_iteration_and_a_true_return_stops_with_a_checkpoint(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    config = TrainConfig(
        channels=8,
        blocks=1,
        map_side=6,
        games=4,
        unroll=4,
        minibatch=0,
        threads=1,
        time_budget_s=0,
        total_updates=50,
        eval_every_s=-1,
        checkpoint_uri=f"file://{tmp_path}",
        checkpoint_every=1000,
        log_every=1000,
    )
    seen: list[Progress] = []
    steps: list[int] = []

    def hook(progress: Progress) -> bool:
        seen.append(progress)
        steps.append(progress.learner.step)
        return len(seen) == 3

    result = train(config, on_iteration=hook)
    assert steps == [1, 2, 3]  # one update per iteration, then stopped
    assert all(b.env_steps > a.env_steps for a, b in itertools.pairwise(seen))
    assert result.updates == 3
    store = open_blobs(f"file://{tmp_path}")
    assert store.get(BUCKET, "serial/latest").decode().endswith("0000000003.pt")


def test_the_serial_command_line_explains_itself_and_refuses_bad_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--help"])
    out = capsys.readouterr().out
    assert "usage: python -m generals_rl.training.serial" in out and "general_distance" in out
    with pytest.raises(SystemExit, match=r"error: .*games must be at least 1"):
        main(["games=0"])
    with pytest.raises(SystemExit, match=r"error: .*no_such\.toml"):
        main(["no_such.toml"])
