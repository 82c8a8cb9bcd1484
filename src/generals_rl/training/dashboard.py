"""What a training run is doing, read from the services: the live dashboard of ``grl train`` and its
TensorBoard curves.

Everything shown comes from the services a run talks to, so the same view works whether the actors
and the learner run in this process, in child processes or on other machines:

| figure | source |
|---|---|
| experience steps/s | Replay Service: items inserted per second x the unroll length |
| learner samples/s | Replay Service: items sampled per second (trajectories of T steps) |
| (fused mode) | Model Service: both rates, per training second, published with each version |
| policy lag | Replay Service: mean lag (learner version - behaviour version) of the last sampled items |
| losses | Model Service: the metrics the learner published with the latest version |
| win rate vs a bot | Elo Service: head-to-head of the newest evaluated version and ``bot:<name>`` |
| Elo | Elo Service: ratings of ``latest`` and ``champion`` (Model Service aliases) |

``TrainingMonitor.poll`` returns one ``Snapshot``; ``render`` draws it with Rich;
``TensorBoardLog`` writes its numbers as scalars (``tensorboard --logdir <data dir>/tensorboard``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from generals_rl.services.common.errors import ServiceError
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.domain import PlayerRef
from generals_rl.services.model.client import ModelClient
from generals_rl.services.replay.client import ReplayClient
from generals_rl.stats import wilson_interval

SHOWN_LOSSES = ("loss", "policy_loss", "value_loss", "entropy", "clip_fraction", "grad_norm")
FUSED_THROUGHPUT = {"env_steps": int, "env_steps_per_s": float, "samples": int, "samples_per_s": float}
"""Snapshot fields a fused run publishes as metrics of its versions (it has no Replay Service)."""


@dataclass(frozen=True)
class WinRate:
    """A version's record against one bot, with its 95% Wilson interval."""

    version: int
    wins: int
    draws: int
    games: int

    @property
    def rate(self) -> float:
        return self.wins / self.games if self.games else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.wins, self.games)


@dataclass(frozen=True)
class Snapshot:
    """The run at one moment (``nan`` or 0 where a service has nothing yet)."""

    elapsed_s: float
    env_steps: int = 0
    env_steps_per_s: float = 0.0
    samples: int = 0
    samples_per_s: float = 0.0
    policy_lag: float = 0.0
    replay_size: int = 0
    latest: int = 0
    champion: int = 0
    learner_step: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    win_rates: dict[str, WinRate] = field(default_factory=dict)
    elo_latest: float = float("nan")
    elo_champion: float = float("nan")
    unavailable: tuple[str, ...] = ()

    def scalars(self) -> dict[str, float]:
        """The numbers as TensorBoard tags."""
        out = {
            "throughput/env_steps_per_s": self.env_steps_per_s,
            "throughput/learner_samples_per_s": self.samples_per_s,
            "throughput/policy_lag_versions": self.policy_lag,
            "replay/size": float(self.replay_size),
            "versions/latest": float(self.latest),
            "versions/champion": float(self.champion),
            "elo/latest": self.elo_latest,
            "elo/champion": self.elo_champion,
        }
        out.update({f"loss/{name}": value for name, value in self.losses.items()})
        out.update({f"win_rate/{bot}": w.rate for bot, w in self.win_rates.items()})
        return {k: v for k, v in out.items() if v == v}  # drop NaN: nothing to plot yet


class Rates:
    """Per-second rates of growing counters over the last ``window_s`` seconds of polls.

    Counters that grow in bursts (an actor's rollout reaches the Replay table all at once, every
    second or two) read steady over a window of several bursts, where rates between two polls
    would read 0 and twice the rate by turns. A counter that went back (a restarted service
    restored less than it had counted) reads 0.
    """

    def __init__(self, window_s: float = 20.0) -> None:
        self.window_s = window_s
        self._seen: deque[tuple[float, tuple[int, ...]]] = deque()

    def add(self, now: float, *counts: int) -> tuple[float, ...] | None:
        """Record ``counts`` at ``now``; their rates since the oldest poll kept (None at first)."""
        self._seen.append((now, counts))
        while len(self._seen) > 2 and now - self._seen[1][0] >= self.window_s:
            self._seen.popleft()  # the next one still spans the window
        start, first = self._seen[0]
        if now <= start:
            return None
        span = now - start
        return tuple(max(0.0, (count - old) / span) for count, old in zip(counts, first, strict=True))


class TrainingMonitor:
    """Polls the services of one run; rates are per second over the last ``Rates.window_s``."""

    def __init__(
        self,
        *,
        model: ModelClient,
        replay: ReplayClient,
        elo: EloClient,
        table: str,
        unroll: int,
        run_id: str = "",
        bots: tuple[str, ...] = ("random", "expander", "gatherer"),
        mode: str = "1v1",
    ) -> None:
        self.model, self.replay, self.elo = model, replay, elo
        self.table, self.unroll, self.run_id, self.bots, self.mode = table, unroll, run_id, bots, mode
        self._started = time.monotonic()
        self._rates = Rates()  # of (inserts, samples)
        self._replay: dict[str, Any] = {}

    async def poll(self) -> Snapshot:
        now = time.monotonic()
        values: dict[str, Any] = {"elapsed_s": now - self._started}
        down: list[str] = []
        try:
            stats = await self.replay.stats(self.table)
            inserts, samples = int(stats.inserts), int(stats.samples)
            self._replay = {
                "env_steps": inserts * self.unroll,
                "samples": samples,
                "policy_lag": float(stats.sampled_lag_versions),
                "replay_size": int(stats.size),
            }
            rates = self._rates.add(now, inserts, samples)
            if rates is not None:
                values["env_steps_per_s"] = rates[0] * self.unroll
                values["samples_per_s"] = rates[1]
        except ServiceError:
            down.append("replay")
        values.update(self._replay)  # the last numbers seen while the service is away
        try:
            values.update(await self._models())
        except ServiceError:
            down.append("model")
        try:
            values.update(await self._ratings(values.get("latest", 0), values.get("champion", 0)))
        except ServiceError:
            down.append("elo")
        return Snapshot(**values, unavailable=tuple(down))

    async def _models(self) -> dict[str, Any]:
        aliases = {a.name: a.version for a in await self.model.list_aliases()}
        page = await self.model.list_versions(run_id=self.run_id, page_size=1)
        out: dict[str, Any] = {"latest": aliases.get("latest", 0), "champion": aliases.get("champion", 0)}
        if page.versions:
            newest = page.versions[0].metadata
            out["learner_step"] = int(newest.training_step)
            out["losses"] = {k: float(v) for k, v in newest.metrics.items() if k in SHOWN_LOSSES}
            # fused mode (no Replay Service) publishes its throughput with each version
            for name, kind in FUSED_THROUGHPUT.items():
                if name in newest.metrics:
                    out[name] = kind(newest.metrics[name])
        return out

    async def _ratings(self, latest: int, champion: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pairs = (("latest", latest), ("champion", champion))
        refs = {name: PlayerRef("model", str(v)) for name, v in pairs if v}
        if refs:
            ratings = await self.elo.get_ratings(list(refs.values()), self.mode)
            by_key = {str(r.player): r for r in ratings}
            for name, ref in refs.items():
                rating = by_key.get(str(ref))
                if rating is not None and rating.games:
                    out[f"elo_{name}"] = rating.elo
        # the newest version with games against each bot: walk down from latest a few versions
        win_rates: dict[str, WinRate] = {}
        for version in range(latest, max(0, latest - 8), -1):
            for bot in self.bots:
                if bot in win_rates:
                    continue
                record = await self.elo.head_to_head(
                    PlayerRef("model", str(version)), PlayerRef("bot", bot), self.mode
                )
                if record.games:
                    win_rates[bot] = WinRate(version, record.a_wins, record.draws, record.games)
            if len(win_rates) == len(self.bots):
                break
        out["win_rates"] = win_rates
        return out


def render(snapshot: Snapshot, *, title: str = "grl train") -> Group:
    """The dashboard: throughput, versions and Elo, losses, win rates against the bots."""
    s = snapshot
    head = Table.grid(padding=(0, 3))
    head.add_row(
        f"[bold]{title}[/]  {_clock(s.elapsed_s)}",
        f"env {s.env_steps_per_s:,.0f} steps/s ({s.env_steps:,} in all)",
        f"learner {s.samples_per_s:,.1f} samples/s",
        f"policy lag {s.policy_lag:.2f} versions",
        f"replay {s.replay_size:,} items",
    )
    versions = Table.grid(padding=(0, 3))
    versions.add_row(
        f"latest v{s.latest or '-'} (update {s.learner_step})  Elo {_number(s.elo_latest)}",
        f"champion v{s.champion or '-'}  Elo {_number(s.elo_champion)}",
    )
    losses = Text("  ".join(f"{k} {v:+.4f}" for k, v in s.losses.items()) or "losses: none published yet")
    rates = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("bot", "version", "won", "95% CI", "games"):
        rates.add_column(column)
    for bot, w in s.win_rates.items():
        low, high = w.interval
        rates.add_row(bot, f"v{w.version}", f"{w.rate:.1%}", f"{low:.1%}-{high:.1%}", str(w.games))
    parts: list[Any] = [head, versions, losses]
    parts.append(rates if s.win_rates else Text("win rates: no evaluation finished yet", style="dim"))
    if s.unavailable:
        parts.append(Text(f"unreachable: {', '.join(s.unavailable)} (retrying)", style="yellow"))
    return Group(*parts)


class TensorBoardLog:
    """Scalars to TensorBoard event files; the step is the learner's update count."""

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only when used

        folder.mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(log_dir=str(folder))

    def write(self, snapshot: Snapshot) -> None:
        step = snapshot.learner_step
        for tag, value in snapshot.scalars().items():
            self.writer.add_scalar(tag, value, global_step=step, walltime=time.time())
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"


def _number(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"
