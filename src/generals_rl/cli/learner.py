"""``grl learner``: one learner process (``training.learner_loop``): trains on batches of the Replay
Service and publishes versions to the Model Service until Ctrl-C, SIGTERM or the config's budget;
it resumes from the run's last checkpoint.

    grl learner --config run.toml --publish-every 20
    torchrun --nproc-per-node 2 -m generals_rl.cli.main learner --set device=cpu   # DDP on gloo

Flags as ``grl actor`` (``--config``, ``--set``, the service addresses); checkpoints go to
``checkpoint_uri`` of the config, or the blob store of ``GRL_BLOB_URI`` / the data folder.
"""

from __future__ import annotations

from pathlib import Path

import typer

from generals_rl.cli.actor import (
    CONFIG,
    LOG_FORMAT,
    METRICS,
    MODEL,
    REPLAY,
    SAMPLES_PER_INSERT,
    SAMPLING,
    SET,
    TABLE,
    TABLE_ITEMS,
    remote_options,
    run_until_signal,
    service_settings,
    train_config,
)


def learner(
    config: Path | None = CONFIG,
    set_: list[str] = SET,
    replay: str | None = REPLAY,
    model: str | None = MODEL,
    table: str = TABLE,
    sampling: str = SAMPLING,
    table_items: int = TABLE_ITEMS,
    samples_per_insert: float | None = SAMPLES_PER_INSERT,
    batch_size: int = typer.Option(0, "--batch-size", help="trajectories per update [default: minibatch]"),
    publish_every: int = typer.Option(20, "--publish-every", help="updates between published versions"),
    metrics_port: int | None = METRICS,
    log_format: str | None = LOG_FORMAT,
) -> None:
    """Train on the Replay Service's trajectories and publish versions to the Model Service."""
    from generals_rl.training.learner_loop import LearnerLoop

    train = train_config(config, set_)
    options = remote_options(
        table=table,
        sampling=sampling,
        table_items=table_items,
        samples_per_insert=samples_per_insert,
        batch_size=batch_size,
        publish_every=publish_every,
    )
    settings = service_settings({"replay": replay, "model": model}, log_format, metrics_port)
    worker = LearnerLoop(train, settings, options)
    run_until_signal("learner", settings, worker.run, worker.stop)
