"""``grl train``: every service, one learner, N actors, the evaluator and a live dashboard on this
machine (``training/train.py``); ``--fused`` puts engine, inference and learning in one process."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer
from rich.console import Console

from generals_rl.cli.actor import REFRESH_S, SAMPLES_PER_INSERT, SAMPLING, TABLE_ITEMS, remote_options
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig, parse_overrides
from generals_rl.training.evaluation import EvaluationConfig
from generals_rl.training.train import TrainLayout, run, share_cores

console = Console()


def train(
    settings_: list[str] = typer.Option(
        None, "--set", help="a training setting, key=value (repeatable): --set games=64"
    ),
    config: Path | None = typer.Option(None, "--config", help="TOML file of training settings (flags win)"),
    run_name: str | None = typer.Option(None, "--run", help="run name: checkpoints, logs, versions [serial]"),
    actors: int | None = typer.Option(None, min=1, help="actor processes [default: half the cores, 1 to 8]"),
    fused: bool = typer.Option(False, "--fused", help="engine, inference and learning in one process"),
    publish_every: int = typer.Option(20, min=1, help="learner updates between published versions"),
    sampling: str = SAMPLING,
    table_items: int = TABLE_ITEMS,
    samples_per_insert: float | None = SAMPLES_PER_INSERT,
    refresh_s: float = REFRESH_S,
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="run the evaluation loop"),
    eval_games: int = typer.Option(40, min=0, help="evaluation games against each bot per version"),
    gateway: bool = typer.Option(True, "--gateway/--no-gateway", help="serve the web UI (port 8080)"),
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard", help="live view (else log lines)"),
    data_dir: Path | None = typer.Option(None, help="storage folder [default: $GRL_DATA_DIR or ./grl-data]"),
) -> None:
    """Train by self-play until the time budget (time_budget_s, 900 s by default; 0: until Ctrl-C).

    Ctrl-C stops cleanly (actors, then the learner with a checkpoint, then the services); the next
    ``grl train`` with the same --run resumes from the checkpoint.
    """
    actors = actors or min(8, max(1, (os.cpu_count() or 1) // 2))
    try:
        overrides: dict[str, object] = dict(parse_overrides(settings_ or []))
        if run_name is not None:
            overrides["run_name"] = run_name
        cfg = TrainConfig.from_toml(config, overrides)
        settings = Settings.from_env(data_dir=data_dir)
        layout = TrainLayout(
            actors=actors, fused=fused, evaluate=evaluate, gateway=gateway, dashboard=dashboard
        )
        options = remote_options(
            publish_every=publish_every,
            sampling=sampling,
            table_items=table_items,
            samples_per_insert=samples_per_insert,
            refresh_s=refresh_s,
        )
        evaluation = EvaluationConfig(map_side=cfg.map_side, seed=cfg.seed, bot_games=eval_games)
    except (ValueError, OSError) as error:
        raise typer.BadParameter(str(error)) from None
    if not fused:
        cfg = share_cores(cfg, actors, os.cpu_count() or 1)
    shape = "fused (one process)" if fused else f"1 learner, {actors} actors"
    logs = settings.data_dir / "logs" / cfg.run_name
    console.print(f"training run [bold]{cfg.run_name}[/]: {shape}; logs in {logs}", highlight=False)
    running = run(cfg, settings, layout, options=options, evaluation=evaluation, console=console)
    snapshot = asyncio.run(running)
    if snapshot is not None:
        console.print(
            f"stopped after {snapshot.elapsed_s:.0f} s: {snapshot.env_steps:,} env steps, "
            f"latest v{snapshot.latest}, champion v{snapshot.champion or '-'}; "
            f"`grl train --run {cfg.run_name}` resumes",
            highlight=False,
        )
