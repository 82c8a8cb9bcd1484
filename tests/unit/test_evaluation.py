"""The evaluation loop's decisions and bookkeeping: the SPRT and win-rate verdicts on given W-D-L
records, and the ``Evaluator`` on the real Model registry and Elo core (SQLite) with games scripted
by strength and rated in the Elo core: the first version becomes champion, a stronger one is
promoted and a weaker one is not, each with its reason in the Model Service's events; superseded
versions, failing tournaments, ``run``/``stop`` and ``read_report``."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.game.generators import MapConfig
from generals_rl.services.elo.api import LocalElo
from generals_rl.services.elo.core import EloCore
from generals_rl.services.elo.domain import GameReport, PlayerRef, SeatResult
from generals_rl.services.elo.ratings import SprtConfig, sprt
from generals_rl.services.model import Check, LocalModelRegistry, ModelCore, ValidationReport
from generals_rl.services.model.domain import Event
from generals_rl.storage import open_blobs, open_cache, open_sql, upgrade
from generals_rl.training.evaluation import (
    EvaluationConfig,
    EvaluationError,
    EvaluationReport,
    Evaluator,
    Record,
    judge,
    read_report,
)
from generals_rl.training.networks import build


def rec(opponent: str, wins: int, draws: int, losses: int) -> Record:
    return Record(wins=wins, losses=losses, draws=draws, opponent=opponent)


SPRT = EvaluationConfig(batch_games=10, max_games=60, elo0=0, elo1=50)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


# -- verdicts ---------------------------------------------------------------------------------------


def test_sprt_verdicts_on_given_records() -> None:
    bounds = SprtConfig(0, 50).bounds()
    accepted = judge(SPRT, rec("model:3", 40, 4, 10))
    assert accepted is not None and accepted.promote and accepted.llr is not None
    assert accepted.llr >= bounds[1] and accepted.llr == pytest.approx(sprt(40, 4, 10).llr)
    assert accepted.reason.startswith(f"SPRT accepted: LLR {accepted.llr:.2f} ≥ 2.94 after 54 games")
    assert "W-D-L 40-4-10 vs v3" in accepted.reason and "elo1 50" in accepted.reason

    rejected = judge(SPRT, rec("model:3", 2, 4, 20))
    assert rejected is not None and not rejected.promote
    assert (
        rejected.reason.startswith("not promoted: SPRT rejected: LLR")
        and "≤ -2.94 after 26 games" in rejected.reason
    )

    assert judge(SPRT, rec("model:3", 6, 2, 4)) is None  # too few games to tell: play on
    undecided = judge(SPRT, rec("model:3", 31, 0, 29))  # the most games allowed, no decision
    assert (
        undecided is not None
        and not undecided.promote
        and "SPRT undecided after 60 games" in undecided.reason
    )
    assert undecided.llr is not None and bounds[0] < undecided.llr < bounds[1]


def test_win_rate_verdicts_look_once_after_max_games() -> None:
    config = EvaluationConfig(promotion="win_rate", max_games=100, win_rate_bound=0.55)
    assert judge(config, rec("model:2", 90, 0, 0)) is None  # no peeking before max_games
    passed = judge(config, rec("model:2", 70, 10, 20))  # score 0.75, Wilson lower end ~0.66
    assert passed is not None and passed.promote and passed.llr is None
    assert (
        passed.reason.startswith("win-rate bound passed: score 75.0% (95% CI [")
        and "above 55.0%" in passed.reason
    )
    failed = judge(config, rec("model:2", 55, 10, 35))  # score 0.60: lower end ~0.50
    assert failed is not None and not failed.promote and "lower end not above 55.0%" in failed.reason


@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300))
def test_more_wins_never_turn_a_promotion_into_a_rejection(w: int, d: int, n_l: int) -> None:
    for config in (SPRT, EvaluationConfig(promotion="win_rate", max_games=1)):
        if w + d + n_l == 0:
            continue
        base, better = (
            judge(config, rec("model:1", w, d, n_l)),
            judge(config, rec("model:1", w + 1, d, n_l)),
        )
        if base is not None and base.promote:
            assert better is not None and better.promote


def test_records_and_config() -> None:
    total = rec("bot:random", 3, 2, 1) + rec("bot:random", 1, 0, 1)
    assert (total.wins, total.draws, total.losses, total.games, total.wdl) == (4, 2, 2, 8, "4-2-2")
    assert total.score_rate() == pytest.approx(5 / 8) and total.interval()[0] < 5 / 8 < total.interval()[1]
    assert Record(opponent="bot:random").score_rate() == 0.5 and Record().interval() == (0.0, 1.0)

    assert EvaluationConfig().generator() is None  # the generals.io preset
    small, scaled = EvaluationConfig(map_side=6).generator(), MapConfig.generalsio_1v1().with_side(6)
    assert small is not None and small["side"] == {"low": 6, "high": 6}
    assert small["min_distance"] == {"low": scaled.min_distance[0], "high": scaled.min_distance[1]}
    assert small["min_room"] == scaled.min_room
    for bad in (
        {"promotion": "elo"},
        {"batch_games": 0},
        {"batch_games": 101},
        {"max_games": 0},
        {"elo0": 50, "elo1": 50},
        {"alpha": 0.7},
        {"win_rate_bound": 1.0},
        {"opponents": ("random", "nobody")},
        {"opponents": ("random", "random")},
        {"map_side": 3},
        {"max_ticks": 0},
        {"concurrency": 0},
        {"actor": ""},
    ):
        with pytest.raises(ValueError):
            EvaluationConfig(**bad)


def test_grl_evaluate_refuses_bad_settings_before_starting_anything(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from generals_rl.cli.main import app

    for args, message in (
        (["--promotion", "elo"], "promotion must be 'sprt' or 'win_rate'"),
        (["--opponents", "random,nobody"], "opponents must be distinct bots"),
        (["--elo0", "10", "--elo1", "5"], "elo1 must exceed elo0"),
    ):
        result = CliRunner().invoke(app, ["evaluate", *args, "--data-dir", str(tmp_path)], terminal_width=200)
        assert result.exit_code == 2 and message in result.output, result.output
    assert list(tmp_path.iterdir()) == []  # no storage was opened


# -- the evaluator on the real registry and Elo core -------------------------------------------------


class ScriptedGames:
    """Games decided by strength (the stronger wins, equals draw), each rated by the Elo core as the
    Game Service would report it; versions in ``failing`` make their tournaments fail."""

    def __init__(self, elo: LocalElo) -> None:
        self.elo = elo
        self.strength: dict[str, float] = {"bot:random": 0, "bot:expander": 2, "bot:gatherer": 4}
        self.failing: set[str] = set()
        self.played: list[tuple[str, str, int]] = []
        self._ids = itertools.count()

    async def play(self, a: str, b: str, games: int, seed: int) -> Record:
        if a in self.failing:
            raise EvaluationError(f"tournament t1 ({a} vs {b}) failed: a game was aborted")
        self.played.append((a, b, games))
        sa, sb = self.strength[a], self.strength[b]
        outcome = "win" if sa > sb else "loss" if sa < sb else "draw"
        other = {"win": "loss", "loss": "win", "draw": "draw"}[outcome]
        places = {"win": 1, "loss": 2, "draw": 1}
        for k in range(games):
            me = SeatResult(PlayerRef.parse(a), k % 2, outcome, places[outcome])
            them = SeatResult(PlayerRef.parse(b), 1 - k % 2, other, places[other])
            await self.elo.report_result(GameReport(f"g{next(self._ids)}", "1v1", (me, them), ticks=50))
        wins, draws, losses = (games if outcome == o else 0 for o in ("win", "draw", "loss"))
        return rec(b, wins, draws, losses)


class Stack:
    def __init__(self, models: LocalModelRegistry, elo: LocalElo) -> None:
        self.models, self.elo = models, elo
        self.games = ScriptedGames(elo)
        self.seeds = itertools.count(1)

    async def publish(self, strength: float) -> int:
        torch.manual_seed(next(self.seeds))
        info = await self.models.publish(build("resnet-v1", '{"channels": 8, "blocks": 1}'))
        assert info.state == "accepted"
        self.games.strength[f"model:{info.version}"] = strength
        return info.version

    def evaluator(self, config: EvaluationConfig = SPRT, **callbacks: object) -> Evaluator:
        return Evaluator(config, games=self.games, models=self.models, elo=self.elo, **callbacks)  # type: ignore[arg-type]

    async def champion(self) -> int:
        return {a.name: a.version for a in await self.models.list_aliases()}.get("champion", 0)

    async def verdicts(self, version: int) -> list[Event]:
        page = await self.models.list_events(version=version, kind="alias_set")
        return [e for e in page.events if e.alias in ("candidate", "champion")]


def accept_all(architecture: str, config_json: str, data: bytes) -> ValidationReport:
    return ValidationReport((Check("loads", True),))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    uri = f"sqlite:///{tmp_path / 'grl.db'}"
    upgrade(uri)
    database, blobs = open_sql(uri), open_blobs(f"file://{tmp_path / 'blobs'}")
    try:
        models = LocalModelRegistry(ModelCore(database, blobs, validator=accept_all))
        yield Stack(models, LocalElo(EloCore(database, open_cache("memory://"))))
    finally:
        database.close()
        blobs.close()


def test_first_version_becomes_champion_then_stronger_ones_are_promoted_and_weaker_not(stack: Stack) -> None:
    async def scenario() -> None:
        reports: list[EvaluationReport] = []
        evaluator = stack.evaluator(EvaluationConfig(batch_games=10, max_games=60, bot_games=4, elo_wait_s=5),
                                    on_report=reports.append)  # fmt: skip
        assert await evaluator.step() == []  # nothing published yet

        v1 = await stack.publish(strength=1)  # beats random, loses to expander and gatherer
        (first,) = await evaluator.step()
        assert (first.version, first.promoted, first.reason, first.champion) == (
            v1,
            True,
            "first version",
            v1,
        )
        assert first.versus is None and await stack.champion() == v1
        assert first.win_rates() == {"random": 1.0, "expander": 0.0, "gatherer": 0.0}
        assert [(e.alias, e.actor.name, e.actor.reason) for e in await stack.verdicts(v1)] == [
            ("candidate", "evaluator", "first version"),
            ("champion", "evaluator", "first version"),
        ]
        assert first.elo is not None and first.elo < 1500  # 4 wins and 8 losses, rated by the Elo core

        v2 = await stack.publish(strength=3)  # wins every game against v1: 22 wins pass the SPRT
        (second,) = await evaluator.step()
        assert second.promoted and second.champion == v2 and await stack.champion() == v2
        assert second.versus == rec(f"model:{v1}", 30, 0, 0) and second.opponent == v1
        assert second.reason.startswith("SPRT accepted: LLR 4.01 ≥ 2.94 after 30 games, W-D-L 30-0-0 vs v1")
        assert second.elo is not None and second.champion_elo == second.elo and second.elo > first.elo
        events = await stack.verdicts(v2)
        assert {e.alias for e in events} == {"candidate", "champion"}
        assert {e.actor.reason for e in events} == {second.reason}
        champion_event = next(e for e in events if e.alias == "champion")
        assert champion_event.previous_version == v1

        v3 = await stack.publish(strength=3)  # as strong as v2: draws, so H0 (not 50 Elo better)
        (third,) = await evaluator.step()
        assert not third.promoted and await stack.champion() == v2 and third.champion == v2
        assert (
            third.reason.startswith("not promoted: SPRT rejected:") and "W-D-L 0-20-0 vs v2" in third.reason
        )
        assert [(e.alias, e.actor.reason) for e in await stack.verdicts(v3)] == [("candidate", third.reason)]
        assert reports == [first, second, third] == evaluator.reports

        # what the gateway and the dashboard read back from the two services
        again = await read_report(v3, models=stack.models, elo=stack.elo)
        assert again is not None and (again.promoted, again.reason, again.champion) == (
            False,
            third.reason,
            v2,
        )
        assert again.versus == third.versus and again.bots == third.bots and again.elo == third.elo
        back = await read_report(v2, models=stack.models, elo=stack.elo)
        assert back is not None and back.promoted and back.versus == second.versus and back.opponent == v1
        assert back.win_rates() == second.win_rates() == {"random": 1.0, "expander": 1.0, "gatherer": 0.0}
        assert (await read_report(v1, models=stack.models, elo=stack.elo)).versus is None  # type: ignore[union-attr]
        assert await read_report(v3 + 1, models=stack.models, elo=stack.elo) is None

    asyncio.run(scenario())


def test_waiting_versions_superseded_and_failing_ones_recorded(stack: Stack) -> None:
    async def scenario() -> None:
        evaluator = stack.evaluator(EvaluationConfig(batch_games=20, max_games=40, bot_games=0, elo_wait_s=0))
        v1, v2, v3, v4 = [await stack.publish(strength=s) for s in (1, 2, 2, 5)]
        reports = await evaluator.step()  # v1 first, then only the newest of the rest
        assert [(r.version, r.promoted) for r in reports] == [(v1, True), (v4, True)]
        for skipped in (v2, v3):
            (event,) = await stack.verdicts(skipped)
            assert event.actor.reason == f"not evaluated: superseded by v{v4} before its evaluation began"
        assert [b for _, b, _ in stack.games.played] == [f"model:{v1}"] * 2  # v4 vs v1 only
        assert await evaluator.pending() == []

        every = stack.evaluator(EvaluationConfig(batch_games=20, max_games=40, bot_games=0, elo_wait_s=0,
                                                 every_version=True))  # fmt: skip
        v5, v6 = await stack.publish(strength=9), await stack.publish(strength=9)
        assert [r.version for r in await every.step()] == [v5, v6]
        assert await stack.champion() == v5  # v6 only draws with v5

        # a version whose tournaments keep failing: retried, then recorded as not promoted
        v7 = await stack.publish(strength=20)
        stack.games.failing.add(f"model:{v7}")
        for _ in range(2):
            with pytest.raises(EvaluationError):
                await every.step()
            assert await every.pending() == [v7]
        (failed,) = await every.step()
        assert not failed.promoted and failed.reason.startswith(
            "not promoted: evaluation failed 3 times: tournament"
        )
        assert (await stack.verdicts(v7))[0].actor.reason == failed.reason and await stack.champion() == v5

        # evaluating by hand without recording moves no alias
        stack.games.failing.clear()
        report = await every.evaluate(v7, record=False)
        assert (
            not report.promoted and report.reason.startswith("SPRT accepted") and await stack.champion() == v5
        )

    asyncio.run(scenario())


def test_run_evaluates_new_versions_until_stopped(stack: Stack) -> None:
    async def scenario() -> None:
        seen: list[int] = []
        batches: list[tuple[int, Record]] = []
        evaluator = stack.evaluator(
            EvaluationConfig(batch_games=10, max_games=40, bot_games=2, poll_s=0.05, elo_wait_s=0),
            on_report=lambda r: seen.append(r.version),
            on_batch=lambda v, r: batches.append((v, r)),
        )
        task = asyncio.create_task(evaluator.run())
        v1 = await stack.publish(strength=1)
        v2 = await stack.publish(strength=5)
        for _ in range(500):
            if v2 in seen:
                break
            await asyncio.sleep(0.02)
        assert v2 in seen and await stack.champion() == v2
        assert (v2, rec(f"model:{v1}", 10, 0, 0)) in batches  # the record after the first batch
        evaluator.stop()
        await asyncio.wait_for(task, 5)
        assert task.done() and task.exception() is None

    asyncio.run(scenario())
