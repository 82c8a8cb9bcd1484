"""The evaluation loop on the real Game, Matchmaker, Model and Elo services in process (free ports,
embedded storage): three small versions are published while ``Evaluator.run`` watches; the first (a
network that throws its armies around and leaves its general bare) becomes champion, a version
distilled from the ``expander`` bot beats it and is promoted by the SPRT, and a version like the
first is not; each verdict and its reason are in the Model Service's events, the games in the Elo
Service (``read_report``); ``grl evaluate`` reports one version.

The games are decided by sampling, but seeded (the tournaments by ``CONFIG.seed``, each seat by its
game's seed), so the outcome is the same on every run; with these networks the SPRT accepts and
rejects in about 14 games on ~98% of seeds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from generals_rl.agents import BOTS, Agent
from generals_rl.agents.arena import play_games
from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig, generate_maps
from generals_rl.game.observations import Observation
from generals_rl.services.common.channels import channel
from generals_rl.services.elo.client import EloClient
from generals_rl.services.model.client import ModelClient
from generals_rl.services.runner import run_services
from generals_rl.settings import Settings
from generals_rl.training.evaluation import EvaluationConfig, EvaluationReport, Evaluator, read_report
from generals_rl.training.networks import ResNetConfig, ResNetPolicy
from generals_rl.v1 import game_pb2, game_pb2_grpc, matchmaker_pb2_grpc
from generals_rl.v1 import matchmaker_pb2 as mm_pb

pytestmark = pytest.mark.timeout(300)

TINY = ResNetConfig(channels=8, blocks=1)
SIDE, TICKS = 5, 100
CONFIG = EvaluationConfig(
    batch_games=12, max_games=48, elo0=-100, elo1=100, bot_games=2, map_side=SIDE, max_ticks=TICKS,
    poll_s=0.1, seed=5,
)  # fmt: skip
"""H0 100 Elo weaker than the champion, H1 100 stronger: a quick test for clearly different versions."""


def fresh() -> ResNetPolicy:
    torch.manual_seed(0)
    return ResNetPolicy(TINY)


def drainer(push: float = 5.0) -> ResNetPolicy:
    """Never passes; moves a whole army (all but one) from a random tile in a random direction: its
    general is often left with one army."""
    network = ResNetPolicy(TINY)
    with torch.no_grad():
        network.pass_logit.bias.fill_(-50.0)
        network.moves.weight.zero_()
        network.moves.bias = torch.nn.Parameter(torch.tensor([push] * 4 + [-push] * 4))  # whole armies
    return network


def distilled() -> ResNetPolicy:
    """The ``expander`` bot's moves learnt by behaviour cloning (about a second), then sharpened so
    that sampling nearly always takes its favourite move: it beats ``weak`` in about a quarter of
    the games against ``drainer`` and loses almost none."""
    teacher = BOTS["expander"](1)
    seen: list[tuple[Observation, torch.Tensor]] = []

    class Recorder(Agent):
        def reset(self, games: torch.Tensor | None = None) -> None:
            teacher.reset(games)

        def act(self, obs: Observation) -> torch.Tensor:
            action = teacher.act(obs)
            seen.append((obs, action))
            return action

    maps = generate_maps(64, MapConfig.generalsio_1v1().with_side(SIDE), seed=7)
    play_games([Recorder(), BOTS["random"](2)], maps, EngineConfig(max_ticks=150))
    network = fresh()
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    rng = random.Random(0)
    for _ in range(300):
        obs, action = seen[rng.randrange(len(seen))]
        loss = -torch.log_softmax(network(obs).logits, 1).gather(1, action[:, None]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for parameter in [*network.moves.parameters(), *network.pass_logit.parameters()]:
            parameter.mul_(10)
    return network.eval()


async def until(check: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_the_loop_promotes_by_sprt_and_records_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.set_num_threads(1)
    for variable in ("GRL_SQL_URI", "GRL_CACHE_URI", "GRL_BLOB_URI"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GRL_MODEL_SANITY_GAMES", "0")  # validation without its sanity games
    names = ["game", "matchmaker", "model", "elo"]
    settings = Settings(data_dir=tmp_path, ports=dict.fromkeys(names, 0))
    strong = distilled()

    async def scenario() -> None:
        async with run_services(names, settings) as running:
            here = running.peers.settings
            async with (
                channel(here.address("model")) as model_channel,
                channel(here.address("elo")) as elo_channel,
                channel(here.address("game")) as game_channel,
                channel(here.address("matchmaker")) as mm_channel,
            ):
                models, elo = ModelClient(model_channel), EloClient(elo_channel)
                reports: list[EvaluationReport] = []
                seen = lambda v: lambda: any(r.version == v for r in reports)  # noqa: E731
                async with Evaluator.connect(here, CONFIG, on_report=reports.append) as evaluator:
                    loop = asyncio.create_task(evaluator.run())
                    v1 = (await models.publish(drainer(), description="drainer")).version
                    await until(seen(v1), "the first version's report")
                    v2 = (await models.publish(strong, parent_version=v1)).version
                    await until(seen(v2), "the distilled version's report")
                    v3 = (await models.publish(drainer(push=4.0), parent_version=v1)).version
                    await until(seen(v3), "the third version's report")
                    evaluator.stop()
                    await asyncio.wait_for(loop, 10)
                first, second, third = reports

                assert (first.version, first.promoted, first.reason, first.versus) == (
                    v1,
                    True,
                    "first version",
                    None,
                )
                assert [r.opponent for r in first.bots] == ["bot:random", "bot:expander", "bot:gatherer"]
                assert all(r.games == 2 for r in first.bots)

                assert second.version == v2 and second.promoted and second.champion == v2
                assert second.reason.startswith("SPRT accepted: LLR") and f"vs v{v1}" in second.reason
                assert second.versus is not None and second.versus.wins > second.versus.losses
                assert second.versus.games % 12 == 0 and second.llr is not None and second.llr >= 2.94

                assert third.version == v3 and not third.promoted and third.champion == v2
                assert third.reason.startswith("not promoted: SPRT rejected") and f"vs v{v2}" in third.reason
                assert third.versus is not None and third.versus.losses > third.versus.wins

                # the Model Service's log says who moved which alias, and why
                events = (await models.list_events(kind="alias_set", page_size=100)).events
                moves = [
                    (e.alias, e.version, e.actor.name, e.actor.reason) for e in events if e.alias != "latest"
                ]
                assert moves == [
                    ("candidate", v3, "evaluator", third.reason),
                    ("candidate", v2, "evaluator", second.reason),
                    ("champion", v2, "evaluator", second.reason),
                    ("candidate", v1, "evaluator", "first version"),
                    ("champion", v1, "evaluator", "first version"),
                ]

                # every game went through the Matchmaker and the Game Service, rated by the Elo Service
                tournaments = await matchmaker_pb2_grpc.MatchmakerServiceStub(mm_channel).ListTournaments(
                    mm_pb.ListTournamentsRequest()
                )
                games = [
                    g
                    for t in tournaments.tournaments
                    for r in t.rounds
                    for p in r.pairings
                    for g in p.game_ids
                ]
                assert len(games) == 3 * 6 + second.versus.games + third.versus.games
                one = await game_pb2_grpc.GameServiceStub(game_channel).GetGame(
                    game_pb2.GetGameRequest(game_id=games[0])
                )
                assert one.spec.height == SIDE and all(s.hosted for s in one.seats)
                back = await read_report(v2, models=models, elo=elo)
                assert back is not None and back.promoted and back.reason == second.reason
                assert back.versus == second.versus and back.bots == second.bots
                assert back.elo == pytest.approx(third.champion_elo)  # v2's Elo after v3's games too
                assert second.elo is not None and first.elo is not None and second.elo > first.elo

                # grl evaluate: one version against the champion, reported, nothing recorded
                for name in names:
                    monkeypatch.setenv(f"GRL_{name.upper()}_ADDR", here.address(name))
                args = ["evaluate", str(v3), "--running", "--no-record", "--promotion", "win-rate",
                        "--max-games", "4", "--batch-games", "4", "--bot-games", "0", "--size", str(SIDE),
                        "--max-ticks", "60"]  # fmt: skip
                out = await asyncio.to_thread(cli, *args)
                assert (
                    f"v{v3}: not promoted" in out
                    and f"v{v2} (champion)" in out
                    and "lower end not above 50.0%" in out
                )
                assert "random" not in out  # no bot games asked for
                assert (await models.list_events(kind="alias_set", page_size=100)).events == events

    asyncio.run(scenario())


def cli(*args: str) -> str:
    from generals_rl.cli.main import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output
