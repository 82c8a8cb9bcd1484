"""The generals.io bridge end to end: our bot client against the local socket.io server over loopback."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from generals_rl.agents import Agent, GathererAgent, make_agent
from generals_rl.bridge.client import BotConfig, BridgeError, GameResult, GeneralsBot
from generals_rl.bridge.protocol import GAME_START, GAME_UPDATE, Queue
from generals_rl.bridge.testing import GameRecord, LocalGeneralsServer, LocalServerConfig
from generals_rl.cli.bot import bot_app
from generals_rl.game.observations import Observation

pytestmark = pytest.mark.usefixtures("one_thread")


def play(
    server_config: LocalServerConfig, bot: str = "gatherer", queue: str = "1v1", **config: Any
) -> tuple[list[GameResult], GameRecord, LocalGeneralsServer]:
    async def scenario() -> tuple[list[GameResult], GameRecord, LocalGeneralsServer]:
        async with LocalGeneralsServer(server_config) as server:
            client = GeneralsBot(
                BotConfig(
                    user_id="secret-id",
                    username="[Bot] bridge",
                    server=server.url,
                    queue=Queue.parse(queue),
                    join_timeout=10,
                    update_timeout=10,
                    **config,
                ),
                make_agent(bot, seed=0),
            )
            results = await asyncio.wait_for(client.run(), timeout=60)
            record = await server.wait_game(0, timeout=30)
            async with asyncio.timeout(10):
                while server.usernames:  # until the server has seen the client hang up
                    await asyncio.sleep(0.01)
            return results, record, server

    return asyncio.run(scenario())


def test_gatherer_beats_the_servers_random_bot_with_only_legal_moves() -> None:
    results, record, _ = play(LocalServerConfig(bots=("random",), side=8, seed=1))
    assert len(results) == 1
    result = results[0]
    mine = record.seat_of("[Bot] bridge")
    # The game ended through the protocol's own events, the way the server saw it.
    assert result.outcome == "won" and mine.told == "game_won" and record.winner == 0
    assert result.turns == record.ticks > 0
    assert result.usernames == ("[Bot] bridge", "[Bot] random (server)")
    # Every attack the bot sent was legal when the server took it (the last one may come after the
    # final update, when no tick is left to take it).
    assert mine.illegal == 0 and mine.malformed == 0
    assert mine.attacks == result.attacks
    assert mine.executed >= mine.attacks - 1 > 0
    assert not mine.left  # it left only after the game was over (the server had ended it)


def test_two_clients_meet_in_a_private_room_after_both_force_start() -> None:
    async def scenario() -> tuple[list[list[GameResult]], GameRecord]:
        async with LocalGeneralsServer(LocalServerConfig(bots=(), side=8, seed=3, max_ticks=600)) as server:
            bots = [
                GeneralsBot(
                    BotConfig(
                        user_id=f"id-{name}",
                        username=f"[Bot] {name}",
                        server=server.url,
                        queue=Queue.parse("private:room 1"),
                        join_timeout=10,
                        update_timeout=10,
                    ),
                    make_agent(name, seed=0),
                )
                for name in ("gatherer", "random")
            ]
            results = await asyncio.wait_for(asyncio.gather(*(bot.run() for bot in bots)), timeout=60)
            return results, await server.wait_game(0)

    results, record = asyncio.run(scenario())
    outcomes = {results[0][0].outcome, results[1][0].outcome}
    assert record.room == "private:room 1"
    assert outcomes == {"won", "lost"}
    loser = next(r[0] for r in results if r[0].outcome == "lost")
    winner = next(r[0] for r in results if r[0].outcome == "won")
    assert loser.killer == winner.player_index  # game_lost names who took the general
    assert all(seat.illegal == 0 and seat.malformed == 0 for seat in record.seats)


def _corrupt_map_diff_at(turn: int) -> Any:
    def tamper(event: str, now: int, payload: Any) -> Any:
        if event == GAME_UPDATE and now == turn:
            return {**payload, "map_diff": [10**6]}
        return payload

    return tamper


def test_a_malformed_update_is_logged_and_the_bot_leaves(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="generals_rl.bridge.client")
    results, record, _ = play(LocalServerConfig(bots=("random",), side=8, tamper=_corrupt_map_diff_at(5)))
    result = results[0]
    assert result.outcome == "error"
    assert "bad game_update from the server" in result.error and "keeps 1000000 items" in result.error
    assert result.turns == 4  # the last good update
    assert any("keeps 1000000 items" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    # It left: the server saw leave_game and ended the game for the other side (and ``play`` saw
    # the bot hang up).
    assert record.seat_of("[Bot] bridge").left
    assert record.winner == 1 and record.ticks <= 6


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"playerIndex": 7, "usernames": ["a", "b"]}, "not a seat"),
        ("hello", "must carry an object"),
    ],
)
def test_a_malformed_game_start_is_logged_and_the_bot_leaves(payload: Any, message: str) -> None:
    def tamper(event: str, turn: int, original: Any) -> Any:
        return payload if event == GAME_START else original

    results, record, _ = play(LocalServerConfig(bots=("random",), side=8, tamper=tamper))
    assert results[0].outcome == "error" and message in results[0].error
    assert "bad game_start" in results[0].error
    assert record.seat_of("[Bot] bridge").left


def test_several_games_in_a_row_rejoin_the_queue() -> None:
    async def scenario() -> tuple[list[GameResult], list[GameRecord]]:
        async with LocalGeneralsServer(LocalServerConfig(bots=("random",), side=6, seed=5)) as server:
            bot = GeneralsBot(
                BotConfig(user_id="u", server=server.url, games=2, join_timeout=10, update_timeout=10),
                make_agent("gatherer", seed=0),
            )
            results = await asyncio.wait_for(bot.run(), timeout=60)
            return results, [await server.wait_game(i) for i in range(2)]

    results, records = asyncio.run(scenario())
    assert [r.outcome for r in results] == ["won", "won"]
    assert [r.replay_id for r in results] == ["local-0", "local-1"]
    assert all(r.seats[0].illegal == 0 for r in records)


def test_an_unreachable_server_is_a_clear_error() -> None:
    async def scenario() -> None:
        server = LocalGeneralsServer()
        url = await server.start()
        await server.stop()  # the port is free again: nothing listens there
        bot = GeneralsBot(BotConfig(user_id="u", server=url, connect_timeout=2), make_agent("random"))
        await bot.run()

    with pytest.raises(BridgeError, match=r"cannot connect to http://127\.0\.0\.1"):
        asyncio.run(scenario())


def test_a_bot_that_falls_behind_acts_on_the_newest_update_and_clears_stale_moves() -> None:
    # Real-time ticks (no acknowledgements) and an agent slower than a tick: updates pile up while
    # it thinks (in its worker thread; the server keeps ticking on the event loop).
    class Slow(GathererAgent):
        def act(self, obs: Observation) -> torch.Tensor:
            time.sleep(0.1)
            return super().act(obs)

    updates: list[int] = []
    config = LocalServerConfig(
        bots=("random",), side=6, seed=2, lockstep=False, tick_seconds=0.02, max_ticks=100
    )

    async def scenario() -> tuple[list[GameResult], GameRecord]:
        async with LocalGeneralsServer(config) as server:
            bot = GeneralsBot(
                BotConfig(user_id="u", server=server.url, join_timeout=10, update_timeout=10),
                Slow(0),
                on_update=lambda start, update, maps: updates.append(update.turn),
            )
            results = await asyncio.wait_for(bot.run(), timeout=60)
            return results, await server.wait_game(0)

    results, record = asyncio.run(scenario())
    mine = record.seats[0]
    assert results[0].outcome in ("won", "lost")
    assert updates == list(range(updates[0], updates[0] + len(updates)))  # every update patched in order
    assert 0 < results[0].attacks < len(updates)  # but it acted only on the newest when behind
    assert mine.cleared > 0  # and dropped what the server still held for past turns
    assert mine.malformed == 0


def test_grl_bot_refuses_bad_arguments_with_a_message() -> None:
    runner = CliRunner()
    cases = [
        (["--user-id", "u"], "exactly one of --model"),
        (["--user-id", "u", "--bot", "gatherer", "--model", "champion"], "exactly one of --model"),
        (["--user-id", "u", "--bot", "nobody"], "unknown agent 'nobody'"),
        (["--user-id", "u", "--bot", "random", "--queue", "2v2"], "1v1, ffa or private:ROOM"),
        (["--user-id", "", "--bot", "random"], "a user id is needed"),
    ]
    for args, message in cases:
        result = runner.invoke(bot_app, ["generalsio", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)


def test_grl_bot_plays_a_game_on_grl_bot_local_server() -> None:
    # `grl bot ...` is `bot_app` mounted in cli/main.py; run it alone.
    command = ["local-server", "--port", "0", "--side", "8", "--tick-seconds", "0", "--lockstep"]
    server = subprocess.Popen(
        [sys.executable, "-c", "from generals_rl.cli.bot import bot_app; bot_app()", *command, "--seed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert server.stderr is not None
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            line = server.stderr.readline()
            assert line, "bot local-server exited before listening"
            if line.startswith("listening on "):
                url = line.split()[-1]
        player = ["--user-id", "me", "--bot", "gatherer", "--server", url, "--join-timeout", "30"]
        result = CliRunner().invoke(bot_app, ["generalsio", *player])
        assert result.exit_code == 0, result.output
        assert "game 1: won after" in result.output and "(replay local-0)" in result.output
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


class _Fixed(Agent):
    """Always the same action (for the bot's guards against a broken agent)."""

    def __init__(self, action: int) -> None:
        super().__init__(0)
        self.action = action

    def act(self, obs: Observation) -> torch.Tensor:
        if self.action < 0:
            raise RuntimeError("the policy broke")
        return torch.full((obs.action_mask.shape[0],), self.action, dtype=torch.int64)


def test_an_illegal_action_from_the_agent_is_never_sent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="generals_rl.bridge.client")

    async def scenario() -> tuple[list[GameResult], GameRecord]:
        async with LocalGeneralsServer(LocalServerConfig(bots=("random",), side=6, max_ticks=20)) as server:
            bot = GeneralsBot(BotConfig(user_id="u", server=server.url, update_timeout=10), _Fixed(10**6))
            return await asyncio.wait_for(bot.run(), timeout=60), await server.wait_game(0)

    results, record = asyncio.run(scenario())
    assert results[0].outcome == "lost" and results[0].killer is None  # the tick limit: a draw
    assert record.winner == -1 and record.seats[0].attacks == 0
    assert sum("illegal action" in r.getMessage() for r in caplog.records) == 21  # updates of ticks 0..20


def test_an_agent_that_fails_ends_the_game_with_an_error_and_the_bot_leaves() -> None:
    async def scenario() -> tuple[list[GameResult], GameRecord]:
        async with LocalGeneralsServer(LocalServerConfig(bots=("random",), side=6)) as server:
            bot = GeneralsBot(BotConfig(user_id="u", server=server.url, update_timeout=10), _Fixed(-1))
            return await asyncio.wait_for(bot.run(), timeout=60), await server.wait_game(0)

    results, record = asyncio.run(scenario())
    assert results[0].outcome == "error" and "the policy broke" in results[0].error
    assert record.seats[0].left and record.winner == 1
