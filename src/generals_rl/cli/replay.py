"""``grl replay``: trace, watch and summarize official replays (``.gioreplay`` and ``.gior``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from generals_rl.game.replay import Replay, ReplayError, ReplaySimulator, load_replay, trace_line
from generals_rl.game.state import GameState
from generals_rl.render import PLAYER_COLORS, render_game

replay_app = typer.Typer(
    help="Official generals.io replays (.gioreplay JSON or .gior): trace, watch, summarize.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
errors = Console(stderr=True)

FILE = typer.Argument(..., help="a .gioreplay or .gior file (the format is read from its content)")


@contextmanager
def _clean_errors() -> Iterator[None]:
    """A bad replay: one line on stderr and exit code 2, no traceback."""
    try:
        yield
    except ReplayError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def _names(replay: Replay) -> list[str]:
    return [name or f"player {i}" for i, name in enumerate(replay.usernames)]


@replay_app.command()
def trace(
    file: Path = FILE,
    max_ticks: int | None = typer.Option(
        None, min=1, help="play on to this tick (a draw there) instead of stopping after the last record"
    ),
) -> None:
    """One JSON line per tick: tick, players alive, and every tile's owner and army by official
    index (owner codes: player >= 0, -1 neutral, -2 mountain). Stops when the game is over."""
    with _clean_errors():
        replay = load_replay(file)
        sim = ReplaySimulator(replay, max_ticks=max_ticks)
        out = sys.stdout
        while not sim.over:
            state = sim.step()
            out.write(
                json.dumps(trace_line(state, replay.map_height, replay.map_width), separators=(",", ":"))
            )
            out.write("\n")


@replay_app.command()
def show(
    file: Path = FILE,
    fog: int | None = typer.Option(None, min=0, help="show only what this player (0-based index) sees"),
    delay: float = typer.Option(0.1, min=0.0, help="seconds between ticks"),
    tick: int | None = typer.Option(None, min=0, help="show the board at this tick only, without playing"),
) -> None:
    """Watch a replay in the terminal, tick by tick (or one tick with --tick)."""
    with _clean_errors():
        replay = load_replay(file)
        if fog is not None and fog >= replay.num_players:
            raise ReplayError(f"--fog {fog}: the replay has players 0..{replay.num_players - 1}")
        sim = ReplaySimulator(replay)
        names = _names(replay)
        if tick is not None:
            while sim.tick < tick and not sim.over:
                sim.step()
            console.print(render_game(sim.state, 0, names, fog_of=fog))
            if sim.tick < tick:
                console.print(f"the game ended at tick {sim.tick}")
            return
        with Live(render_game(sim.state, 0, names, fog_of=fog), console=console, auto_refresh=False) as live:
            while not sim.over:
                live.update(render_game(sim.step(), 0, names, fog_of=fog), refresh=True)
                if delay:
                    time.sleep(delay)


@replay_app.command()
def info(file: Path = FILE) -> None:
    """A summary: id, version, map, players, records, and how the game ended."""
    with _clean_errors():
        replay = load_replay(file)
        sim = ReplaySimulator(replay)
        while not sim.over:
            sim.step()
        console.print(_summary(replay, sim.state))


def _summary(replay: Replay, final: GameState) -> Table:
    names = _names(replay)
    done = bool(final.done[0])
    winner = int(final.winner[0])
    table = Table(title=f"replay {replay.id or '(no id)'}", title_justify="left")
    table.add_column("player", justify="right")
    table.add_column("username")
    table.add_column("stars", justify="right")
    if replay.teams is not None:
        table.add_column("team", justify="right")
    table.add_column("moves", justify="right")
    table.add_column("afk at", justify="right")
    table.add_column("land", justify="right")
    table.add_column("army", justify="right")
    table.add_column("result")
    land = final.land()[0].tolist()
    army = final.army()[0].tolist()
    alive = final.alive[0].tolist()
    for p in range(replay.num_players):
        stars = replay.stars[p] if replay.stars is not None and p < len(replay.stars) else None
        afk = ", ".join(str(a.turn) for a in replay.afks if a.index == p)
        result = "alive"
        if not alive[p]:
            result = "out"
        if done and winner >= 0 and int(final.teams[0, p]) == winner:
            result = "[bold]won[/]"
        row: list[str | Text] = [
            str(p),
            Text(names[p], style=PLAYER_COLORS[p % len(PLAYER_COLORS)]),
            "" if stars is None else str(stars),
        ]
        if replay.teams is not None:
            row.append(str(replay.teams[p]))
        row += [str(sum(m.index == p for m in replay.moves)), afk, str(land[p]), str(army[p]), result]
        table.add_row(*row)
    ticks = int(final.tick[0])
    if done and winner >= 0:
        who = f"team {winner}" if replay.teams is not None else f"{winner} ({names[winner]})"
        ending = f"won by {who} at tick {ticks} (turn {ticks // 2})"
    elif done:
        ending = f"a draw at tick {ticks}"
    else:
        ending = f"the log ends at tick {ticks} with {sum(alive)} players left"
    table.caption = (
        f"version {replay.version}, map {replay.map_width}x{replay.map_height} (width x height)"
        + (f" '{replay.map_title}'" if replay.map_title else "")
        + f", {len(replay.moves)} moves, {len(replay.afks)} AFK records; {ending}"
    )
    table.caption_justify = "left"
    return table
