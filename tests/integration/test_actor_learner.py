"""The distributed actor and learner against real services in this process (embedded storage, free
ports, 6x6 maps, a tiny network): the learner publishes versions and the actor picks up the newer
ones; the Replay Service crashes mid-run and restarts from its checkpoint and log on the same
storage and port, and both keep going, with every acknowledged trajectory there once and none
twice. Plus the same through the Game Service's StepBatch, and clear errors for bad flags."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
from prometheus_client import REGISTRY

from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.model import ModelClient
from generals_rl.services.replay import ReplayClient, ReplayCore, ReplayServiceConfig, ReplayServicer
from generals_rl.services.replay.servicer import replay_service
from generals_rl.services.runner import run_services
from generals_rl.settings import Settings
from generals_rl.training.actor import Actor
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner_loop import LearnerLoop
from generals_rl.training.remote import Backoff, RemoteOptions

GRL = [sys.executable, "-m", "generals_rl.cli.main"]
TINY = TrainConfig(
    map_side=6,
    games=4,
    unroll=8,
    max_ticks=150,
    channels=8,
    blocks=1,
    minibatch=8,
    opponents=(("self", 1.0), ("past", 1.0), ("random", 1.0)),
    time_budget_s=0,
    threads=1,
    seed=3,
)
OPTIONS = RemoteOptions(
    publish_every=4,
    refresh_s=0.2,
    opponents_every=2,
    log_every_s=1.0,
    rpc_timeout_s=10.0,
    drain_s=1.0,
    sample_timeout_s=5.0,
    backoff=Backoff(initial_s=0.05, max_s=0.5),
)


@pytest.fixture(autouse=True)
def quick_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRL_MODEL_SANITY_GAMES", "0")
    torch.set_num_threads(1)


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Replay:
    """A Replay Service that can crash (no checkpoint at the end, its log thread's writes done)
    and restart on the same storage and port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # No timed checkpoints: a checkpoint's writing thread would outlive an in-process "crash"
        # (a killed process takes it along); the test asks for one instead.
        self.config = ReplayServiceConfig(checkpoint_interval_s=0)
        self.port = 0

    async def start(self) -> None:
        from generals_rl.storage import open_blobs

        blobs = open_blobs(self.settings.blob_uri)
        blobs.ensure_buckets()
        self.core = ReplayCore(blobs, self.config)
        await self.core.open()
        self.server = Server([replay_service(ReplayServicer(self.core))], ServerConfig(port=self.port))
        self.port = await self.server.start()

    async def crash(self) -> None:
        await self.server.stop(grace_s=0)
        if self.core._timer is not None:
            self.core._timer.cancel()
        await asyncio.gather(*self.core._background, return_exceptions=True)
        assert self.core.durability is not None
        await self.core.durability.close()  # the process dies once its log thread wrote

    async def close(self) -> None:
        await self.server.stop()
        await self.core.close()


@contextlib.asynccontextmanager
async def services(tmp_path: Path, *names: str) -> AsyncIterator[tuple[Settings, Replay]]:
    """``names`` through ``run_services`` and a crashable Replay Service, on free ports."""
    settings = Settings(data_dir=tmp_path / "data", ports=dict.fromkeys(names, 0))
    async with run_services(names, settings) as running:
        replay = Replay(settings)
        await replay.start()
        try:
            addresses = {**running.peers.settings.addresses, "replay": f"127.0.0.1:{replay.port}"}
            yield settings.replace(addresses=addresses), replay
        finally:
            await replay.close()


@contextlib.asynccontextmanager
async def training(
    config: TrainConfig, settings: Settings, options: RemoteOptions
) -> AsyncIterator[tuple[LearnerLoop, Actor]]:
    """A learner and an actor running; on leaving, the actor stops (sending what it played), then
    the learner."""
    learner, actor = LearnerLoop(config, settings, options), Actor(config, settings, options)
    tasks = [asyncio.create_task(learner.run()), asyncio.create_task(actor.run())]
    try:
        yield learner, actor
    finally:
        await actor.stop()
        await tasks[1]
        await learner.stop()
        await tasks[0]


async def table_inserts(settings: Settings) -> int:
    async with channel(settings.address("replay")) as ch:
        return (await ReplayClient(ch).stats(OPTIONS.table)).inserts


def test_actor_and_learner_go_on_through_a_replay_service_crash(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, replay):
            learner = LearnerLoop(TINY, settings, OPTIONS)
            actor = Actor(TINY, settings, OPTIONS)
            tasks = [asyncio.create_task(learner.run()), asyncio.create_task(actor.run())]
            try:
                # The learner publishes versions; the actor picks up the newer ones.
                await until(lambda: len(set(actor.stats.versions_seen)) >= 3, "the actor to see 3 versions")
                assert actor.stats.versions_seen == sorted(actor.stats.versions_seen)
                assert set(actor.stats.versions_seen) <= set(learner.stats.published)

                # The Replay Service checkpoints, takes more, crashes, and comes back on the same
                # storage and port (from its checkpoint and log).
                await replay.core.checkpoint()
                logged = actor.stats.chunks_acknowledged
                await until(
                    lambda: actor.stats.chunks_acknowledged >= logged + 2, "chunks after the checkpoint"
                )
                await replay.crash()
                await asyncio.sleep(0.1)  # answers sent before the crash are read
                acknowledged = actor.stats.trajectories_acknowledged
                updates = learner.stats.updates
                await asyncio.sleep(0.5)  # the actor plays on, holding its rollouts
                assert actor.stats.trajectories_acknowledged == acknowledged
                await replay.start()
                assert await table_inserts(settings) >= acknowledged  # nothing acknowledged was lost
                await until(lambda: learner.stats.updates >= updates + 12, "the learner to train on")
                await until(
                    lambda: actor.stats.trajectories_acknowledged >= acknowledged + 24, "the actor to send on"
                )
                published = learner.stats.published[-1]
                await until(
                    lambda: actor.version is not None and actor.version.version > published, "a new version"
                )
            finally:
                await learner.stop()
                await actor.stop()
                await asyncio.gather(*tasks)
            assert actor.stats.retries > 0 and learner.stats.retries > 0
            labels = {"actor": actor.actor_id}
            assert REGISTRY.get_sample_value("grl_actor_env_steps_total", labels) == actor.stats.env_steps
            assert REGISTRY.get_sample_value("grl_actor_retries_total", {**labels, "call": "record"})
            # Every acknowledged trajectory is in the table once: the inserts the table counted
            # (across the crash: checkpoint, log and after) are exactly the acknowledged ones.
            assert await table_inserts(settings) == actor.stats.trajectories_acknowledged
            assert learner.stats.checkpoints and learner.stats.checkpoints[-1].endswith(
                f"ckpt-{learner.learner.step:010d}.pt"  # type: ignore[union-attr]
            )

    asyncio.run(scenario())


def test_a_restarted_learner_resumes_and_actors_play_through_the_game_service(tmp_path: Path) -> None:
    config = TINY.with_overrides({"opponents": "self:1,expander:1,past:1", "total_updates": 6})
    options = RemoteOptions(**{**vars(OPTIONS), "via_game_service": True})

    async def scenario() -> None:
        async with services(tmp_path, "game", "model", "matchmaker", "elo") as (settings, _):
            first = LearnerLoop(config, settings, options)
            actor = Actor(config, settings, options)
            playing = asyncio.create_task(actor.run())
            await asyncio.wait_for(first.run(), 60)  # ends at its update budget, with a checkpoint
            assert first.learner is not None and first.learner.step == 6
            second = LearnerLoop(config.with_overrides({"total_updates": 10}), settings, options)
            await asyncio.wait_for(second.run(), 60)
            assert second.learner is not None and second.learner.step == 10  # 4 more, from the checkpoint
            assert second.stats.updates == 4 and second.stats.published[0] > first.stats.published[-1]
            await actor.stop()
            await playing
            assert actor.stats.trajectories_acknowledged > 0
            assert set(actor.stats.results) == {"self", "expander", "past"}
            assert actor.stats.seconds["rpc"] > 0  # the games went through StepBatch
            # The progress report and /metrics count the games behind each win rate (a short run
            # may finish none: the report leaves out an opponent without games, /metrics counts 0).
            report = actor._report_fields()
            for name, result in actor.stats.results.items():
                assert report.get(f"games_{name}", 0) == result.games
                assert report.get(f"wins_{name}", 0) == result.wins
                labels = {"actor": actor.actor_id, "opponent": name}
                counted = {
                    outcome: REGISTRY.get_sample_value("grl_actor_games_total", {**labels, "result": outcome})
                    for outcome in ("win", "loss", "draw")
                }
                assert counted == {"win": result.wins, "loss": result.losses, "draw": result.draws}

    asyncio.run(scenario())


def test_an_unchanged_network_has_ratio_1_through_the_services(tmp_path: Path) -> None:
    """Behaviour log-probabilities survive the trip actor -> Replay Service -> learner: with a
    learning rate too small to move the weights, every sampled ratio pi/mu is 1 (none clipped), with
    the training defaults' inputs (distance planes, the pooled context, the memory sent with each
    trajectory) and bf16 where the CPU has it. So the clipped fraction of a real run measures how
    far the policy moved, not a mismatch of what the two sides compute. (A fresh network hardly
    reads its memory planes, so the memory's rebuild is tested in ``test_memory.py``.)"""
    defaults = TrainConfig()
    config = dataclasses.replace(
        TINY,
        lr=1e-12,
        lr_final=1e-12,
        opponents=(("self", 1.0), ("random", 1.0)),
        **{name: getattr(defaults, name) for name in ("memory", "distance_features", "global_context")},
    )
    ratios: list[tuple[float, float]] = []

    async def scenario() -> None:
        async with (
            services(tmp_path, "model", "matchmaker", "elo") as (settings, _),
            training(config, settings, OPTIONS) as (learner, _actor),
        ):
            for update in range(1, 9):
                await until(lambda u=update: learner.stats.updates >= u, f"{update} updates")  # type: ignore[misc]
                metrics = learner.stats.metrics
                ratios.append((metrics["ratio_mean"], metrics["clip_fraction"]))

    asyncio.run(scenario())
    assert defaults.memory and len(ratios) == 8
    for ratio_mean, clip_fraction in ratios:
        assert ratio_mean == pytest.approx(1.0, abs=1e-6) and clip_fraction == 0.0, ratios


@pytest.mark.parametrize("sampling", ["uniform", "queue"])
def test_the_learner_trains_on_a_uniform_replay_buffer_or_on_a_queue(tmp_path: Path, sampling: str) -> None:
    """As a queue (IMPALA's), each trajectory is trained on once, the oldest first, and leaves the
    table when sampled; as a replay buffer, trajectories stay and any of them may be drawn."""
    options = dataclasses.replace(OPTIONS, sampling=sampling)

    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, _replay):
            async with training(TINY, settings, options) as (learner, _actor):
                await until(lambda: learner.stats.updates >= 6, "six updates")
            async with channel(settings.address("replay")) as ch:
                stats = await ReplayClient(ch).stats(options.table)
        # a stream's batches beyond the learner's last update were sampled too
        assert stats.samples >= learner.stats.samples >= 6 * TINY.minibatch
        assert stats.size == stats.inserts - stats.removed
        if sampling == "queue":
            assert stats.removed == stats.samples, stats  # trained on once, then gone
        else:
            assert stats.removed == 0 and stats.size == stats.inserts > 0, stats

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["actor", "--set", "games=0"], "games must be at least 1"),
        (["actor", "--set", "nonsense=1"], "unknown training setting 'nonsense'"),
        (["learner", "--publish-every", "0"], "publish_every must be at least 1"),
        (["actor", "--sampling", "lifo"], "sampling must be one of uniform, queue, got 'lifo'"),
        (["learner", "--table-items", "0"], "table_items must be at least 1, got 0"),
        (["actor", "--samples-per-insert", "-1"], "samples_per_insert must be >= 0, got -1.0"),
        (["learner", "--config", "/no/such/file.toml"], "no/such/file.toml"),
        (["actor", "--replay", "nowhere"], "host:port"),
    ],
)
def test_bad_flags_fail_with_a_clear_error(args: list[str], message: str) -> None:
    result = subprocess.run([*GRL, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join((result.stdout + result.stderr).split())


def _ddp_rank(rank: int, folder: str, addresses: dict[str, str], out: Any) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
    try:
        settings = Settings(data_dir=Path(folder) / "data", addresses=addresses)
        loop = LearnerLoop(TINY.with_overrides({"total_updates": 6}), settings, OPTIONS)
        asyncio.run(loop.run())
        assert loop.learner is not None
        weights = sum(float(p.double().sum()) for p in loop.learner.network.parameters())
        out.put((rank, loop.stats.updates, loop.stats.published, loop.stats.checkpoints, weights))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_two_learners_train_together_and_only_rank_0_publishes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, _):
            actor = Actor(TINY, settings, OPTIONS)
            playing = asyncio.create_task(actor.run())
            context = multiprocessing.get_context("spawn")
            out = context.Queue()
            ranks = [
                context.Process(target=_ddp_rank, args=(r, str(tmp_path), dict(settings.addresses), out))
                for r in range(2)
            ]
            for process in ranks:
                process.start()
            try:
                results = sorted([await asyncio.to_thread(out.get, True, 120) for _ in ranks])
                for process in ranks:
                    await asyncio.to_thread(process.join, 60)
            finally:
                for process in ranks:
                    if process.is_alive():
                        process.kill()
                await actor.stop()
                await playing
            assert [p.exitcode for p in ranks] == [0, 0]
            (
                (_, updates0, published0, checkpoints0, weights0),
                (_, updates1, published1, checkpoints1, weights1),
            ) = results
            assert updates0 == updates1 == 6 and weights0 == weights1  # DDP keeps the ranks identical
            assert published0 and checkpoints0 and not published1 and not checkpoints1
            async with channel(settings.address("model")) as ch:
                versions = await ModelClient(ch).list_versions()
            assert sorted(v.version for v in versions.versions) == sorted(published0)

    asyncio.run(scenario())


def test_stop_during_a_rollout_still_sends_that_rollout(tmp_path: Path) -> None:
    """The sender used to quit on an empty outbox as soon as stop was asked, so the rollout being
    played then was queued after it and silently lost."""

    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, _replay):
            async with training(TINY, settings, OPTIONS) as (_learner, actor):
                await until(lambda: actor.stats.chunks_acknowledged >= 2, "two acknowledged rollouts")
                acked = actor.stats.chunks_acknowledged
                await until(lambda: actor.stats.rollouts == acked and not actor._pending, "an empty outbox")
                await asyncio.sleep(0.01)  # the next rollout is being played: stop in its middle
            assert actor.stats.rollouts == actor.stats.chunks_acknowledged, (
                f"{actor.stats.rollouts} rollouts, {actor.stats.chunks_acknowledged} acknowledged"
            )

    asyncio.run(scenario())


def test_the_learner_backs_off_while_the_replay_service_is_down(tmp_path: Path) -> None:
    """Sampling retries used to restart the backoff at every try: ~70 tries in a 4 s outage."""
    options = dataclasses.replace(OPTIONS, backoff=Backoff(initial_s=0.1, max_s=2.0))

    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, replay):
            learner = LearnerLoop(TINY, settings, options)
            actor = Actor(TINY, settings, options)
            tasks = [asyncio.create_task(learner.run()), asyncio.create_task(actor.run())]
            await until(lambda: learner.stats.updates >= 2, "two updates")
            await replay.crash()
            retries = learner.stats.retries
            await asyncio.sleep(4.0)
            during = learner.stats.retries - retries
            await replay.start()
            await actor.stop()
            await learner.stop()
            await asyncio.gather(*tasks)
            # doubling from 0.1 s up to 2 s with full jitter: about 8 tries in 4 s
            assert during <= 20, f"{during} sample retries in 4 s of outage"

    asyncio.run(scenario())


def test_a_rollout_too_big_for_one_message_goes_in_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rollout of B games on big maps passed gRPC's 64 MiB message limit and the actor died; it
    is cut into messages of at most CHUNK_BYTES (here: one trajectory each)."""
    import generals_rl.training.actor as actor_module

    monkeypatch.setattr(actor_module, "CHUNK_BYTES", 1)

    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, _replay):
            async with training(TINY, settings, OPTIONS) as (_learner, actor):
                await until(lambda: actor.stats.rollouts >= 2, "two rollouts")
            assert actor.stats.chunks_acknowledged == actor.stats.trajectories_acknowledged
            assert actor.stats.chunks_acknowledged > actor.stats.rollouts
            assert actor.stats.duplicates == 0
            assert await table_inserts(settings) == actor.stats.trajectories_acknowledged

    asyncio.run(scenario())


def test_actors_kickstart_the_learner_until_the_imitation_weight_is_0_with_memory(tmp_path: Path) -> None:
    """The distributed run kickstarts like the serial loop: the actor plays the teacher's moves for
    the first 4 updates (demonstrations), then records them as advice, and the learner's published
    versions report the imitation loss until the weight reaches 0 (12 updates of decay after the
    4); then the actor drops the teacher. The network remembers, so every update also rebuilt the
    memory from what the Replay Service sent (an update without it fails)."""
    config = dataclasses.replace(
        TINY, teacher="expander", teacher_plays_updates=4, teacher_decay_updates=12, memory=True
    )

    async def scenario() -> None:
        async with services(tmp_path, "model", "matchmaker", "elo") as (settings, _replay):
            async with training(config, settings, OPTIONS) as (_learner, actor):

                def playing() -> bool:
                    rollouts = actor._rollouts
                    return rollouts is not None and rollouts.collector.teacher_plays  # type: ignore[attr-defined]

                await until(playing, "the actor playing the teacher's moves", 60)

                def past_the_decay() -> bool:
                    version = actor.version
                    return (
                        version is not None
                        and version.metadata.training_step >= 20
                        and actor.stats.rollouts > 2
                    )

                await until(past_the_decay, "the actor on a version trained past the decay", 120)
                assert not actor._rollouts.collector.teacher_plays  # type: ignore[union-attr]
                await until(lambda: actor._rollouts.collector.teacher is None, "the teacher dropped")  # type: ignore[union-attr]
            async with channel(settings.address("model")) as ch:
                page = await ModelClient(ch).list_versions(run_id=config.run_name, page_size=100)
        steps = {
            v.metadata.training_step: v.metadata.metrics for v in page.versions if v.metadata.training_step
        }
        # a version's metrics are those of the update that made its step: the one at step 16 was
        # trained at step 15, still with a weight of 1/12 (and advice, if its batch had any)
        advised = [step for step, metrics in steps.items() if "teacher_loss" in metrics]
        assert advised and max(advised) <= 16, sorted(steps)
        assert all(0 < steps[step]["teacher_loss"] < 20 for step in advised)
        assert any(step > 16 and "teacher_loss" not in metrics for step, metrics in steps.items())

    asyncio.run(scenario())
