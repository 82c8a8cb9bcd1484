"""``grl bot``: our agents on generals.io's bot server, and a local stand-in for it.

``grl bot generalsio --user-id ID --bot gatherer [--queue 1v1|ffa|private:ROOM]`` plays games on
the bot server (``bridge.client``); ``grl bot local-server`` runs ``bridge.testing``'s server on
this machine, which plays with our engine, to try the bridge without the internet.
"""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.console import Console

from generals_rl.agents import BOTS, Agent, make_agent
from generals_rl.bridge.protocol import REPLAY_URL, SERVER_URL, Queue

console = Console(stderr=True)

bot_app = typer.Typer(
    help="Play our agents on generals.io's bot server (or a local stand-in for it).", no_args_is_help=True
)


def _agent(model: str | None, bot: str | None, seed: int | None, model_service: str | None) -> Agent:
    if (model is None) == (bot is None):
        raise typer.BadParameter("give exactly one of --model VERSION_OR_ALIAS and --bot NAME")
    if model is not None:  # loaded the way `grl play` loads model:<version|alias> players
        from generals_rl.cli.play import load_agents

        return load_agents([f"model:{model.removeprefix('model:')}"], seed, model_service)[0]
    assert bot is not None
    try:
        return make_agent(bot, seed)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@bot_app.command("generalsio")
def generalsio(
    user_id: str = typer.Option(
        ..., envvar="GRL_GENERALSIO_USER_ID", help="the bot's secret user id (it owns the username)"
    ),
    model: str | None = typer.Option(None, help="a model version or alias to play (e.g. champion)"),
    bot: str | None = typer.Option(None, help=f"a scripted bot to play ({', '.join(sorted(BOTS))})"),
    model_service: str | None = typer.Option(
        None, help="host:port of a Model Service to load --model from [default: the local storage]"
    ),
    queue: str = typer.Option("1v1", help="1v1, ffa or private:ROOM"),
    server: str = typer.Option(SERVER_URL, help="socket.io URL of the server"),
    username: str = typer.Option("[Bot] generals-rl", help="display name (the bot server wants '[Bot] ...')"),
    games: int = typer.Option(1, min=1, help="games to play one after another"),
    seed: int | None = typer.Option(None, help="seed of the agent's random choices"),
    join_timeout: float | None = typer.Option(
        None, min=0.1, help="seconds to wait for a game (default: no limit)"
    ),
    log_format: str = typer.Option("console", help="console or json"),
) -> None:
    """Play a scripted bot (or a model version) on a generals.io bot server."""
    from generals_rl.bridge.client import BotConfig, BridgeError, GeneralsBot
    from generals_rl.services.common.logging import configure_logging

    try:
        config = BotConfig(
            user_id=user_id,
            username=username,
            queue=Queue.parse(queue),
            server=server,
            games=games,
            join_timeout=join_timeout,
        )
        configure_logging("bot", log_format)  # type: ignore[arg-type]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    agent = _agent(model, bot, seed, model_service)
    if config.queue.kind == "private" and server == SERVER_URL:
        console.print(f"watch or join at {config.queue.url}", highlight=False)
    try:
        results = asyncio.run(GeneralsBot(config, agent).run())
    except BridgeError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    for number, result in enumerate(results, start=1):
        line = f"game {number}: {result.outcome} after {result.turns} turns, {result.attacks} attacks"
        if result.replay_id:
            replay = REPLAY_URL + result.replay_id if server == SERVER_URL else result.replay_id
            line += f" (replay {replay})"
        if result.error:
            line += f": {result.error}"
        console.print(line, highlight=False)
    if any(result.outcome == "error" for result in results):
        raise typer.Exit(code=1)


@bot_app.command("local-server")
def local_server(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8081, min=0, max=65535, help="port (0: any free one)"),
    players: int = typer.Option(2, min=2, max=8, help="seats a game"),
    bots: str = typer.Option("random", help="the server's own bots, comma-separated (the last seats)"),
    side: int = typer.Option(18, min=4, max=64, help="side of the generated maps"),
    seed: int = typer.Option(0, help="seed of the maps and the server's bots"),
    tick_seconds: float = typer.Option(0.5, min=0.0, help="seconds a tick (generals.io: 0.5)"),
    lockstep: bool = typer.Option(False, help="wait for every client's answer before each tick"),
    max_ticks: int = typer.Option(2000, min=1, help="tick limit (a draw)"),
) -> None:
    """Run a generals.io-like bot server here that plays with our engine, until Ctrl-C."""
    from generals_rl.bridge.testing import LocalGeneralsServer, LocalServerConfig
    from generals_rl.services.common.logging import configure_logging

    names = tuple(name.strip() for name in bots.split(",") if name.strip())
    unknown = [name for name in names if name not in BOTS]
    if unknown:
        raise typer.BadParameter(f"unknown bots {unknown}: choose from {', '.join(sorted(BOTS))}")
    try:
        config = LocalServerConfig(
            players=players,
            bots=names,
            side=side,
            seed=seed,
            tick_seconds=tick_seconds,
            lockstep=lockstep,
            max_ticks=max_ticks,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    configure_logging("local-generals-server")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with LocalGeneralsServer(config, host=host, port=port) as server:
            console.print(f"listening on {server.url}", highlight=False)
            try_it = f"grl bot generalsio --server {server.url} --user-id me --bot gatherer"
            console.print(f"try: {try_it}", highlight=False)
            await stop.wait()

    try:
        asyncio.run(serve())
    except OSError as error:  # the port is taken
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None
