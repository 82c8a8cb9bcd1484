"""``grl match`` and ``grl tournament``: games played through the Matchmaker and the Game Service.

Both ask the Matchmaker for a tournament (``grl match`` is a round robin of two: its games
alternate seats) and print the result. With ``--via HOST:PORT`` they use a running Matchmaker;
without it they start the Game, Elo and Matchmaker services in this process on free ports and the
embedded storage (``--data-dir``, ``GRL_*`` variables), as ``grl up`` would, and stop them after.
Players are bot names (``random``, ``expander``, ``gatherer``), ``model:<version>`` or
``model:<alias>`` (``latest``, ``champion``, ``candidate``): an alias is resolved to the version it
names when the games are created, with the Model Service started here, or with ``--via`` the one at
``GRL_MODEL_ADDR`` (default 127.0.0.1:50053).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from generals_rl.cli.players import model_selector, resolve_names
from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import ServiceError
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.matchmaker.convert import player_to_proto
from generals_rl.services.matchmaker.core import PlayerRef
from generals_rl.services.model.client import ModelClient
from generals_rl.settings import Settings
from generals_rl.stats import wilson_interval
from generals_rl.v1 import common_pb2
from generals_rl.v1 import matchmaker_pb2 as pb

console = Console()

FORMATS = {
    "round-robin": pb.TOURNAMENT_FORMAT_ROUND_ROBIN,
    "swiss": pb.TOURNAMENT_FORMAT_SWISS,
    "single-elimination": pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION,
}
TIEBREAKS = {
    pb.TOURNAMENT_FORMAT_ROUND_ROBIN: "Sonneborn-Berger",
    pb.TOURNAMENT_FORMAT_SWISS: "Buchholz",
    pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION: "round reached",
}
_SERVICES = ("game", "elo", "matchmaker")


def player_names(text: str) -> list[str]:
    """``random, expander,model:champion`` -> the names, each checked (``typer.BadParameter``)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if model_selector(name) is None:
            parse_players(name)
    return names


def parse_players(text: str) -> list[PlayerRef]:
    """``random,expander,model:3`` -> players (``typer.BadParameter`` for a bad one)."""
    try:
        players = [PlayerRef.parse(part) for part in text.split(",") if part.strip()]
    except ServiceError as error:
        raise typer.BadParameter(str(error)) from None
    twice = sorted({p.key for p in players if players.count(p) > 1})
    if twice:
        raise typer.BadParameter(f"listed twice: {', '.join(twice)}")
    return players


def name(ref: common_pb2.PlayerRef) -> str:
    return ref.id if ref.kind == common_pb2.PLAYER_KIND_BOT else f"model:{ref.id}"


@contextlib.asynccontextmanager
async def matchmaker(
    via: str | None, data_dir: Path | None, models: bool = False
) -> AsyncIterator[tuple[MatchmakerClient, str]]:
    """A client of the Matchmaker at ``via``, or of one started here with its peers (and the Model
    Service when ``models``); and the address of the Model Service its games fetch models from."""
    settings = Settings.from_env(data_dir=data_dir)
    if via is not None:
        async with MatchmakerClient(via, timeout_s=30) as client:
            yield client, settings.address("model")
        return
    from generals_rl.services.runner import run_services

    names = [*_SERVICES, "model"] if models else list(_SERVICES)
    settings = settings.replace(ports={**settings.ports, **dict.fromkeys(names, 0)})
    async with (
        run_services(names, settings) as running,
        MatchmakerClient(running.address("matchmaker"), timeout_s=30) as client,
    ):
        yield client, running.peers.settings.address("model")


def expected_games(request: pb.CreateTournamentRequest, created: pb.Tournament) -> int:
    n = len(request.participants)
    if created.format == pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION:
        return (n - 1) * created.games_per_pairing
    return created.total_rounds * (n // 2) * created.games_per_pairing


def games_played(t: pb.Tournament) -> int:
    """Games over so far: each adds one point to its pairing (byes are not games)."""
    return round(sum(p.a_points + p.b_points for r in t.rounds for p in r.pairings if p.HasField("b")))


async def play_tournament(
    request: pb.CreateTournamentRequest, names: Sequence[str], via: str | None, data_dir: Path | None
) -> pb.Tournament:
    """Create the tournament between ``names`` (model aliases resolved now: ``request`` gets the
    participants) and wait for its end, with a progress bar."""
    models = any(model_selector(name) is not None for name in names)
    async with matchmaker(via, data_dir, models) as (mm, model_address):
        if models:
            async with channel(model_address, retries=2) as ch:
                names = await resolve_names(names, ModelClient(ch, timeout_s=30))
        request.participants.extend(player_to_proto(p) for p in parse_players(",".join(names)))
        created = await mm.create_tournament(request)
        total = expected_games(request, created)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"{created.name} ({created.tournament_id})", total=total)

            def update(t: pb.Tournament) -> None:
                progress.update(task, completed=games_played(t))

            return await mm.wait_tournament(created.tournament_id, poll_s=0.25, on_update=update)


def run_or_exit(work: Callable[[], Any]) -> Any:
    try:
        return asyncio.run(work())
    except ServiceError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    except OSError as error:  # a port taken, storage unreachable (services started here)
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None


def map_settings(request: pb.CreateTournamentRequest, size: int | None, max_ticks: int | None) -> None:
    if size is not None:
        request.generator.side.low = request.generator.side.high = size
    if max_ticks is not None:
        request.engine.max_ticks = max_ticks


def match_table(t: pb.Tournament, p1: str, p2: str) -> Table:
    """Wins of each player, draws, and the 95% Wilson interval of each win rate."""
    lines = {name(s.player): s for s in t.standings}
    games = lines[p1].games
    table = Table(title=f"{games} games: {p1} vs {p2}")
    table.add_column("player")
    table.add_column("wins", justify="right")
    table.add_column("win rate", justify="right")
    table.add_column("95% CI", justify="right")
    for player in (p1, p2):
        wins = lines[player].wins
        low, high = wilson_interval(wins, games)
        rate = f"{wins / games:.1%}" if games else "-"
        table.add_row(player, str(wins), rate, f"[{low:.1%}, {high:.1%}]")
    draws = lines[p1].draws
    table.add_row("draws", str(draws), f"{draws / games:.1%}" if games else "-", "")
    table.caption = f"seats alternate; tournament {t.tournament_id}" + (" (unrated)" if t.unrated else "")
    return table


def standings_table(t: pb.Tournament) -> Table:
    table = Table(title=f"{t.name}: standings")
    for column in ("rank", "player", "points", "won", "drawn", "lost", TIEBREAKS.get(t.format, "tie-break")):
        table.add_column(column, justify="left" if column == "player" else "right")
    for s in t.standings:
        out = " (out)" if s.eliminated else ""
        table.add_row(
            str(s.rank),
            name(s.player) + out,
            f"{s.points:g}",
            str(s.wins),
            str(s.draws),
            str(s.losses),
            f"{s.tiebreak:g}",
        )
    table.caption = f"tournament {t.tournament_id}, {t.games_per_pairing} games a pairing"
    return table


def bracket_table(t: pb.Tournament) -> Table:
    """Single elimination: every round's pairings in bracket order, with scores and who went on."""
    table = Table(title=f"{t.name}: bracket")
    for rnd in t.rounds:
        table.add_column(f"round {rnd.number}")
    columns = []
    for rnd in t.rounds:
        cells = []
        for p in rnd.pairings:
            if not p.HasField("b"):
                cells.append(f"{name(p.a)} (bye)")
                continue
            winner = f" → {name(p.winner)}" if p.HasField("winner") else ""
            cells.append(f"{name(p.a)} {p.a_points:g}–{p.b_points:g} {name(p.b)}{winner}")
        columns.append(cells)
    for row in range(max((len(c) for c in columns), default=0)):
        table.add_row(*(c[row] if row < len(c) else "" for c in columns))
    return table


def _request(
    fmt: int,
    games_per_pairing: int,
    seed: int | None,
    size: int | None,
    max_ticks: int | None,
    unrated: bool,
    **fields: Any,
) -> pb.CreateTournamentRequest:
    request = pb.CreateTournamentRequest(
        format=fmt,  # type: ignore[arg-type]
        games_per_pairing=games_per_pairing,
        seed=seed or 0,
        unrated=unrated,
        **fields,
    )
    map_settings(request, size, max_ticks)
    return request


VIA_HELP = "Matchmaker address host:port; without it the services run in this process"


def match(
    p1: str = typer.Option("expander", help="first player: a bot name or model:<version|alias>"),
    p2: str = typer.Option("random", help="second player"),
    via: str | None = typer.Option(None, help=VIA_HELP),
    games: int = typer.Option(2, min=1, max=100, help="games to play, seats alternating"),
    seed: int | None = typer.Option(None, help="seed of the maps"),
    size: int | None = typer.Option(None, min=4, max=64, help="side of the generated square maps"),
    max_ticks: int | None = typer.Option(None, min=1, max=100_000, help="truncation limit (a draw)"),
    unrated: bool = typer.Option(False, help="do not report the games to the Elo Service"),
    data_dir: Path | None = typer.Option(None, help="embedded storage when the services run here"),
) -> None:
    """Play a match between two bots or model versions through the Matchmaker and the Game Service."""
    names = player_names(f"{p1},{p2}")
    if len(names) != 2:
        raise typer.BadParameter("a match needs two players")
    request = _request(
        pb.TOURNAMENT_FORMAT_ROUND_ROBIN, games, seed, size, max_ticks, unrated, name=f"{p1} vs {p2}"
    )
    result: pb.Tournament = run_or_exit(lambda: play_tournament(request, names, via, data_dir))
    first, second = (name(p) for p in request.participants)
    if result.status != pb.TOURNAMENT_STATUS_FINISHED:
        console.print(f"[bold red]the match failed:[/] {result.error}", highlight=False)
        raise typer.Exit(code=1)
    console.print(match_table(result, first, second))


def tournament(
    format: str = typer.Option("swiss", "--format", help="round-robin, swiss or single-elimination"),
    players: str = typer.Option(
        "random,expander,gatherer", help="participants in seed order, comma-separated"
    ),
    via: str | None = typer.Option(None, help=VIA_HELP),
    games_per_pairing: int = typer.Option(
        2, min=1, max=100, help="games each pairing plays, seats alternating"
    ),
    rounds: int = typer.Option(0, min=0, help="Swiss rounds (0: ceil(log2 n))"),
    seed: int | None = typer.Option(None, help="seed of the maps"),
    size: int | None = typer.Option(None, min=4, max=64, help="side of the generated square maps"),
    max_ticks: int | None = typer.Option(None, min=1, max=100_000, help="truncation limit (a draw)"),
    parallel: int = typer.Option(0, min=0, max=256, help="most games at a time (0: the server's default)"),
    unrated: bool = typer.Option(False, help="do not report the games to the Elo Service"),
    name_: str = typer.Option("", "--name", help="name to show"),
    data_dir: Path | None = typer.Option(None, help="embedded storage when the services run here"),
) -> None:
    """Run a tournament between bots and model versions and print its standings (and bracket)."""
    if format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    entrants = player_names(players)
    request = _request(
        FORMATS[format],
        games_per_pairing,
        seed,
        size,
        max_ticks,
        unrated,
        rounds=rounds,
        max_parallel_games=parallel,
        name=name_,
    )
    result: pb.Tournament = run_or_exit(lambda: play_tournament(request, entrants, via, data_dir))
    if result.format == pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION:
        console.print(bracket_table(result))
    console.print(standings_table(result))
    if result.status != pb.TOURNAMENT_STATUS_FINISHED:
        console.print(f"[bold red]the tournament failed:[/] {result.error}", highlight=False)
        raise typer.Exit(code=1)
    console.print(f"winner: [bold]{name(result.winner)}[/]", highlight=False)
