"""``grl play``: scripted bots and model versions against each other, watched or counted.

Seats take a bot name (``random``, ``expander``, ``gatherer``, ``raider``) or a model version,
``model:<version>`` or ``model:<alias>`` (``latest``, ``champion``, ``candidate``), loaded from the
local storage (as ``grl up`` keeps it; ``GRL_*`` variables) or from ``--model-service HOST:PORT``.
Games run in this process on the engine; no service is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from generals_rl.agents import BOTS, Agent, make_agent
from generals_rl.agents.arena import MatchResult, play_games
from generals_rl.cli.model import NoRegistry, _registry
from generals_rl.cli.players import model_agents, model_selector
from generals_rl.game import EngineConfig, GameState, MapConfig, MapError, Maps, generate_maps
from generals_rl.render import render_game
from generals_rl.services.common.errors import ServiceError
from generals_rl.stats import wilson_interval
from generals_rl.storage import StorageError

console = Console()


def parse_size(size: str | None) -> tuple[int, int] | None:
    """``20x20`` -> (20, 20) (height x width)."""
    if size is None:
        return None
    try:
        h, w = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"size must look like 20x20, got {size!r}") from None
    if not (4 <= h <= 64 and 4 <= w <= 64):
        raise typer.BadParameter(f"each side must lie in 4..64, got {size!r}")
    return h, w


def make_maps(
    games: int, players: int, size: tuple[int, int] | None, seed: int | None, map_file: Path | None
) -> Maps:
    if map_file is not None:
        one = Maps.load(map_file)
        if one.num_players != players:
            raise typer.BadParameter(f"{map_file} has {one.num_players} generals, --players is {players}")
        return Maps.cat([one] * games)
    config = MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)
    if size is not None:
        h, w = size
        if h != w:
            raise typer.BadParameter("generated maps are square: use --size NxN")
        config = config.with_side(h)
    try:
        return generate_maps(games, config, seed=seed)
    except MapError as error:
        raise typer.BadParameter(f"{error} (try a larger --size or fewer --players)") from None


def results_table(result: MatchResult) -> Table:
    table = Table(title=f"{result.games} games")
    table.add_column("seat")
    table.add_column("agent")
    table.add_column("wins", justify="right")
    table.add_column("win rate", justify="right")
    table.add_column("95% CI", justify="right")
    for seat, name in enumerate(result.seats):
        wins = result.wins(seat)
        low, high = wilson_interval(wins, result.games)
        table.add_row(
            str(seat + 1), name, str(wins), f"{wins / result.games:.1%}", f"[{low:.1%}, {high:.1%}]"
        )
    table.add_row("", "draws", str(result.draws), f"{result.draws / result.games:.1%}", "")
    table.caption = f"mean length {result.ticks.float().mean():.0f} ticks"
    return table


def load_agents(seats: Sequence[str], seed: int | None, model_service: str | None) -> list[Agent]:
    """One agent a seat: bots by name, model versions loaded (errors print and exit 2)."""
    seeds = [None if seed is None else seed + i for i in range(len(seats))]
    models: dict[int, Agent] = {}
    if any(model_selector(name) is not None for name in seats):

        async def load() -> dict[int, Agent]:
            async with _registry(model_service) as registry:
                return dict(await model_agents(seats, registry, seeds))

        try:
            models = asyncio.run(load())
        except (NoRegistry, ServiceError, StorageError, ValueError) as error:
            console.print(f"[bold red]error:[/] {error}", highlight=False)
            raise typer.Exit(code=2) from None
    return [models.get(i) or make_agent(name, seeds[i]) for i, name in enumerate(seats)]


def play(
    p1: str = typer.Option("gatherer", help="agent in seat 1: a bot name or model:<version|alias>"),
    p2: str = typer.Option("expander", help="agent in seat 2"),
    rest: str = typer.Option("random", help="agent in seats 3 and up (FFA)"),
    players: int = typer.Option(2, min=2, max=8, help="players a game (over 2: free-for-all)"),
    size: str | None = typer.Option(None, help="map size HxW (generated maps are square)"),
    map_file: Path | None = typer.Option(None, "--map", exists=True, dir_okay=False, help="a map file"),
    seed: int | None = typer.Option(None, help="seed of maps and agents"),
    games: int = typer.Option(1, min=1, help="games to play; over 1 plays without render"),
    max_ticks: int = typer.Option(2000, min=1, help="truncation limit (a draw)"),
    move_order: str = typer.Option("alternating", help="alternating or generals-bots"),
    delay: float = typer.Option(0.03, min=0.0, help="seconds between rendered ticks"),
    save_replays: Path | None = typer.Option(None, help="write every game as a .gioreplay here"),
    model_service: str | None = typer.Option(
        None, help="host:port of a Model Service for model players [default: the local storage]"
    ),
) -> None:
    """Play scripted bots and model versions against each other: one game rendered live, or many counted."""
    seats = [p1, p2] + [rest] * (players - 2)
    try:
        config = EngineConfig(move_order=move_order, max_ticks=max_ticks)  # type: ignore[arg-type]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    for name in seats:  # every name checked before anything is loaded
        if model_selector(name) is None and name not in BOTS:
            bots = ", ".join(sorted(BOTS))
            raise typer.BadParameter(
                f"unknown agent {name!r}: choose one of {bots}, or model:<version|alias>"
            )
    agents = load_agents(seats, seed, model_service)
    if seed is not None:
        torch.manual_seed(seed)
    maps = make_maps(games, players, parse_size(size), seed, map_file)
    names = [f"{name} ({i + 1})" for i, name in enumerate(seats)]
    recorder = _recorder(maps, names, config) if save_replays else None

    def on_tick(state: GameState, actions: torch.Tensor) -> None:
        if recorder is not None:
            recorder.record(state, actions)

    if games == 1:
        with Live(render_game(_initial(maps), 0, names), console=console, auto_refresh=False) as live:

            def render(state: GameState, actions: torch.Tensor) -> None:
                on_tick(state, actions)
                live.update(render_game(state, 0, names), refresh=True)
                if delay:
                    time.sleep(delay)

            result = play_games(agents, maps, config, on_tick=render)
            live.update(render_game(result.final, 0, names), refresh=True)
    else:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"{games} games", total=max_ticks)

            def count(state: GameState, actions: torch.Tensor) -> None:
                on_tick(state, actions)
                progress.update(
                    task, completed=int(state.tick.max()), description=f"{int((~state.done).sum())} playing"
                )

            result = play_games(agents, maps, config, on_tick=count)
    console.print(results_table(result))
    if recorder is not None and save_replays is not None:
        paths = recorder.save(result.final, save_replays)
        console.print(f"wrote {len(paths)} replays to {save_replays}")


def _initial(maps: Maps) -> GameState:
    from generals_rl.game.maps import initial_state

    return initial_state(maps)


def _recorder(maps: Maps, names: list[str], config: EngineConfig):  # type: ignore[no-untyped-def]
    from generals_rl.game.replay import ReplayRecorder

    return ReplayRecorder(maps, names, config)
