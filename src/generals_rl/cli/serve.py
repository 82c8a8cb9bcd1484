"""``grl serve NAME`` runs one service; ``grl up`` runs all of them in one process until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from generals_rl.services.runner import SERVICE_NAMES, ServiceUnavailableError, load_service, run_services
from generals_rl.settings import Settings

console = Console(stderr=True)

NAMES = (*SERVICE_NAMES, "gateway")
"""What ``grl serve`` and ``grl up`` run: the gRPC services and the HTTP gateway (started last)."""


def _settings(**flags: Any) -> Settings:
    try:
        return Settings.from_env(**flags)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


async def _run(names: list[str], settings: Settings) -> None:
    from generals_rl.services.common.logging import configure_logging
    from generals_rl.services.gateway import serve_gateway

    configure_logging("+".join(names) if len(names) < len(SERVICE_NAMES) else "grl-up", settings.log_format)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    grpc_names = [name for name in names if name in SERVICE_NAMES]
    async with run_services(grpc_names, settings) as running, contextlib.AsyncExitStack() as stack:
        for name in grpc_names:
            console.print(f"[bold green]{name}[/] listening on {running.address(name)}", highlight=False)
        if "gateway" in names:
            gateway = await stack.enter_async_context(serve_gateway(settings, running.stores, running.peers))
            console.print(f"[bold green]gateway[/] listening on {gateway.url} (the web UI)", highlight=False)
        console.print(
            f"storage: {settings.sql_uri} | {settings.cache_uri} | {settings.blob_uri}", highlight=False
        )
        console.print("Ctrl-C stops every service gracefully.")
        await stop.wait()
        console.print("stopping…")


def _start(names: list[str], settings: Settings) -> None:
    try:
        asyncio.run(_run(names, settings))
    except ServiceUnavailableError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from None
    except OSError as error:  # a port taken, storage unreachable
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None


def serve(
    name: str = typer.Argument(..., help=f"one of {', '.join(NAMES)}"),
    port: int | None = typer.Option(None, help="port to listen on [default: the seed's port]"),
    host: str | None = typer.Option(None, help="interface to listen on [default: $GRL_HOST or 127.0.0.1]"),
    data_dir: Path | None = typer.Option(None, help="embedded storage folder [default: $GRL_DATA_DIR]"),
    sql_uri: str | None = typer.Option(None, help="sqlite:///… or postgresql://…"),
    cache_uri: str | None = typer.Option(None, help="memory:// or redis://…"),
    blob_uri: str | None = typer.Option(None, help="file:///… or s3://…"),
    metrics_port: int | None = typer.Option(None, help="Prometheus /metrics port"),
) -> None:
    """Run one service (settings from flags, then GRL_* variables, then embedded defaults)."""
    if name not in NAMES:
        raise typer.BadParameter(f"unknown service {name!r}: choose one of {', '.join(NAMES)}")
    settings = _settings(
        ports={name: port} if port is not None else None,
        host=host,
        data_dir=data_dir,
        sql_uri=sql_uri,
        cache_uri=cache_uri,
        blob_uri=blob_uri,
        metrics_port=metrics_port,
    )
    _start([name], settings)


def up(
    data_dir: Path | None = typer.Option(None, help="embedded storage folder [default: ./grl-data]"),
    metrics_port: int | None = typer.Option(None, help="Prometheus /metrics port"),
    only: str | None = typer.Option(None, help="comma-separated subset of services to run"),
) -> None:
    """Run every service in this process on the embedded defaults and the seed's ports."""
    names = list(NAMES) if only is None else [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown services {unknown}: choose from {', '.join(NAMES)}")
    if only is None:  # run what this version has; say what it lacks
        available = []
        for name in names:
            if name == "gateway":
                available.append(name)
                continue
            try:
                load_service(name)
                available.append(name)
            except ServiceUnavailableError as error:
                console.print(f"[yellow]skipping[/] {error}", highlight=False)
        names = available
    _start(names, _settings(data_dir=data_dir, metrics_port=metrics_port))
