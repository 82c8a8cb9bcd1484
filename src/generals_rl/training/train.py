"""``grl train``: the whole self-play loop on one machine, on the embedded defaults.

    grl train                         # every service, one learner, N actors, the evaluator, a dashboard
    grl train --fused                 # engine, inference and learning in one process (one GPU)
    grl train --config run.toml --set lr=3e-4 --set games=64

This process runs every service (Game, Matchmaker, Model, Elo, Replay and the HTTP gateway) on the
settings' storage (``grl-data/`` by default), the evaluation loop (``evaluation.Evaluator``) and the
dashboard (``dashboard``: a Rich view, TensorBoard event files under ``<data dir>/tensorboard/<run>``,
and the status the gateway's training page shows). The learner and the actors are child processes
(``grl learner`` / ``grl actor`` run the same code on other machines) talking to the services over
loopback gRPC, so a laptop run and a cloud run are the same components wired at one point.

Stopping: Ctrl-C (or the time budget, ``time_budget_s``, in wall-clock seconds here; with ``--fused``
the fused process's own training seconds, its evaluations not counted) stops the actors,
then the learner (which checkpoints weights, optimizer and step to the blob store), then the
evaluator and the services. The next ``grl train`` with the same ``run_name`` resumes from that
checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import multiprocessing as mp
import multiprocessing.process
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from generals_rl.services.common.channels import channel
from generals_rl.services.common.logging import configure_logging
from generals_rl.services.elo.client import EloClient
from generals_rl.services.gateway.config import TRAINING_STATUS_KEY
from generals_rl.services.model.client import ModelClient
from generals_rl.services.replay.client import ReplayClient
from generals_rl.services.runner import SERVICE_NAMES, ServiceUnavailableError, load_service, run_services
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig
from generals_rl.training.dashboard import Snapshot, TensorBoardLog, TrainingMonitor, render
from generals_rl.training.evaluation import EvaluationConfig, Evaluator
from generals_rl.training.remote import RemoteOptions

log = logging.getLogger(__name__)


def share_cores(config: TrainConfig, actors: int, cores: int) -> TrainConfig:
    """``config`` with its torch threads shared out over ``cores`` for one learner and ``actors``
    actors when ``threads`` is 0 (set threads are kept): each actor gets ``cores // (actors + 1)``
    and the learner, unless ``learner_threads`` is set, the cores the actors do not use plus one.
    The learner sets the pace and the actors wait on its rate limiter part of the time, lending it
    their cores then (on the 2-core CPU, a learner of 2 threads beside an actor of 1 made 14% more
    samples/s than one of 1: ``benchmarks/training_time.py``)."""
    if config.threads > 0:
        return config
    threads = max(1, cores // (actors + 1))
    learner = config.learner_threads or max(1, cores - actors * threads + 1)
    return dataclasses.replace(config, threads=threads, learner_threads=learner)


@dataclass(frozen=True)
class TrainLayout:
    """How ``grl train`` lays the run out on this machine.

    Attributes:
        actors: actor processes (ignored with ``fused``).
        fused: one process runs the engine, inference and learning (``training.fused``).
        evaluate: run the evaluation loop here.
        gateway: serve the HTTP gateway and web UI (port 8080 by default).
        dashboard: draw the live view (otherwise one log line per refresh).
        tensorboard: write TensorBoard event files.
        refresh_s: seconds between two looks at the services.
        stop_timeout_s: how long a child may take to stop before it is killed.
    """

    actors: int = 2
    fused: bool = False
    evaluate: bool = True
    gateway: bool = True
    dashboard: bool = True
    tensorboard: bool = True
    refresh_s: float = 2.0
    stop_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.fused and self.actors < 1:
            raise ValueError(f"actors must be at least 1, got {self.actors}")
        if self.refresh_s <= 0 or self.stop_timeout_s <= 0:
            raise ValueError("refresh_s and stop_timeout_s must be positive")


def available_services() -> list[str]:
    """The gRPC services this build can run (all five in a full install)."""
    names = []
    for name in SERVICE_NAMES:
        try:
            load_service(name)
            names.append(name)
        except ServiceUnavailableError:
            continue
    return names


# -- child processes ------------------------------------------------------------------------------


ChildMain = Callable[[TrainConfig, Settings, RemoteOptions, int], None]


@dataclass
class Child:
    """A learner or actor process and how it is stopped (SIGTERM: finish the step, checkpoint)."""

    name: str
    process: multiprocessing.process.BaseProcess

    def stop(self) -> None:
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)

    async def wait(self, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        while self.process.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.process.is_alive():
            log.warning("killing a child that did not stop", extra={"child": self.name})
            self.process.kill()
            await asyncio.to_thread(self.process.join, 5.0)
        return self.process.exitcode


def start_child(
    name: str, target: ChildMain, config: TrainConfig, settings: Settings, options: RemoteOptions, index: int
) -> Child:
    """``target(config, settings, options, index)`` in a fresh (spawned) interpreter that ignores
    Ctrl-C: the parent decides the order things stop in, and tells each child with SIGTERM."""
    context = mp.get_context("spawn")
    process = context.Process(target=_child_entry, args=(target, config, settings, options, index), name=name)
    process.start()
    return Child(name, process)


def _child_entry(
    target: ChildMain, config: TrainConfig, settings: Settings, options: RemoteOptions, index: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    name = mp.current_process().name
    folder = settings.data_dir / "logs" / config.run_name
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.log").open("a", encoding="utf-8") as stream:  # the dashboard owns the terminal
        configure_logging(name, settings.log_format, stream=stream)
        target(config, settings, options, index)


async def _until_sigterm(run: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    """Run ``run()``; SIGTERM calls ``stop()`` (which lets ``run`` finish its step and return).
    A SIGTERM after ``run`` returned (it ended on its own budget as the parent asked it to stop)
    finds nothing left to stop and is ignored, not the default death by signal."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(stop()))
    try:
        await run()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)  # else closing the loop restores the default
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def learner_main(config: TrainConfig, settings: Settings, options: RemoteOptions, index: int) -> None:
    """The learner child: ``LearnerLoop`` until SIGTERM or the config's budget."""
    from generals_rl.training.learner_loop import LearnerLoop

    learner = LearnerLoop(config, settings, options)
    asyncio.run(_until_sigterm(learner.run, learner.stop))


def actor_main(config: TrainConfig, settings: Settings, options: RemoteOptions, index: int) -> None:
    """Actor child ``index``: an ``Actor`` with its own seed and writer id until SIGTERM."""
    from generals_rl.training.actor import Actor

    seeded = dataclasses.replace(config, seed=config.seed + 1009 * (index + 1))
    actor = Actor(
        seeded,
        settings,
        dataclasses.replace(options, actor_id=options.actor_id or f"{config.run_name}-actor-{index}"),
    )
    asyncio.run(_until_sigterm(actor.run, actor.stop))


def fused_main(config: TrainConfig, settings: Settings, options: RemoteOptions, index: int) -> None:
    """The fused child (``training.fused``): the serial loop on one device, publishing versions."""
    from generals_rl.training.fused import run_fused

    asyncio.run(run_fused(config, settings, options))


# -- the run --------------------------------------------------------------------------------------


async def run(
    config: TrainConfig,
    settings: Settings,
    layout: TrainLayout,
    *,
    options: RemoteOptions | None = None,
    evaluation: EvaluationConfig | None = None,
    console: Console | None = None,
    stop: asyncio.Event | None = None,
) -> Snapshot | None:
    """Run the services, the children, the evaluator and the dashboard until ``stop`` is set, the
    time budget is spent or a child fails; stop them in order; return the last snapshot."""
    console = console or Console()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    options = options or RemoteOptions()
    evaluation = evaluation or EvaluationConfig(map_side=config.map_side, seed=config.seed)
    snapshot: Snapshot | None = None
    async with run_services(available_services(), settings) as services:
        children: list[Child] = []
        if layout.fused:
            children.append(start_child("fused", fused_main, config, settings, options, 0))
        else:
            children.append(start_child("learner", learner_main, config, settings, options, 0))
            children += [
                start_child(f"actor-{i}", actor_main, config, settings, options, i)
                for i in range(layout.actors)
            ]
        async with contextlib.AsyncExitStack() as stack:
            if layout.gateway:
                from generals_rl.services.gateway import serve_gateway

                gateway = await stack.enter_async_context(
                    serve_gateway(settings, services.stores, services.peers)
                )
                console.print(f"web UI and training page: {gateway.url}", highlight=False)
            evaluator_task: asyncio.Task[None] | None = None
            evaluator: Evaluator | None = None
            if layout.evaluate:
                evaluator = await stack.enter_async_context(Evaluator.connect(settings, evaluation))
                evaluator_task = asyncio.create_task(evaluator.run(), name="evaluator")
            model_channel = await stack.enter_async_context(channel(settings.address("model")))
            replay_channel = await stack.enter_async_context(channel(settings.address("replay")))
            elo_channel = await stack.enter_async_context(channel(settings.address("elo")))
            monitor = TrainingMonitor(
                model=ModelClient(model_channel, timeout_s=10.0),
                replay=ReplayClient(replay_channel, timeout_s=10.0),
                elo=EloClient(elo_channel, timeout_s=10.0),
                table=options.table,
                unroll=config.unroll,
                run_id=config.run_name,
                bots=evaluation.opponents,
            )
            board = (
                TensorBoardLog(settings.data_dir / "tensorboard" / config.run_name)
                if layout.tensorboard
                else None
            )
            started = time.monotonic()
            try:
                snapshot = await _watch(
                    monitor,
                    children,
                    layout,
                    console,
                    stop,
                    board,
                    lambda s: services.stores.cache.set(TRAINING_STATUS_KEY, _status_json(config, s)),
                    # the fused process spends the budget itself, in training seconds (its
                    # evaluations not counted), and the run ends when it exits
                    deadline=(
                        started + config.time_budget_s
                        if config.time_budget_s > 0 and not layout.fused
                        else None
                    ),
                )
            finally:
                # STOP: actors first (nothing new is recorded), then the learner (last checkpoint
                # and version), then the evaluator; the services stop when this block exits.
                for child in sorted(children, key=lambda c: c.name.startswith("actor"), reverse=True):
                    child.stop()
                    code = await child.wait(layout.stop_timeout_s)
                    console.print(f"stopped {child.name} (exit code {code})", highlight=False)
                if evaluator is not None and evaluator_task is not None:
                    evaluator.stop()
                    with contextlib.suppress(Exception):
                        await evaluator_task
                if board is not None:
                    board.close()
    return snapshot


async def _watch(
    monitor: TrainingMonitor,
    children: list[Child],
    layout: TrainLayout,
    console: Console,
    stop: asyncio.Event,
    board: TensorBoardLog | None,
    publish_status: Callable[[Snapshot], None],
    *,
    deadline: float | None,
) -> Snapshot | None:
    """Poll, draw and log until a reason to stop; a child that exits on its own ends the run."""
    snapshot: Snapshot | None = None
    live = Live(console=console, refresh_per_second=2, transient=False) if layout.dashboard else None
    with live if live is not None else contextlib.nullcontext():
        while not stop.is_set():
            snapshot = await monitor.poll()
            if board is not None:
                board.write(snapshot)
            with contextlib.suppress(Exception):  # the status is a convenience for the gateway
                await asyncio.to_thread(publish_status, snapshot)
            if live is not None:
                live.update(render(snapshot))
            else:
                console.print(_line(snapshot), highlight=False, soft_wrap=True)
            dead = [c for c in children if not c.process.is_alive()]
            if dead:
                if all(c.process.exitcode == 0 for c in dead):
                    console.print(f"{', '.join(c.name for c in dead)} finished: stopping")
                else:
                    codes = ", ".join(f"{c.name} exited with {c.process.exitcode}" for c in dead)
                    console.print(f"[yellow]stopping: {codes}[/]")
                break
            if deadline is not None and time.monotonic() >= deadline:
                console.print("time budget spent: stopping")
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), layout.refresh_s)
    return snapshot


def _line(s: Snapshot) -> str:
    rates = " ".join(f"{bot} {w.rate:.0%}/{w.games}" for bot, w in s.win_rates.items())
    return (
        f"{s.elapsed_s:7.0f} s  env {s.env_steps_per_s:7.0f} steps/s  "
        f"learner {s.samples_per_s:6.1f} samples/s  lag {s.policy_lag:4.2f}  "
        f"latest v{s.latest} champion v{s.champion}  {rates}"
    )


def _status_json(config: TrainConfig, snapshot: Snapshot) -> str:
    """The gateway's training status: the snapshot's numbers, the run, and when."""
    status: dict[str, Any] = {
        "run": config.run_name,
        "updated_at": time.time(),
        "elapsed_s": snapshot.elapsed_s,
        "env_steps": snapshot.env_steps,
        "env_steps_per_s": snapshot.env_steps_per_s,
        "learner_samples_per_s": snapshot.samples_per_s,
        "policy_lag_versions": snapshot.policy_lag,
        "latest": snapshot.latest,
        "champion": snapshot.champion,
        "learner_step": snapshot.learner_step,
        "losses": snapshot.losses,
        "win_rates": {
            bot: {"version": w.version, "rate": w.rate, "games": w.games}
            for bot, w in snapshot.win_rates.items()
        },
    }
    return (
        json.dumps(status, allow_nan=False, default=str)
        if _finite(status)
        else json.dumps(_finite_copy(status))
    )


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _finite_copy(value: Any) -> Any:
    if isinstance(value, float):
        return value if _finite(value) else None
    if isinstance(value, dict):
        return {k: _finite_copy(v) for k, v in value.items()}
    return value


def data_path(settings: Settings, *parts: str) -> Path:
    return Path(settings.data_dir, *parts)
