"""``grl leaderboard``: the Elo Service's ranking as a table, from a running service or the local storage.

    grl leaderboard                              # local storage ($GRL_SQL_URI, else ./grl-data)
    grl leaderboard --via 127.0.0.1:50054 --top 10 --by elo --mode ffa

Each row shows the Glicko-2 rating with its 95% interval, classic Elo, games and wins/draws/losses.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from generals_rl.services.elo.domain import LeaderboardPage

console = Console()
errors = Console(stderr=True)

ORDERS = ("rating", "lower", "elo")
MODES = ("1v1", "ffa")
KINDS = ("human", "bot", "model")


async def _remote(
    address: str, mode: str, kind: str, min_games: int, order: str, top: int
) -> LeaderboardPage:
    from generals_rl.services.common.channels import channel
    from generals_rl.services.elo.client import EloClient

    async with channel(address, retries=2) as ch:
        client = EloClient(ch, timeout_s=10.0)
        return await client.leaderboard(mode, kind=kind, min_games=min_games, order=order, page_size=top)


def _local(mode: str, kind: str, min_games: int, order: str, top: int) -> LeaderboardPage | None:
    """The leaderboard from the storage of the settings (``GRL_*``); ``None`` when there is no database."""
    from generals_rl.services.elo.core import EloCore
    from generals_rl.settings import Settings
    from generals_rl.storage import open_cache, open_sql, upgrade

    settings = Settings.from_env()
    if (
        settings.sql_uri.startswith("sqlite:///")
        and not Path(settings.sql_uri.removeprefix("sqlite:///")).exists()
    ):
        return None
    upgrade(settings.sql_uri)
    database, cache = open_sql(settings.sql_uri), open_cache(settings.cache_uri)
    try:
        core = EloCore(database, cache)
        return core.leaderboard(mode, kind=kind, min_games=min_games, order=order, page_size=top)
    finally:
        database.close()
        cache.close()


def _table(page: LeaderboardPage, mode: str, order: str) -> Table:
    title = f"{mode} leaderboard by {order}"
    if page.as_of is not None:
        title += f" (as of {page.as_of:%Y-%m-%d %H:%M:%S} UTC)"
    table = Table(title=title, caption="rating: Glicko-2 with its 95% interval; Elo: classic incremental Elo")
    table.add_column("#", justify="right")
    table.add_column("player")
    table.add_column("rating", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("Elo", justify="right")
    table.add_column("games", justify="right")
    table.add_column("W/D/L", justify="right")
    for e in page.entries:
        table.add_row(
            str(e.rank),
            str(e.player),
            f"{e.rating:.0f}",
            f"{e.lower:.0f} to {e.upper:.0f}",
            f"{e.elo:.0f}",
            str(e.games),
            f"{e.wins}/{e.draws}/{e.losses}",
        )
    return table


def leaderboard(
    via: str | None = typer.Option(
        None, "--via", help="host:port of an Elo Service [default: read the local storage, as grl up uses it]"
    ),
    top: int = typer.Option(20, "--top", min=1, max=1000, help="how many players to show"),
    by: str = typer.Option(
        "rating", "--by", help="rating (Glicko-2), lower (the interval's lower end) or elo"
    ),
    mode: str = typer.Option("1v1", "--mode", help="rating pool: 1v1 or ffa"),
    kind: str | None = typer.Option(None, "--kind", help="only human, bot or model players"),
    min_games: int = typer.Option(0, "--min-games", min=0, help="only players with at least this many games"),
) -> None:
    """Print the ratings of a mode, best first, with 95% intervals, Elo and records."""
    from generals_rl.services.common.errors import ServiceError
    from generals_rl.storage import StorageError

    if by not in ORDERS:
        raise typer.BadParameter(f"--by must be one of {', '.join(ORDERS)}, got {by!r}")
    if mode not in MODES:
        raise typer.BadParameter(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    try:
        if via is not None:
            page: LeaderboardPage | None = asyncio.run(_remote(via, mode, kind or "", min_games, by, top))
        else:
            page = _local(mode, kind or "", min_games, by, top)
    except (ServiceError, StorageError, ValueError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    if page is None or not page.entries:
        console.print(f"no rated players in the {mode} pool yet")
        return
    console.print(_table(page, mode, by))
    if page.page.total_size > len(page.entries):
        console.print(f"{len(page.entries)} of {page.page.total_size} players; --top shows more")
