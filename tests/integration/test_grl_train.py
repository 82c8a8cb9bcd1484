"""``grl train`` on one machine: the services, a learner and an actor as child processes, the
evaluator and the monitor; versions get published and rated, TensorBoard curves written, the status
left for the gateway, and a second run resumes from the first one's checkpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from generals_rl.settings import Settings
from generals_rl.storage import open_blobs, open_sql
from generals_rl.training.config import TrainConfig
from generals_rl.training.evaluation import EvaluationConfig
from generals_rl.training.learner import BUCKET
from generals_rl.training.remote import RemoteOptions
from generals_rl.training.train import TrainLayout, run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TINY = TrainConfig(
    channels=8,
    blocks=1,
    map_side=6,
    games=8,
    unroll=8,
    minibatch=8,
    max_ticks=200,
    threads=1,
    time_budget_s=25,
    eval_every_s=-1,
    checkpoint_every=20,
    run_name="tiny",
)


def _settings(tmp_path: Path) -> Settings:
    names = ("game", "matchmaker", "model", "elo", "replay", "gateway")
    return Settings(data_dir=tmp_path / "data", ports={name: free_port() for name in names})


def _run(settings: Settings, config: TrainConfig) -> None:
    layout = TrainLayout(actors=1, dashboard=False, gateway=False, stop_timeout_s=30)
    evaluation = EvaluationConfig(
        map_side=6, max_ticks=200, bot_games=4, batch_games=4, max_games=8, poll_s=1
    )
    options = RemoteOptions(publish_every=10)
    with (settings.data_dir / "console.txt").open("a") as out:
        console = Console(file=out, width=200)
        asyncio.run(run(config, settings, layout, options=options, evaluation=evaluation, console=console))


def _versions(settings: Settings) -> list[tuple[int, int]]:
    """(version, training step) of the run's versions, oldest first."""
    database = open_sql(settings.sql_uri)
    try:
        return sorted((v.version, v.training_step) for v in database.models.list_versions(limit=1000))
    finally:
        database.close()


@pytest.mark.slow
def test_a_run_publishes_and_rates_versions_and_the_next_run_resumes(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    _run(settings, TINY)

    first = _versions(settings)
    assert len(first) >= 2, first  # the starting weights, then versions every 10 updates
    blobs = open_blobs(settings.blob_uri)
    checkpoint = blobs.get(BUCKET, "tiny/latest").decode()
    step = int(checkpoint.rsplit("-", 1)[1].split(".")[0])
    assert step >= max(s for _, s in first) > 0
    assert list((settings.data_dir / "tensorboard" / "tiny").glob("events.out.tfevents.*"))
    logs = settings.data_dir / "logs" / "tiny"
    assert (logs / "learner.log").read_text() and (logs / "actor-0.log").read_text()

    _run(settings, TINY)  # the same run again: resumes, never starts over
    second = [(v, s) for v, s in _versions(settings) if v > first[-1][0]]
    assert second, "the resumed run published nothing"
    assert min(s for _, s in second) >= step  # it went on from the checkpoint's step
    text = (settings.data_dir / "console.txt").read_text()
    assert "stopped learner (exit code 0)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "no_such_setting=1"], "unknown training setting"),
        (["--set", "games=many"], "bad value for games"),
        (["--set", "lr"], "expected key=value"),
        (["--actors", "0"], "actors"),
        (["--table-items", "0"], "table_items must be at least 1, got 0"),
        (["--refresh-s", "0"], "refresh_s must be > 0, got 0.0"),
    ],
)
def test_bad_training_settings_are_refused_before_anything_starts(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from generals_rl.cli.main import app

    result = CliRunner().invoke(app, ["train", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "grl.db").exists()  # nothing was started


def _ended_on_its_own(started: Any, stopped: Any) -> None:
    """A child whose run ends on its own budget, then gets the parent's late SIGTERM."""
    from generals_rl.training.train import _until_sigterm

    async def run() -> None:
        return None

    async def stop() -> None:
        stopped.set()

    asyncio.run(_until_sigterm(run, stop))
    started.set()
    time.sleep(2.0)


def test_a_stop_asked_as_a_child_ends_on_its_own_budget_is_not_a_death_by_signal() -> None:
    context = multiprocessing.get_context("spawn")
    started, stopped = context.Event(), context.Event()
    child = context.Process(target=_ended_on_its_own, args=(started, stopped))
    child.start()
    assert started.wait(30)
    os.kill(child.pid, signal.SIGTERM)  # type: ignore[arg-type]
    child.join(10)
    assert child.exitcode == 0 and not stopped.is_set()


@pytest.mark.slow
def test_a_fused_run_spends_its_own_budget_evaluates_and_shows_its_throughput(tmp_path: Path) -> None:
    """--fused: the budget is the fused process's training seconds, so its last evaluation (after
    the budget, not counted in it) still runs and is rated; the dashboard's env steps come from the
    versions it publishes, as there are no actors and no Replay traffic."""
    settings = _settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    config = dataclasses.replace(
        TINY,
        run_name="tiny-fused",
        time_budget_s=3,
        eval_every_s=0,
        eval_games=4,
        eval_opponents=("random",),
        eval_max_ticks=200,
    )
    layout = TrainLayout(fused=True, evaluate=False, dashboard=False, gateway=False, stop_timeout_s=30)
    with (settings.data_dir / "console.txt").open("a") as out:
        console = Console(file=out, width=200)
        snapshot = asyncio.run(
            run(config, settings, layout, options=RemoteOptions(publish_every=5), console=console)
        )
    text = (settings.data_dir / "console.txt").read_text()
    assert "fused finished" in text and "stopped fused (exit code 0)" in text, text
    assert snapshot is not None
    assert snapshot.win_rates["random"].games == 4  # the evaluation after the budget was reported
    assert snapshot.env_steps > 0 and snapshot.env_steps_per_s > 0 and snapshot.samples_per_s > 0
