"""``grl actor``: one actor process (``training.actor``): plays games with the latest policy of the
Model Service and streams them to the Replay Service until Ctrl-C or SIGTERM.

    grl actor                                            # services at the seed's ports on loopback
    grl actor --config run.toml --set games=64 --replay 10.0.0.5:50055 --model 10.0.0.5:50053
    grl actor --via-game-service --metrics-port 9101 --log-format json

Training settings come from ``--config`` (a TOML file of ``TrainConfig`` fields) and ``--set
key=value`` flags; where the services are from the address flags, then ``GRL_*_ADDR`` variables.
The helpers here serve ``grl learner`` too.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig, parse_overrides
from generals_rl.training.remote import RemoteOptions

console = Console(stderr=True)

CONFIG = typer.Option(None, "--config", help="TOML file of training settings (TrainConfig fields)")
SET = typer.Option([], "--set", help="a training setting, key=value (repeatable): --set games=64")
REPLAY = typer.Option(None, "--replay", help="host:port of the Replay Service [default: $GRL_REPLAY_ADDR]")
MODEL = typer.Option(None, "--model", help="host:port of the Model Service [default: $GRL_MODEL_ADDR]")
TABLE = typer.Option("trajectories", "--table", help="the Replay table (created when missing)")
SAMPLING = typer.Option(
    "uniform",
    "--sampling",
    help="the table's sampling: uniform (a replay buffer) or queue (oldest first, each once)",
)
TABLE_ITEMS = typer.Option(
    RemoteOptions.table_items,
    "--table-items",
    help="the table's capacity in trajectories (the oldest leave first)",
)
SAMPLES_PER_INSERT = typer.Option(
    None,
    "--samples-per-insert",
    help="times each trajectory is sampled on average, the rate limiter's ratio [default: epochs]",
)
REFRESH_S = typer.Option(
    RemoteOptions.refresh_s, "--refresh-s", help="seconds between an actor's checks for a newer policy"
)
METRICS = typer.Option(None, "--metrics-port", help="serve Prometheus /metrics on this port")
LOG_FORMAT = typer.Option(None, "--log-format", help="console or json [default: $GRL_LOG_FORMAT]")


def train_config(path: Path | None, sets: list[str]) -> TrainConfig:
    """The ``TrainConfig`` of ``--config`` and ``--set``; a bad value is a usage error."""
    try:
        return TrainConfig.from_toml(path, parse_overrides(sets))
    except FileNotFoundError:
        raise typer.BadParameter(f"no config file {path}") from None
    except (ValueError, TypeError) as error:  # tomllib.TOMLDecodeError is a ValueError
        raise typer.BadParameter(str(error)) from None


def remote_options(**values: Any) -> RemoteOptions:
    try:
        return RemoteOptions(**values)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def service_settings(
    addresses: dict[str, str | None], log_format: str | None, metrics_port: int | None
) -> Settings:
    try:
        return Settings.from_env(
            addresses={name: address for name, address in addresses.items() if address},
            log_format=log_format,
            metrics_port=metrics_port,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def run_until_signal(
    name: str, settings: Settings, run: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> None:
    """``run()`` with structured logs and /metrics until it returns, or until SIGINT / SIGTERM
    asks ``stop()`` to end it cleanly."""
    from prometheus_client import start_http_server

    from generals_rl.services.common.logging import configure_logging

    configure_logging(name, settings.log_format)
    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=settings.host)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(stop()))
        await run()

    asyncio.run(main())


def actor(
    config: Path | None = CONFIG,
    set_: list[str] = SET,
    replay: str | None = REPLAY,
    model: str | None = MODEL,
    matchmaker: str | None = typer.Option(
        None, "--matchmaker", help="host:port of the Matchmaker [default: $GRL_MATCHMAKER_ADDR]"
    ),
    game: str | None = typer.Option(
        None, "--game", help="host:port of the Game Service [default: $GRL_GAME_ADDR]"
    ),
    table: str = TABLE,
    sampling: str = SAMPLING,
    table_items: int = TABLE_ITEMS,
    samples_per_insert: float | None = SAMPLES_PER_INSERT,
    actor_id: str = typer.Option(
        "", "--actor-id", help="its name in logs and metrics [default: a random one]"
    ),
    refresh_s: float = REFRESH_S,
    max_pending: int = typer.Option(8, "--max-pending", help="rollouts kept until acknowledged"),
    via_game_service: bool = typer.Option(False, "--via-game-service", help="play through the Game Service"),
    metrics_port: int | None = METRICS,
    log_format: str | None = LOG_FORMAT,
) -> None:
    """Play games with the latest policy and stream them to the Replay Service."""
    from generals_rl.training.actor import Actor

    train = train_config(config, set_)
    options = remote_options(
        table=table,
        sampling=sampling,
        table_items=table_items,
        samples_per_insert=samples_per_insert,
        actor_id=actor_id,
        refresh_s=refresh_s,
        max_pending=max_pending,
        via_game_service=via_game_service,
    )
    settings = service_settings(
        {"replay": replay, "model": model, "matchmaker": matchmaker, "game": game}, log_format, metrics_port
    )
    worker = Actor(train, settings, options)
    run_until_signal("actor", settings, worker.run, worker.stop)
