"""``grl evaluate``: a model version against the champion and the bots, as the evaluation loop plays it.

    grl evaluate                          # latest: services started here on the local storage
    grl evaluate 7 --running              # with running services (GRL_*_ADDR, as grl up runs them)
    grl evaluate 7 --no-record            # play and report; move no alias
    grl evaluate --watch --running        # the loop: every new version until Ctrl-C

Games go through the Matchmaker and the Game Service and are rated by the Elo Service; the verdict
(SPRT or win-rate bound) is recorded in the Model Service as ``candidate`` (and ``champion`` when
promoted) with its reason, unless ``--no-record``. ``training/evaluation.py`` explains the rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from generals_rl.cli.match import run_or_exit
from generals_rl.services.model.domain import select
from generals_rl.settings import Settings
from generals_rl.training.evaluation import EvaluationConfig, EvaluationReport, Evaluator, Record

console = Console()
SERVICES = ("game", "matchmaker", "model", "elo")


@contextlib.asynccontextmanager
async def service_settings(running: bool, data_dir: Path | None) -> AsyncIterator[Settings]:
    """The settings of running services, or of services started here on free ports."""
    settings = Settings.from_env(data_dir=data_dir)
    if running:
        yield settings
        return
    from generals_rl.services.runner import run_services

    settings = settings.replace(ports={**settings.ports, **dict.fromkeys(SERVICES, 0)})
    async with run_services(list(SERVICES), settings) as started:
        yield started.peers.settings  # where they really listen


def report_table(report: EvaluationReport) -> Table:
    """Each opponent's W-D-L, score and 95% Wilson interval; the verdict and the Elo below."""
    verdict = "promoted to champion" if report.promoted else "not promoted"
    table = Table(title=f"v{report.version}: {verdict}")
    for column in ("opponent", "games", "W-D-L", "score", "95% CI"):
        table.add_column(column, justify="left" if column == "opponent" else "right")
    records: list[Record] = ([report.versus] if report.versus else []) + list(report.bots)
    for r in records:
        kind, _, ident = r.opponent.partition(":")
        low, high = r.interval()
        who = f"v{ident} (champion)" if kind == "model" else ident
        table.add_row(who, str(r.games), r.wdl, f"{r.score_rate():.1%}", f"[{low:.1%}, {high:.1%}]")
    elo = f"Elo v{report.version} {report.elo:.0f}" if report.elo is not None else "Elo unknown"
    if report.champion and report.champion_elo is not None:
        elo += f", champion v{report.champion} {report.champion_elo:.0f}"
    table.caption = f"{report.reason}\n{elo}"
    return table


def _batch_line(progress: Progress, task: Any) -> Callable[[int, Record], None]:
    def show(version: int, record: Record) -> None:
        kind, _, ident = record.opponent.partition(":")
        who = f"v{ident}" if kind == "model" else ident
        line = (
            f"v{version} vs {who}: W-D-L {record.wdl} after {record.games} games ({record.score_rate():.1%})"
        )
        progress.update(task, description=line)
        progress.console.print(line, highlight=False)

    return show


def evaluate(
    version: str = typer.Argument("latest", help="version number or alias"),
    watch: bool = typer.Option(False, help="evaluate every new version until Ctrl-C (the loop)"),
    record: bool = typer.Option(True, help="record the verdict in the Model Service (move the aliases)"),
    promotion: str = typer.Option("sprt", help="sprt, or win-rate (a Wilson lower bound after --max-games)"),
    batch_games: int = typer.Option(20, min=1, max=100, help="games against the champion between SPRT looks"),
    max_games: int = typer.Option(400, min=1, help="most games against the champion"),
    elo0: float = typer.Option(0.0, help="SPRT H0: Elo over the champion"),
    elo1: float = typer.Option(50.0, help="SPRT H1: Elo over the champion"),
    alpha: float = typer.Option(0.05, help="SPRT false promotion rate"),
    beta: float = typer.Option(0.05, help="SPRT false rejection rate"),
    bound: float = typer.Option(0.5, help="win-rate: the score the lower end must exceed"),
    bot_games: int = typer.Option(40, min=0, help="games against each bot"),
    opponents: str = typer.Option("random,expander,gatherer", help="bots played, comma-separated"),
    size: int = typer.Option(0, min=0, max=64, help="side of square maps (0: the generals.io 1v1 preset)"),
    max_ticks: int = typer.Option(2000, min=1, max=100_000, help="tick limit of a game (a draw)"),
    concurrency: int = typer.Option(8, min=1, max=256, help="most games at once per tournament"),
    seed: int = typer.Option(0, min=0, help="seed of the tournaments (0: drawn)"),
    running: bool = typer.Option(False, help="use running services at GRL_*_ADDR instead of starting them"),
    data_dir: Path | None = typer.Option(None, help="embedded storage when the services run here"),
) -> None:
    """Evaluate a model version against the champion (SPRT or win-rate bound) and the bots."""
    try:
        config = EvaluationConfig(
            promotion="win_rate" if promotion == "win-rate" else promotion,  # type: ignore[arg-type]
            batch_games=batch_games,
            max_games=max_games,
            elo0=elo0,
            elo1=elo1,
            alpha=alpha,
            beta=beta,
            win_rate_bound=bound,
            bot_games=bot_games,
            opponents=tuple(name.strip() for name in opponents.split(",") if name.strip()),
            map_side=size,
            max_ticks=max_ticks,
            concurrency=concurrency,
            seed=seed,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None

    async def work() -> None:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("starting", total=None)
            async with (
                service_settings(running, data_dir) as settings,
                Evaluator.connect(
                    settings,
                    config,
                    on_batch=_batch_line(progress, task),
                    on_report=lambda r: progress.console.print(report_table(r)),
                ) as evaluator,
            ):
                if watch:
                    progress.update(task, description="waiting for new versions (Ctrl-C stops)")
                    await evaluator.run()
                    return
                info = await evaluator.models.get_version(select(version))
                progress.update(task, description=f"evaluating v{info.version}")
                await evaluator.evaluate(info.version, record=record)

    with contextlib.suppress(KeyboardInterrupt):
        run_or_exit(work)
