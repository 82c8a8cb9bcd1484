"""``grl model``: the Model Service's registry of policy versions, from a running service or the local
storage.

    grl model list                                   # local storage ($GRL_SQL_URI, else ./grl-data)
    grl model list --via 127.0.0.1:50053 --state accepted --top 20
    grl model show champion                          # a version by number or alias: checks, lineage, log
    grl model promote 12 --reason "beat 11 by 60 Elo"             # champion -> 12
    grl model rollback --reason "regression vs gatherer"          # champion -> what it was before
    grl model retire 7 --reason "superseded"
    grl model export latest --out policy.safetensors # the weights (checked) and a .json of metadata

Changes are recorded with who (``--by``, default ``cli:<login>``) and why (``--reason``).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeAlias, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from generals_rl.services.model.api import LocalModelRegistry
from generals_rl.services.model.client import ModelClient
from generals_rl.services.model.domain import (
    VERSION_STATES,
    Actor,
    AliasInfo,
    NotModified,
    Selector,
    VersionInfo,
    VersionState,
    select,
)

model_app = typer.Typer(
    help="Policy versions of the Model Service: list, show, promote, roll back, retire, export.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
errors = Console(stderr=True)

T = TypeVar("T")
Registry: TypeAlias = LocalModelRegistry | ModelClient

VIA = typer.Option(
    None, "--via", help="host:port of a Model Service [default: the local storage, as grl up uses it]"
)
REASON = typer.Option("", "--reason", help="why (recorded with the change)")
BY = typer.Option(None, "--by", help="who makes the change [default: cli:<login>]", show_default=False)


class NoRegistry(Exception):
    """There is no local database yet."""


@contextlib.asynccontextmanager
async def _registry(via: str | None) -> AsyncIterator[Registry]:
    if via is not None:
        from generals_rl.services.common.channels import channel

        async with channel(via, retries=2) as ch:
            yield ModelClient(ch, timeout_s=30.0)
        return
    from generals_rl.services.model.config import ModelServiceConfig
    from generals_rl.services.model.core import ModelCore
    from generals_rl.settings import Settings
    from generals_rl.storage import open_blobs, open_sql, upgrade

    settings = Settings.from_env()
    path = settings.sql_uri.removeprefix("sqlite:///")
    if settings.sql_uri.startswith("sqlite:///") and not Path(path).exists():
        raise NoRegistry(f"no model registry yet: there is no database at {path}")
    await asyncio.to_thread(upgrade, settings.sql_uri)
    database, blobs = open_sql(settings.sql_uri), open_blobs(settings.blob_uri)
    try:
        yield LocalModelRegistry(ModelCore(database, blobs, ModelServiceConfig.from_env()))
    finally:
        database.close()
        blobs.close()


def _run(via: str | None, work: Callable[[Registry], Awaitable[T]]) -> T:
    """Run ``work`` on the registry; errors are printed and exit with code 2."""
    from generals_rl.services.common.errors import ServiceError
    from generals_rl.storage import StorageError

    async def main() -> T:
        async with _registry(via) as registry:
            return await work(registry)

    try:
        return asyncio.run(main())
    except NoRegistry as error:
        console.print(str(error))
        raise typer.Exit(code=0) from None
    except (ServiceError, StorageError, ValueError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def _actor(by: str | None, reason: str) -> Actor:
    return Actor(by or f"cli:{getpass.getuser()}", reason)


def _target(text: str) -> Selector:
    try:
        return select(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _when(version: VersionInfo) -> str:
    return f"{version.created_at:%Y-%m-%d %H:%M:%S}" if version.created_at else ""


def _checks(version: VersionInfo) -> str:
    if not version.checks:
        return ""
    passed = sum(c.passed for c in version.checks)
    return f"{passed}/{len(version.checks)}"


def _table(versions: tuple[VersionInfo, ...]) -> Table:
    table = Table(
        title="policy versions, newest first",
        caption="ok: validation checks passed; published: UTC; grl model show VERSION for more",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("ver", justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("aliases", min_width=9)
    table.add_column("arch", min_width=9)
    table.add_column("parent", justify="right", no_wrap=True)
    table.add_column("step", justify="right", no_wrap=True)
    table.add_column("run", min_width=5)
    table.add_column("ok", justify="right", no_wrap=True)
    table.add_column("published", no_wrap=True)
    for v in versions:
        table.add_row(
            str(v.version),
            v.state,
            ", ".join(v.aliases),
            v.metadata.architecture,
            str(v.metadata.parent_version or ""),
            str(v.metadata.training_step),
            v.metadata.run_id,
            _checks(v),
            f"{v.created_at:%m-%d %H:%M}" if v.created_at else "",
        )
    return table


@model_app.command("list")
def list_versions(
    via: str | None = VIA,
    state: str | None = typer.Option(None, "--state", help="only pending, accepted, rejected or retired"),
    architecture: str = typer.Option("", "--arch", help="only this architecture id"),
    run_id: str = typer.Option("", "--run", help="only versions of this training run"),
    top: int = typer.Option(20, "--top", min=1, max=1000, help="how many versions to show"),
) -> None:
    """List policy versions, newest first, with their state, aliases and validation."""
    if state is not None and state not in VERSION_STATES:
        raise typer.BadParameter(f"--state must be one of {', '.join(VERSION_STATES)}, got {state!r}")
    chosen: VersionState | None = state
    page = _run(
        via,
        lambda r: r.list_versions(state=chosen, architecture=architecture, run_id=run_id, page_size=top),
    )
    if not page.versions:
        console.print("no policy versions yet")
        return
    console.print(_table(page.versions))
    if page.next_page_token:
        console.print(f"the {len(page.versions)} newest shown; --top shows more")


@model_app.command()
def show(
    target: str = typer.Argument(..., help="a version number or an alias"), via: str | None = VIA
) -> None:
    """Show one version: metadata, validation checks, aliases, lineage and its change log."""
    selector = _target(target)

    async def work(registry: Registry) -> tuple[VersionInfo, tuple[VersionInfo, ...], list[str]]:
        version = await registry.get_version(selector)
        lineage = await registry.lineage(version.version, 10)
        events = await registry.list_events(version=version.version, page_size=20)
        log = [
            f"{e.at:%Y-%m-%d %H:%M:%S} {e.kind}"
            + (f" {e.alias}" if e.alias else "")
            + (f" -> {e.state}" if e.state else "")
            + f" by {e.actor.name}"
            + (f": {e.actor.reason}" if e.actor.reason else "")
            for e in events.events
            if e.at is not None
        ]
        return version, lineage.ancestors, log

    version, ancestors, log = _run(via, work)
    m = version.metadata
    console.print(f"[bold]version {version.version}[/] {version.state}", highlight=False)
    if version.status_reason:
        console.print(f"  reason: {version.status_reason}", highlight=False)
    console.print(f"  aliases: {', '.join(version.aliases) or '-'}", highlight=False)
    console.print(f"  architecture: {m.architecture} {m.config_json}", highlight=False)
    console.print(f"  parent: {m.parent_version or '-'}  training step: {m.training_step}", highlight=False)
    console.print(f"  run: {m.run_id or '-'}  publisher: {m.publisher or '-'}", highlight=False)
    console.print(f"  published: {_when(version)} UTC  size: {m.size_bytes} bytes", highlight=False)
    console.print(f"  sha256: {version.sha256}", highlight=False)
    if m.description:
        console.print(f"  description: {m.description}", highlight=False)
    if m.metrics:
        metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(m.metrics.items()))
        console.print(f"  metrics: {metrics}", highlight=False)
    for check in version.checks:
        mark = "[green]pass[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)
    if ancestors:
        console.print(f"  lineage: {' <- '.join(str(a.version) for a in ancestors)}", highlight=False)
    for line in log:
        console.print(f"  {line}", highlight=False)


def _alias_line(alias: AliasInfo, verb: str) -> str:
    before = f" (was {alias.previous_version})" if alias.previous_version else ""
    return f"{alias.name} {verb} version {alias.version}{before}"


@model_app.command()
def promote(
    version: int = typer.Argument(..., min=1, help="the accepted version to point at"),
    alias: str = typer.Option("champion", "--alias", help="the alias to move (never latest)"),
    reason: str = REASON,
    by: str | None = BY,
    via: str | None = VIA,
) -> None:
    """Point an alias (default champion) at an accepted version."""
    moved = _run(via, lambda r: r.promote(version, alias, _actor(by, reason)))
    console.print(_alias_line(moved, "->"), highlight=False)


@model_app.command()
def rollback(
    alias: str = typer.Option("champion", "--alias", help="the alias to move back"),
    to: int = typer.Option(0, "--to", min=0, help="the version to go back to [default: the one before]"),
    reason: str = REASON,
    by: str | None = BY,
    via: str | None = VIA,
) -> None:
    """Point an alias (default champion) back at an earlier version."""
    moved = _run(via, lambda r: r.rollback(alias, to, _actor(by, reason)))
    console.print(_alias_line(moved, "rolled back to"), highlight=False)


@model_app.command()
def retire(
    version: int = typer.Argument(..., min=1, help="the version to retire"),
    reason: str = REASON,
    by: str | None = BY,
    via: str | None = VIA,
) -> None:
    """Retire a version: downloadable by number only, never served by an alias again."""
    retired = _run(via, lambda r: r.retire(version, _actor(by, reason)))
    console.print(f"version {retired.version} is {retired.state}", highlight=False)


@model_app.command()
def export(
    target: str = typer.Argument(..., help="a version number or an alias"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="the .safetensors file to write [default: model-<version>.safetensors]"
    ),
    via: str | None = VIA,
) -> None:
    """Write a version's weights (SHA-256 checked) and its metadata (a .json beside them)."""
    selector = _target(target)

    async def work(registry: Registry) -> tuple[VersionInfo, bytes]:
        got = await registry.fetch_bytes(selector)
        assert not isinstance(got, NotModified)
        return got

    version, data = _run(via, work)
    path = out or Path(f"model-{version.version}.safetensors")
    path.write_bytes(data)
    m = version.metadata
    sidecar = path.with_suffix(".json")
    sidecar.write_text(
        json.dumps(
            {
                "version": version.version,
                "architecture": m.architecture,
                "config": json.loads(m.config_json),
                "parent_version": m.parent_version,
                "training_step": m.training_step,
                "metrics": dict(m.metrics),
                "run_id": m.run_id,
                "sha256": version.sha256,
                "aliases": list(version.aliases),
            },
            indent=2,
        )
        + "\n"
    )
    console.print(
        f"version {version.version} -> {path} ({len(data)} bytes, sha256 {version.sha256})", highlight=False
    )
