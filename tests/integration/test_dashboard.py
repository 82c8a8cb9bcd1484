"""The training dashboard reads a run from the services: throughput and lag from the Replay
Service, losses from the newest version's metrics, Elo and win rates from the Elo Service."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch
from rich.console import Console

from generals_rl.game import MapConfig, MapPool
from generals_rl.services.common.channels import channel
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.domain import GameReport, PlayerRef, SeatResult
from generals_rl.services.model.client import ModelClient
from generals_rl.services.replay.client import Chunk, ReplayClient
from generals_rl.services.runner import run_services
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig
from generals_rl.training.dashboard import TensorBoardLog, TrainingMonitor, render
from generals_rl.training.networks import build
from generals_rl.training.remote import RemoteOptions, table_config
from generals_rl.training.rollout import RolloutCollector

CONFIG = TrainConfig(channels=8, blocks=1, map_side=6, games=4, unroll=4, minibatch=4, run_name="watched")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def quick_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRL_MODEL_SANITY_GAMES", "0")
    torch.set_num_threads(1)


def _report(game: int, version: int, bot: str, outcome: str) -> GameReport:
    other = {"win": "loss", "loss": "win", "draw": "draw"}[outcome]
    places = {"win": (1, 2), "loss": (2, 1), "draw": (1, 1)}[outcome]
    return GameReport(
        game_id=f"g{game}",
        mode="1v1",
        players=(
            SeatResult(PlayerRef("model", str(version)), 0, outcome, places[0]),
            SeatResult(PlayerRef("bot", bot), 1, other, places[1]),
        ),
        reason="tick_limit" if outcome == "draw" else "general_captured",
        ended_at=datetime.now(UTC),
    )


def test_the_monitor_shows_what_the_services_hold(tmp_path: Path) -> None:
    names = ("model", "elo", "replay")
    settings = Settings(data_dir=tmp_path, ports={name: free_port() for name in names})
    network = build("resnet-v1", CONFIG.network_config())
    collector = RolloutCollector(
        network, games=4, unroll=4, maps=MapPool(MapConfig.generalsio_1v1().with_side(6), seed=0), seed=0
    )

    async def scenario() -> None:
        async with (
            run_services(names, settings),
            channel(settings.address("model")) as m,
            channel(settings.address("replay")) as r,
            channel(settings.address("elo")) as e,
        ):
            models, replay, elo = ModelClient(m), ReplayClient(r), EloClient(e)
            monitor = TrainingMonitor(
                model=models,
                replay=replay,
                elo=elo,
                table="trajectories",
                unroll=4,
                run_id="watched",
                bots=("random", "expander"),
            )
            empty = await monitor.poll()
            assert empty.unavailable == ("replay",)  # no table yet: said, not raised
            assert empty.latest == 0 and not empty.win_rates
            table = table_config(CONFIG, RemoteOptions())
            await replay.create_table(table)
            await monitor.poll()
            rollout = collector.collect()
            await replay.record(table.name, [Chunk(rollout.trajectories, policy_version=1)])
            info = await models.publish(
                {k: v.detach() for k, v in network.state_dict().items()},
                architecture=network.arch_id,
                config_json=network.config_json(),
                training_step=7,
                metrics={"loss": 0.25, "entropy": 3.5, "not_shown": 1.0},
                run_id="watched",
            )
            outcomes = ["win", "win", "win", "loss", "draw"]
            for game, outcome in enumerate(outcomes):
                await elo.report_result(_report(game, info.version, "random", outcome))
            snapshot = await monitor.poll()

            trajectories = int(rollout.trajectories.actions.shape[0])
            assert snapshot.unavailable == ()
            assert snapshot.env_steps == trajectories * 4 and snapshot.env_steps_per_s > 0
            assert snapshot.latest == info.version and snapshot.learner_step == 7
            assert snapshot.losses == {"loss": 0.25, "entropy": 3.5}
            rate = snapshot.win_rates["random"]
            assert (rate.version, rate.wins, rate.draws, rate.games) == (info.version, 3, 1, 5)
            assert "expander" not in snapshot.win_rates  # never played
            assert snapshot.elo_latest == snapshot.elo_latest  # rated: not NaN
            text = Console(width=200, record=True)
            text.print(render(snapshot))
            shown = text.export_text()
            assert "60.0%" in shown and f"latest v{info.version}" in shown
            board = TensorBoardLog(tmp_path / "tb")
            board.write(snapshot)
            board.close()
            assert list((tmp_path / "tb").glob("events.out.tfevents.*"))

    asyncio.run(scenario())
