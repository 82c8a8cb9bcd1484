"""The ``grl`` command line: play, replays, the services, and (later) training."""

from __future__ import annotations

import typer

from generals_rl import __version__
from generals_rl.cli.actor import actor
from generals_rl.cli.bot import bot_app
from generals_rl.cli.db import db_app
from generals_rl.cli.evaluate import evaluate
from generals_rl.cli.health import health
from generals_rl.cli.leaderboard import leaderboard
from generals_rl.cli.learner import learner
from generals_rl.cli.match import match, tournament
from generals_rl.cli.model import model_app
from generals_rl.cli.play import play
from generals_rl.cli.replay import replay_app
from generals_rl.cli.serve import serve, up
from generals_rl.cli.train import train

app = typer.Typer(
    name="grl",
    help="generals-rl: a batched generals.io engine, scripted bots, rating services and self-play training.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command()(play)
app.command()(serve)
app.command()(up)
app.command()(match)
app.command()(tournament)
app.command()(leaderboard)
app.command()(health)
app.command()(actor)
app.command()(learner)
app.command()(evaluate)
app.command()(train)
app.add_typer(replay_app, name="replay")
app.add_typer(db_app, name="db")
app.add_typer(model_app, name="model")
app.add_typer(bot_app, name="bot")


@app.command()
def version() -> None:
    """Print the version of generals-rl and of its rules."""
    from generals_rl.game import RULES_VERSION

    typer.echo(f"generals-rl {__version__} (rules v{RULES_VERSION})")


if __name__ == "__main__":
    app()
