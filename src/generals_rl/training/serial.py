"""The serial training loop: self-play actor-critic in one process, read top to bottom.

    result = train(TrainConfig(time_budget_s=900))
    result.network        # the trained policy
    result.evaluations    # win rates against the bots over training time

Each iteration collects one rollout of B games x T steps with ``RolloutCollector`` (the learner
against itself, frozen past versions and bots), then runs ``Learner.learn`` on it (V-trace targets,
PPO-clipped policy loss). Every ``eval_every_s`` seconds of training it plays the bots with
``arena.play_games``; evaluation, checkpoints and snapshots are not counted as training time.
``grl train --serial`` and the distributed actors and learner are built from these same parts.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from generals_rl.agents import make_agent
from generals_rl.agents.arena import play_games
from generals_rl.agents.neural import NeuralAgent
from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig, MapPool, generate_maps
from generals_rl.stats import wilson_interval
from generals_rl.storage import open_blobs
from generals_rl.storage.interfaces import BlobStore
from generals_rl.training.config import PAST, TrainConfig
from generals_rl.training.learner import BUCKET, Learner
from generals_rl.training.networks import PolicyNetwork, autocast, build
from generals_rl.training.rollout import Results, RolloutCollector


@dataclass(frozen=True)
class Evaluation:
    """Games of the policy against one bot: half in each seat, on the same seeded maps."""

    opponent: str
    wins: int
    draws: int
    games: int
    train_s: float = 0.0
    updates: int = 0
    env_steps: int = 0
    mean_ticks: float = 0.0

    @property
    def win_rate(self) -> float:
        return self.wins / max(1, self.games)

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the win rate (draws count as not won)."""
        return wilson_interval(self.wins, self.games)


@dataclass
class TrainResult:
    """What ``train`` returns: the network, the evaluations in order, and where the time went."""

    network: PolicyNetwork
    evaluations: list[Evaluation]
    updates: int
    env_steps: int
    train_s: float
    profile: dict[str, float] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def evaluate(
    network: PolicyNetwork,
    opponent: str,
    games: int,
    maps: MapConfig,
    *,
    seed: int = 0,
    max_ticks: int = 2000,
    greedy: bool = False,
    device: torch.device | str = "cpu",
    mixed_precision: bool = True,
) -> Evaluation:
    """Play ``games`` games against the bot ``opponent`` on maps drawn from ``seed``: each map twice,
    the policy once in each seat (an odd game count plays one map once more in seat 0)."""
    drawn = generate_maps((games + 1) // 2, maps, seed=seed, device=device)
    engine = EngineConfig(max_ticks=max_ticks)
    training = network.training
    wins = draws = ticks = played = 0
    for seat, count in ((0, (games + 1) // 2), (1, games // 2)):
        if count == 0:
            continue
        model = NeuralAgent(network, seed=seed + seat, greedy=greedy, device=device)
        bot = make_agent(opponent, seed + 2 + seat)
        seats = [model, bot] if seat == 0 else [bot, model]
        with autocast(device, mixed_precision):
            result = play_games(seats, drawn.select(slice(0, count)), engine)
        wins += result.wins(seat)
        draws += result.draws
        ticks += int(result.ticks.sum())
        played += result.games
    network.train(training)
    return Evaluation(opponent, wins, draws, played, mean_ticks=ticks / max(1, played))


@dataclass(frozen=True)
class Progress:
    """What ``train`` tells its ``on_iteration`` hook after every collect + learn iteration."""

    learner: Learner
    metrics: dict[str, float]
    env_steps: int
    train_s: float
    samples: int  # trajectories (of T steps) learned from so far in this process
    evaluations: tuple[Evaluation, ...]  # the ones finished in this iteration


def train(
    config: TrainConfig,
    *,
    console: Console | None = None,
    network: PolicyNetwork | None = None,
    on_iteration: Callable[[Progress], bool | None] | None = None,
) -> TrainResult:
    """Train from scratch (or ``network``, or the run's last checkpoint) until the time or update
    budget is spent, or ``on_iteration`` returns True (a stop request; the run checkpoints as at the
    end of its budget); returns the trained network and its evaluations."""
    # SETUP: seeds, device, network, learner, checkpoints, the pool of past versions
    console = console or Console()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    device = resolve_device(config.device)
    network = network or build(config.arch, config.network_config())
    learner = Learner(network, config, device=device)
    store: BlobStore | None = open_blobs(config.checkpoint_uri) if config.checkpoint_uri else None
    if store is not None:
        store.ensure_buckets()
    resumed = learner.resume(store, config.run_name) if store is not None else None
    train_s = float(resumed.get("train_s", 0.0)) if resumed else 0.0
    env_steps = int(resumed.get("env_steps", 0)) if resumed else 0
    if resumed is not None:
        console.print(f"resumed {config.run_name} at update {learner.step} ({train_s:.0f} s trained)")
    past_pool = [copy.deepcopy(network.state_dict())]
    past_agent = NeuralAgent(build(config.arch, config.network_config()), seed=config.seed, device=device)
    evaluations: list[Evaluation] = []
    profile = dict.fromkeys(("observe", "inference", "opponents", "engine", "restart", "update"), 0.0)
    train_results: dict[str, Results] = {}
    generator = torch.Generator().manual_seed(config.seed)
    next_eval = config.eval_every_s if config.eval_every_s > 0 else math.inf
    next_snapshot = config.snapshot_every_s if config.snapshot_every_s > 0 else math.inf
    collector: RolloutCollector | None = None
    side = -1
    iteration = 0
    samples = 0

    stop = False
    while not stop and not _finished(config, learner.step, train_s):
        clock = time.perf_counter()
        # CURRICULUM: a new batch of games whenever the stage's map side changes
        if config.stage_side(learner.step) != side:
            side = config.stage_side(learner.step)
            pool = MapPool(config.map_config(side), seed=config.seed + 1000 * (side + 1), device=device)
            collector = RolloutCollector(
                network,
                games=config.games,
                unroll=config.unroll,
                maps=pool,
                opponents=config.opponents,
                agents={PAST: past_agent},
                engine=config.engine_config(),
                seed=config.seed + side,
                device=device,
                mixed_precision=config.mixed_precision,
                teacher=make_agent(config.teacher, config.seed + 17) if config.teacher else None,
            )
        assert collector is not None
        collector.teacher_plays = config.teacher_plays(learner.step)
        if config.teacher_weight(learner.step) == 0.0:
            collector.teacher = None  # kickstarting is over (or never was): plain RL

        # ROLLOUT: B games x T steps; the shaping decays with the updates done
        collector.reward = config.reward_config(learner.step)
        collector.policy_version = learner.step
        past_agent.network.load_state_dict(random.choice(past_pool))
        rollout = collector.collect()
        env_steps += rollout.env_steps
        for name, results in rollout.results.items():
            train_results.setdefault(name, Results()).add(results)
        for phase, seconds in rollout.timings.items():
            profile[phase] += seconds

        # UPDATE: epochs x minibatches of V-trace / PPO steps, the learning rate decaying linearly
        learner.set_lr(config.learning_rate(learner.step, train_s))
        update_clock = time.perf_counter()
        metrics = learner.learn(rollout.trajectories, generator)
        profile["update"] += time.perf_counter() - update_clock
        samples += collector.num_trajectories
        if config.past_every > 0 and learner.step // config.past_every > len(past_pool) - 1:
            past_pool = [*past_pool, copy.deepcopy(network.state_dict())][-config.past_pool :]
        train_s += time.perf_counter() - clock
        iteration += 1

        # LOG: losses, speed and the training games' results every log_every iterations
        if iteration % config.log_every == 0:
            line = _progress(learner, train_s, env_steps, side, metrics, train_results)
            console.print(line["text"], soft_wrap=True)
            record = {k: v for k, v in line.items() if k != "text"}
            _log(config, {**record, "samples": samples, "profile_s": dict(profile)})
            train_results = {}

        # EVALUATE: against the bots on the evaluation maps (not counted as training time)
        done = _finished(config, learner.step, train_s)
        finished_before = len(evaluations)
        if train_s >= next_eval or (done and config.eval_every_s >= 0):
            next_eval = train_s + config.eval_every_s if config.eval_every_s > 0 else math.inf
            for opponent in config.eval_opponents:
                result = evaluate(
                    network,
                    opponent,
                    config.eval_games,
                    config.map_config(),
                    seed=config.seed + 7919,
                    max_ticks=config.eval_max_ticks,
                    greedy=config.eval_greedy,
                    device=device,
                    mixed_precision=config.mixed_precision,
                )
                point = dataclasses.replace(
                    result, train_s=train_s, updates=learner.step, env_steps=env_steps
                )
                evaluations.append(point)
                low, high = point.interval
                console.print(
                    f"[bold]eval[/] {opponent}: {point.wins}/{point.games} won "
                    f"({point.win_rate:.1%}, 95% CI {low:.1%}-{high:.1%}), {point.draws} draws, "
                    f"{point.mean_ticks:.0f} ticks on average, after {train_s:.0f} s",
                    soft_wrap=True,
                )
                _log(config, {"eval": opponent, **asdict(point), "low": low, "high": high})

        # HOOK: the caller sees the iteration (fused mode publishes versions from here) and may stop
        if on_iteration is not None:
            fresh = tuple(evaluations[finished_before:])
            if on_iteration(Progress(learner, metrics, env_steps, train_s, samples, fresh)):
                stop = done = True

        # CHECKPOINT: weights, optimizer and step; snapshots of the weights by training time
        if store is not None:
            progress = {"train_s": train_s, "env_steps": env_steps}
            if done or learner.step % config.checkpoint_every < _steps_per_iteration(config, collector):
                learner.checkpoint(store, config.run_name, progress)
            if train_s >= next_snapshot or done:
                next_snapshot = train_s + config.snapshot_every_s if config.snapshot_every_s > 0 else math.inf
                save_snapshot(store, config.run_name, network, {**progress, "updates": learner.step})

    return TrainResult(network, evaluations, learner.step, env_steps, train_s, profile)


def save_snapshot(store: BlobStore, run: str, network: PolicyNetwork, info: dict[str, Any]) -> str:
    """The network's weights as ``<run>/snapshots/t-<seconds>.pt`` (for curves evaluated later)."""
    buffer = io.BytesIO()
    weights = {"arch_id": network.arch_id, "network_config": network.config_json()}
    torch.save({**weights, "network": network.state_dict(), **info}, buffer)
    key = f"{run}/snapshots/t-{round(info['train_s']):06d}.pt"
    store.put(BUCKET, key, buffer.getvalue())
    return key


def load_snapshot(data: bytes) -> tuple[PolicyNetwork, dict[str, Any]]:
    """A network and its info back from ``save_snapshot``'s bytes."""
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    network = build(state.pop("arch_id"), state.pop("network_config"))
    network.load_state_dict(state.pop("network"))
    return network, state


def _log(config: TrainConfig, record: dict[str, Any]) -> None:
    if config.log_path:
        with Path(config.log_path).open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _finished(config: TrainConfig, updates: int, train_s: float) -> bool:
    if config.total_updates > 0 and updates >= config.total_updates:
        return True
    return config.time_budget_s > 0 and train_s >= config.time_budget_s


def _steps_per_iteration(config: TrainConfig, collector: RolloutCollector) -> int:
    n = collector.num_trajectories
    size = config.minibatch if 0 < config.minibatch < n else n
    return config.epochs * math.ceil(n / size)


def _progress(
    learner: Learner,
    train_s: float,
    env_steps: int,
    side: int,
    metrics: dict[str, float],
    results: dict[str, Results],
) -> dict[str, Any]:
    """One progress line (``text``) and its numbers."""
    rates = {
        name: (r.wins / r.games if r.games else float("nan"), r.games, r.ticks / max(1, r.games))
        for name, r in results.items()
    }
    shown = "  ".join(f"{name} {rate:.0%} of {n} ({ticks:.0f}t)" for name, (rate, n, ticks) in rates.items())
    text = (
        f"update {learner.step:>6}  {train_s:>6.0f} s  {env_steps / max(train_s, 1e-9):>6.0f} steps/s  "
        f"map {side or 'gio'}  loss {metrics['loss']:+.3f}  value {metrics['value_loss']:.3f}  "
        f"entropy {metrics['entropy']:.2f}  clip {metrics['clip_fraction']:.2f}  "
        + (f"teacher {metrics['teacher_agreement']:.0%}  " if "teacher_agreement" in metrics else "")
        + f"won: {shown}"
    )
    return {
        "text": text,
        "update": learner.step,
        "train_s": train_s,
        "env_steps": env_steps,
        "side": side,
        "lr": learner.lr,
        **metrics,
        "train_win_rates": {name: rate for name, (rate, _, _) in rates.items()},
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m generals_rl.training.serial [config.toml] [key=value ...]``: one serial run."""
    import sys

    from generals_rl.training.config import parse_overrides

    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in args):
        Console().print(
            "usage: python -m generals_rl.training.serial [config.toml] [key=value ...]\n"
            "One serial run (collect, learn, evaluate in this process); the settings are "
            "TrainConfig's, as for grl train --set:\n  "
            + " ".join(f.name for f in dataclasses.fields(TrainConfig)),
            highlight=False,
        )
        return
    path = args[0] if args and "=" not in args[0] else None
    try:
        config = TrainConfig.from_toml(path, parse_overrides(a for a in args if a is not path))
    except (ValueError, OSError) as error:
        raise SystemExit(f"error: {error}") from None
    result = train(config)
    Console().print(f"{result.updates} updates, {result.env_steps} env steps in {result.train_s:.0f} s")


if __name__ == "__main__":
    main()
