"""``grl db``: the SQL database's schema, migrated with the Alembic revisions shipped in the package."""

from __future__ import annotations

import typer
from rich.console import Console

db_app = typer.Typer(
    help="The SQL database (players, games, results, ratings, models): schema migrations.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
errors = Console(stderr=True)


def default_sql_uri() -> str:
    """``GRL_SQL_URI``, else a SQLite file in ``GRL_DATA_DIR`` (default ``./grl-data``)."""
    from generals_rl.settings import Settings

    return Settings.from_env().sql_uri


@db_app.command()
def upgrade(
    sql_uri: str | None = typer.Option(
        None,
        "--sql-uri",
        help="sqlite:///path or postgresql://user@host:port/db "
        "[default: $GRL_SQL_URI, else sqlite under $GRL_DATA_DIR or ./grl-data]",
        show_default=False,
    ),
    revision: str = typer.Option("head", help="the revision to migrate to"),
) -> None:
    """Create or migrate the database schema to the newest revision (safe to run again)."""
    from generals_rl.storage import StorageError, upgrade

    uri = sql_uri or default_sql_uri()
    try:
        done = upgrade(uri, revision)
    except (ValueError, StorageError) as error:  # a bad URI, a database we cannot reach: one line
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    if done.changed:
        before = done.before or "an empty database"
        console.print(f"{done.uri}: upgraded from {before} to revision {done.after}", highlight=False)
    else:
        console.print(f"{done.uri}: already at revision {done.after}, nothing to do", highlight=False)
