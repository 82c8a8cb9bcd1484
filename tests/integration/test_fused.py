"""Fused mode: the serial loop in one process publishes versions to the Model Service as it trains
and reports its evaluation games to the Elo Service, then stops with a last version."""

from __future__ import annotations

import asyncio
import itertools
import socket
from pathlib import Path

import torch

from generals_rl.services.common.channels import channel
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.domain import PlayerRef
from generals_rl.services.model.client import ModelClient
from generals_rl.services.runner import run_services
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig
from generals_rl.training.fused import FusedRun
from generals_rl.training.remote import RemoteOptions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIG = TrainConfig(
    channels=8,
    blocks=1,
    map_side=6,
    games=8,
    unroll=8,
    minibatch=0,
    max_ticks=200,
    threads=1,
    time_budget_s=0,
    total_updates=12,
    eval_every_s=0,  # one evaluation, at the end
    eval_games=6,
    eval_opponents=("random",),
    eval_max_ticks=200,
    run_name="fused-test",
)


def test_fused_run_publishes_versions_and_reports_its_evaluation(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    names = ("model", "elo")
    settings = Settings(data_dir=tmp_path, ports={name: free_port() for name in names})

    async def scenario() -> None:
        async with run_services(names, settings):
            fused = FusedRun(CONFIG, settings, RemoteOptions(publish_every=5))
            result = await fused.run()
            assert result.updates == 12
            async with channel(settings.address("model")) as c1, channel(settings.address("elo")) as c2:
                models, elo = ModelClient(c1), EloClient(c2)
                page = await models.list_versions(run_id="fused-test")
                steps = sorted(v.metadata.training_step for v in page.versions)
                # the first update, then at most one every 5 updates (skipped while one is on its
                # way), and the last
                assert steps[0] == 1 and steps[-1] == 12
                assert all(b - a >= 5 for a, b in itertools.pairwise(steps[:-1]))
                assert all(v.state == "accepted" for v in page.versions)
                evaluation = result.evaluations[-1]
                record = await elo.head_to_head(
                    PlayerRef("model", str(fused.published[-1])), PlayerRef("bot", "random"), "1v1"
                )
                assert (record.games, record.a_wins, record.draws) == (
                    evaluation.games,
                    evaluation.wins,
                    evaluation.draws,
                )

    asyncio.run(scenario())
