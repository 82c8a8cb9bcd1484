"""Where the time goes in one actor and one learner of the distributed training, as JSON lines.

The Model, Replay, Matchmaker and Elo services run in one child process on the embedded storage
(a temporary folder, free loopback ports), as ``grl up`` would; one ``Actor`` and one
``LearnerLoop`` run in two more child processes, as ``grl train`` starts them, for ``--seconds``
after the first version is published. Each reports where its time went:

- actor, its loop (shares of its wall time): ``engine`` (rules, rewards, restarts, observations),
  ``inference`` (the policy's forward pass and sampling), ``opponents`` (bots and past versions),
  ``outbox_wait`` (held back because the Replay Service has not acknowledged ``max_pending``
  rollouts: the learner or the service is the bottleneck), ``policy_fetch``; and its sender,
  which runs beside the loop: ``serialization`` (encoding chunks, in worker threads) and ``rpc``
  (the rest of each RecordExperience stream until acknowledged: transfer, inserting, the log);
- learner (shares of its wall time): ``sample_wait`` (waiting for the next batch: actors too
  slow, the rate limiter, or the transfer), ``deserialization`` (decoding batches and copying them
  into tensors), ``input_planes`` (the network's input rebuilt from the observations: features,
  distance planes, the memory's unroll and planes, which the actor computed too when it acted),
  ``forward_backward`` (the rest of the loss and its gradients), ``optimizer`` (clipping and the
  Adam step), ``checkpoint``; ``publish`` runs in the background beside the loop.

``other`` is the rest of each loop's wall time (the event loop's own work, waiting to be
scheduled on a busy machine), so the loop's shares add up to 1.

Plus ``actor_env_steps_per_s``, ``learner_samples_per_s`` and the mean policy lag of the sampled
data in versions. Figures are of this machine and the config used; the defaults are a laptop-size
run (32 games of generals.io-like maps, T = 32, ``TrainConfig``'s network: ``resnet-v1`` 16 x 2 with
the memory channels), one torch thread in each process (``threads``, ``learner_threads``: on 2
cores ``grl train`` gives its learner 2).

    python benchmarks/training_time.py                      # 60 s
    python benchmarks/training_time.py --set games=64 --set learner_threads=2   # grl train's layout
    python benchmarks/training_time.py --seconds 20 --set map_side=10 --set games=16
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import torch

from generals_rl.services import runner
from generals_rl.settings import Settings
from generals_rl.training.config import TrainConfig, parse_overrides
from generals_rl.training.remote import RemoteOptions

SERVICES = ("model", "replay", "matchmaker", "elo")


# -- the services' process ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(folder: str) -> AsyncIterator[dict[str, str]]:
    os.environ.setdefault("GRL_MODEL_SANITY_GAMES", "0")  # validation games are not what is measured
    settings = Settings(data_dir=Path(folder), ports=dict.fromkeys(SERVICES, 0))
    async with runner.run_services(SERVICES, settings) as running:
        yield dict(running.peers.settings.addresses)


def _serve_process(folder: str, ready: Any, stop: Any) -> None:
    async def serve() -> None:
        async with serving(folder) as addresses:
            ready.put(addresses)
            await asyncio.to_thread(stop.wait)

    asyncio.run(serve())


# -- timing hooks ---------------------------------------------------------------------------------


def _timed(seconds: dict[str, float], phase: str, call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        clock = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - clock

    return wrapper


def _hook_input_planes(seconds: dict[str, float]) -> None:
    """Time what builds the network's input in this process (looked up at call time; none of
    these calls another)."""
    from generals_rl.training import learner, networks

    for module, name in (
        (networks, "features"),
        (networks, "distance_planes"),
        (networks, "likely_general"),
        (networks, "memory_planes"),
        (learner, "unroll_memory"),
    ):
        setattr(module, name, _timed(seconds, "input_planes", getattr(module, name)))


def _hook_codecs(seconds: dict[str, float]) -> None:
    """Time the chunk encoding and batch decoding of ``ReplayClient`` (looked up at call time)."""
    from generals_rl.services.replay import client

    client.encode_chunk = _timed(seconds, "serialization", client.encode_chunk)
    client.decode_sampled = _timed(seconds, "deserialization", client.decode_sampled)


# -- the actor's and the learner's processes ------------------------------------------------------


def _settings(addresses: dict[str, str], folder: str) -> Settings:
    """The services' addresses; the learner's checkpoints go to the services' blob folder."""
    return Settings(data_dir=Path(folder), addresses={name: addresses[name] for name in SERVICES})


def _actor_process(
    config: TrainConfig, addresses: dict[str, str], folder: str, seconds: float, out: Any
) -> None:
    from generals_rl.training.actor import Actor

    torch.set_num_threads(1)
    extra: dict[str, float] = {}
    _hook_codecs(extra)
    actor = Actor(config, _settings(addresses, folder), RemoteOptions(actor_id="bench-actor"))

    async def main() -> None:
        running = asyncio.create_task(actor.run())
        while actor.version is None and not running.done():
            await asyncio.sleep(0.1)
        start, steps = time.monotonic(), actor.stats.env_steps
        before = dict(actor.stats.seconds) | {f"x_{k}": v for k, v in extra.items()}
        await asyncio.sleep(seconds)
        wall = time.monotonic() - start
        after = dict(actor.stats.seconds) | {f"x_{k}": v for k, v in extra.items()}
        spent = {k: v - before.get(k, 0.0) for k, v in after.items()}
        out.put({"wall": wall, "steps": actor.stats.env_steps - steps, "seconds": spent})
        await actor.stop()
        await running

    asyncio.run(main())


def _learner_process(
    config: TrainConfig, addresses: dict[str, str], folder: str, seconds: float, out: Any
) -> None:
    from generals_rl.training.learner import Learner
    from generals_rl.training.learner_loop import LearnerLoop

    torch.set_num_threads(1)
    extra: dict[str, float] = {}
    _hook_codecs(extra)
    _hook_input_planes(extra)

    class TimedLearner(LearnerLoop):
        """Times the tensor copies and the optimizer step inside ``Learner.update``."""

        def _update(self, learner: Learner, *args: Any) -> dict[str, float] | None:
            if not getattr(learner, "_timed", False):
                learner._tensors = _timed(extra, "to_tensors", learner._tensors)  # type: ignore[method-assign]
                learner.optimizer.step = _timed(extra, "optimizer", learner.optimizer.step)  # type: ignore[method-assign]
                learner._timed = True  # type: ignore[attr-defined]
            return super()._update(learner, *args)

    loop = TimedLearner(config, _settings(addresses, folder), RemoteOptions())

    async def main() -> None:
        running = asyncio.create_task(loop.run())
        while loop.stats.updates == 0 and not running.done():
            await asyncio.sleep(0.1)
        start, samples = time.monotonic(), loop.stats.samples
        lags: list[float] = []
        before = dict(loop.stats.seconds) | {f"x_{k}": v for k, v in extra.items()}
        while time.monotonic() - start < seconds:
            await asyncio.sleep(0.5)
            lags.append(loop.stats.lag)
        wall = time.monotonic() - start
        after = dict(loop.stats.seconds) | {f"x_{k}": v for k, v in extra.items()}
        spent = {k: v - before.get(k, 0.0) for k, v in after.items()}
        out.put(
            {
                "wall": wall,
                "samples": loop.stats.samples - samples,
                "updates_s": spent.get("update", 0.0),
                "seconds": spent,
                "lag": sum(lags) / max(1, len(lags)),
            }
        )
        await loop.stop()
        await running

    asyncio.run(main())


# -- figures --------------------------------------------------------------------------------------


def figures(config: TrainConfig, actor: dict[str, Any], learner: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON lines (module docstring) from what the two processes measured."""
    common = {
        "map_side": config.map_side or "generals.io 1v1",
        "games": config.games,
        "unroll": config.unroll,
        "network": f"{config.arch} {config.channels}x{config.blocks}" + (" memory" if config.memory else ""),
        "actor_threads": config.threads,
        "learner_threads": config.learner_threads or config.threads,
        "layout": "services, actor and learner in three processes",
    }
    a, wall = actor["seconds"], actor["wall"]
    engine = sum(a.get(k, 0.0) for k in ("engine", "restart", "observe"))
    serialization = a.get("x_serialization", 0.0)
    actor_phases = {
        "engine": engine,
        "inference": a.get("inference", 0.0),
        "opponents": a.get("opponents", 0.0),
        "outbox_wait": a.get("outbox_wait", 0.0),
        "policy_fetch": a.get("policy_fetch", 0.0),
    }
    actor_phases["other"] = max(0.0, wall - sum(actor_phases.values()))
    actor_phases["serialization"] = serialization
    actor_phases["rpc"] = max(0.0, a.get("record", 0.0) - serialization)
    out = [{"figure": "actor_env_steps_per_s", "value": round(actor["steps"] / wall, 1), **common}]
    for phase, seconds in actor_phases.items():
        side = "sender, beside the loop" if phase in ("serialization", "rpc") else "loop"
        out.append(
            {
                "figure": f"actor_{phase}_share",
                "value": round(seconds / wall, 4),
                "seconds": round(seconds, 3),
                "wall_s": round(wall, 1),
                "where": side,
                **common,
            }
        )
    s, wall = learner["seconds"], learner["wall"]
    to_tensors, optimizer = s.get("x_to_tensors", 0.0), s.get("x_optimizer", 0.0)
    input_planes = s.get("x_input_planes", 0.0)
    learner_phases = {
        "sample_wait": max(0.0, s.get("sample_wait", 0.0) - s.get("x_deserialization", 0.0)),
        "deserialization": s.get("x_deserialization", 0.0) + to_tensors,
        "input_planes": input_planes,
        "forward_backward": max(0.0, s.get("update", 0.0) - to_tensors - input_planes - optimizer),
        "optimizer": optimizer,
        "checkpoint": s.get("checkpoint", 0.0),
    }
    learner_phases["other"] = max(0.0, wall - sum(learner_phases.values()))
    learner_phases["publish"] = s.get("publish", 0.0)
    out.append({"figure": "learner_samples_per_s", "value": round(learner["samples"] / wall, 1), **common})
    out.append({"figure": "learner_policy_lag_versions", "value": round(learner["lag"], 2), **common})
    for phase, seconds in learner_phases.items():
        side = "background, beside the loop" if phase == "publish" else "loop"
        out.append(
            {
                "figure": f"learner_{phase}_share",
                "value": round(seconds / wall, 4),
                "seconds": round(seconds, 3),
                "wall_s": round(wall, 1),
                "where": side,
                **common,
            }
        )
    return out


async def measure(config: TrainConfig, seconds: float) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="grl-bench-training-") as folder:
        ready, stop = context.Queue(), context.Event()
        services = context.Process(target=_serve_process, args=(folder, ready, stop), daemon=True)
        services.start()
        workers: list[Any] = []
        try:
            addresses = await asyncio.to_thread(ready.get, True, 300)
            results = {"actor": context.Queue(), "learner": context.Queue()}
            for name, target in (("actor", _actor_process), ("learner", _learner_process)):
                process = context.Process(
                    target=target, args=(config, addresses, folder, seconds, results[name])
                )
                process.start()
                workers.append(process)
            timeout = seconds + 600
            actor = await asyncio.to_thread(results["actor"].get, True, timeout)
            learner = await asyncio.to_thread(results["learner"].get, True, timeout)
            for process in workers:
                await asyncio.to_thread(process.join, 120)
        finally:
            for process in workers:
                if process.is_alive():
                    process.terminate()
            stop.set()
            services.join(60)
            if services.is_alive():
                services.terminate()
    return figures(config, actor, learner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured seconds after the first version"
    )
    parser.add_argument("--set", action="append", default=[], help="a TrainConfig setting, key=value")
    args = parser.parse_args()
    config = TrainConfig(games=32, threads=1, time_budget_s=0, checkpoint_every=100).with_overrides(
        parse_overrides(args.set)
    )
    for figure in asyncio.run(measure(config, args.seconds)):
        print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
