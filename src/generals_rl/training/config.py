"""``TrainConfig``: every setting of a training run in one frozen, documented dataclass.

Defaults run on a laptop CPU. A run reads a TOML file of top-level keys named as the fields, then
applies overrides (command-line ``key=value`` flags):

    seed = 1
    games = 128
    opponents = { self = 0.5, random = 0.25, expander = 0.25 }
    curriculum_sides = [8, 12, 16]

    config = TrainConfig.from_toml("run.toml", parse_overrides(["lr=3e-4", "eval_games=200"]))

Strings from flags are converted by the field's type: numbers, ``true``/``false``, comma-separated
tuples (``curriculum_sides=8,12``) and ``name:weight`` pairs (``opponents=self:0.5,random:0.5``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig
from generals_rl.game.rewards import RewardConfig
from generals_rl.training.losses import LossWeights
from generals_rl.training.networks import CONFIGS

SELF = "self"
"""Opponent name: the current policy itself (both seats learn)."""

PAST = "past"
"""Opponent name: a frozen past version of the policy, drawn from a pool of snapshots."""


@dataclass(frozen=True)
class TrainConfig:
    """A training run's settings. Units: updates are optimizer steps, seconds are training time
    (collection and updates; evaluation is not counted). The defaults are the recipe measured in
    ``docs/training-results.md`` on a 2-core CPU: a small network that sees distances and the whole
    board, a 12 -> 16 -> generals.io map curriculum, kickstarted by the ``expander`` bot, trained
    against ``random``, ``expander`` and itself with land-share shaping.

    Run:
        seed: seeds maps, sampling and the network's initial weights.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:i]``.
        threads: torch CPU threads (0: torch's default; ``grl train`` shares the cores out).
        learner_threads: torch CPU threads of the learner (``LearnerLoop``, ``grl learner``), 0:
            ``threads``. ``grl train`` gives it the cores its actors do not use, plus one: the
            actors wait on its rate limiter part of the time and lend it their core then.
        time_budget_s: stop after this much training time (0: no limit).
        total_updates: stop after this many updates (0: no limit).
    Games:
        map_side: 0 for generals.io-like 1v1 maps (``MapConfig.generalsio_1v1()``, sides 18-23),
            else square maps of that side (``MapConfig.with_side``).
        curriculum_sides: square map sides played first, one stage each, before ``map_side``
            (sides not smaller than the run's maps are skipped: with ``map_side=6`` it plays 6x6).
        curriculum_updates: updates per curriculum stage.
        max_ticks: training games end in a draw at this tick.
        games: B, games played at once in one engine batch.
        unroll: T, steps per trajectory.
        opponents: (name, weight) pairs splitting the B games: ``self`` (the current policy in
            both seats, both learning), ``past`` (a frozen past version), or a bot name
            (``random``, ``expander``, ``gatherer``, ``raider``).
        past_every: updates between snapshots of the policy added to the ``past`` pool.
        past_pool: snapshots kept in that pool (the oldest leave first).
    Network:
        arch, channels, blocks, global_context, distance_features, general_distance, memory,
            target_distance, norm, levels, level_blocks: the policy network (``networks.build``; ``arch``
            ``resnet-v1``: a residual tower of ``blocks`` blocks; ``unet-v1``: ``blocks`` at full
            resolution, then ``levels`` halvings of the board with ``level_blocks`` blocks each,
            fields an architecture does not have are not passed to it; ``global_context``: the move
            head also sees board-wide pooled features; ``distance_features``: walking distances to
            the nearest land to take and the nearest enemy as input planes; ``general_distance``:
            one more, to the player's own general; ``memory``: what each tile last showed and how
            long ago, ``training.memory``; ``target_distance``: one more distance plane, to where
            the enemy general was seen or most likely stands, ``tactics.likely_general``: what the
            ``raider`` teacher moves toward; ``norm``: ``group`` or ``none``, the trunk's norm).
        general_coef: weight of the auxiliary loss on where the enemy general stands (> 0: the
            network gets the general head, ``ResNetConfig.general_head``, and collectors record
            the true tile; 0: neither).
    Optimisation:
        lr: Adam learning rate; lr_final: the rate reached at the end of the time or update budget
            (linear decay; equal to ``lr`` for a constant rate).
        lr_decay_s: reach ``lr_final`` after this much training time and hold it from then on
            (0: at the end of the budget).
        adam_eps: Adam epsilon.
        max_grad_norm: global gradient norm clip (0: no clipping).
        epochs: passes over each collected rollout.
        minibatch: trajectories per gradient step (0: the whole rollout in one step).
        mixed_precision: bf16 autocast in acting, learning and evaluation where the device runs bf16
            natively (CUDA; CPUs with AVX512-BF16 or AMX, about twice as fast there), else ignored.
    Losses (``losses``):
        gamma: discount (the shaping potential uses it too).
        vtrace_lambda, rho_bar, c_bar, pg_rho_bar: V-trace's trace decay and truncation levels.
        policy_loss: ``ppo`` (the ratio clipped to 1 +- ``clip_eps``) or ``vtrace`` (IMPALA's: the
            advantage weighted by the ratio truncated at ``pg_rho_bar``; ``losses``).
        clip_eps: PPO ratio clip.
        value_coef, entropy_coef: weights of the value loss and the entropy bonus.
        normalize_advantages: centre advantages and scale them to unit variance per minibatch.
    Kickstarting (Schmitt et al. 2018, "Kickstarting deep reinforcement learning"):
        teacher: a bot name whose move in each of the learner's positions the policy is also trained
            to take (cross-entropy, ``losses.imitation_loss``), '' for none. The teacher only
            advises: it never plays, and the weight falls to 0, after which it is plain RL. It is
            told the learner's moves (``Agent.played``), so a teacher with memory (``gatherer``)
            follows the game played, not the one its advice would have made.
        teacher_coef: weight of that loss at update 0.
        teacher_plays_updates: until the learner has made this many updates, the teacher's moves
            are also played in the learner's seats (demonstrations: the imitation loss is then
            behaviour cloning on the teacher's own games, the behaviour log-probabilities are 0,
            so the policy-gradient and value losses see a deterministic behaviour policy); 0: never.
        teacher_decay_updates: after those, the weight falls linearly to 0 over this many updates
            (0: constant).
    Reward shaping (``game.rewards``, potential-based):
        shaping_land, shaping_army, shaping_city: weights of the land, army and city shares.
        shaping_guard: weight of the danger to the player's general (``rewards.danger``: how far
            the largest enemy army near it outweighs the general's army).
        shaping_guard_radius: how near, in steps (Manhattan distance), an enemy army endangers it.
        shaping_decay_updates: the weights fall linearly to 0 over this many updates (0: constant).
    Evaluation (``arena.play_games`` on generals.io-like maps, or ``map_side``'s):
        eval_every_s: training seconds between evaluations (0: only at the end; <0: never).
        eval_games: games per opponent.
        eval_opponents: bot names played.
        eval_max_ticks: tick limit of evaluation games (a draw after it).
        eval_greedy: the policy plays its most likely action instead of sampling.
    Checkpoints and logging:
        checkpoint_uri: blob store URI for checkpoints ('' : none), bucket ``checkpoints``.
        run_name: key prefix of this run's checkpoints.
        checkpoint_every: updates between checkpoints.
        snapshot_every_s: training seconds between weight snapshots in the same bucket
            (``<run>/snapshots/t-<seconds>.pt``, for curves evaluated afterwards; 0: none).
        log_every: iterations (collect + learn) between progress lines.
        log_path: a file that receives every progress line and evaluation as JSON ('' : none).
    """

    seed: int = 0
    device: str = "auto"
    threads: int = 0
    learner_threads: int = 0
    time_budget_s: float = 900.0
    total_updates: int = 0

    map_side: int = 0
    curriculum_sides: tuple[int, ...] = (12, 16)
    curriculum_updates: int = 250
    max_ticks: int = 2000
    games: int = 64
    unroll: int = 32
    opponents: tuple[tuple[str, float], ...] = (("random", 0.5), ("expander", 0.25), (SELF, 0.25))
    past_every: int = 50
    past_pool: int = 8

    arch: str = "resnet-v1"
    channels: int = 16
    blocks: int = 2
    global_context: bool = True
    distance_features: bool = True
    general_distance: bool = False
    memory: bool = True
    target_distance: bool = False
    general_coef: float = 0.0
    norm: str = "group"
    levels: int = 2
    level_blocks: int = 1

    lr: float = 2e-3
    lr_final: float = 2e-4
    lr_decay_s: float = 0.0
    adam_eps: float = 1e-5
    max_grad_norm: float = 1.0
    epochs: int = 1
    minibatch: int = 32
    mixed_precision: bool = True

    gamma: float = 0.995
    vtrace_lambda: float = 0.95
    rho_bar: float = 1.0
    c_bar: float = 1.0
    pg_rho_bar: float = 1.0
    policy_loss: str = "ppo"
    clip_eps: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.001
    normalize_advantages: bool = True

    teacher: str = "expander"
    teacher_coef: float = 1.0
    teacher_plays_updates: int = 0
    teacher_decay_updates: int = 1500

    shaping_land: float = 1.0
    shaping_army: float = 0.0
    shaping_city: float = 0.0
    shaping_guard: float = 0.0
    shaping_guard_radius: int = RewardConfig.guard_radius
    shaping_decay_updates: int = 0

    eval_every_s: float = 300.0
    eval_games: int = 200
    eval_opponents: tuple[str, ...] = ("random", "expander")
    eval_max_ticks: int = 2000
    eval_greedy: bool = False

    checkpoint_uri: str = ""
    run_name: str = "serial"
    checkpoint_every: int = 200
    snapshot_every_s: float = 0.0
    log_every: int = 10
    log_path: str = ""

    def __post_init__(self) -> None:
        positive = ("games", "unroll", "epochs", "max_ticks", "eval_max_ticks", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.threads < 0 or self.learner_threads < 0:
            raise ValueError("threads and learner_threads must be non-negative")
        weights = [w for _, w in self.opponents]
        if not weights or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"opponents need non-negative weights with a positive sum, got {self.opponents}")
        if (self.map_side and self.map_side < 4) or any(s < 4 for s in self.curriculum_sides):
            raise ValueError("map sides must be at least 4")
        if self.curriculum_sides and self.curriculum_updates < 1:
            raise ValueError("curriculum_sides needs curriculum_updates >= 1")
        if not 0 < self.gamma <= 1 or not 0 <= self.vtrace_lambda <= 1:
            raise ValueError("gamma must lie in (0, 1] and vtrace_lambda in [0, 1]")
        if self.lr <= 0 or self.lr_final < 0 or self.lr_decay_s < 0:
            raise ValueError("lr must be positive, lr_final and lr_decay_s non-negative")
        if self.shaping_guard_radius < 1:
            raise ValueError(f"shaping_guard_radius must be at least 1, got {self.shaping_guard_radius}")
        if self.arch not in CONFIGS:
            raise ValueError(f"unknown arch {self.arch!r}: choose one of {', '.join(sorted(CONFIGS))}")
        CONFIGS[self.arch](**self.network_config())  # the network's fields, checked as the network will
        if self.teacher_coef < 0 or self.teacher_decay_updates < 0 or self.teacher_plays_updates < 0:
            raise ValueError(
                "teacher_coef, teacher_plays_updates and teacher_decay_updates must be non-negative"
            )
        if self.general_coef < 0:
            raise ValueError(f"general_coef must be non-negative, got {self.general_coef}")
        self.loss_weights()  # the loss's fields, checked as the learner will
        if self.teacher_plays_updates and not self.teacher:
            raise ValueError("teacher_plays_updates needs a teacher")

    # -- derived settings -------------------------------------------------------------------------

    def stage_side(self, update: int) -> int:
        """The map side played at ``update`` (0: generals.io-like maps). Curriculum stages only
        lead up to the run's maps: sides not below them are skipped."""
        final = self.map_side or self.map_config(0).side[0]
        sides = [side for side in self.curriculum_sides if side < final]
        if self.curriculum_updates > 0:
            stage = update // self.curriculum_updates
            if stage < len(sides):
                return sides[stage]
        return self.map_side

    def map_config(self, side: int | None = None) -> MapConfig:
        """Maps of ``side`` (default ``map_side``; 0: generals.io-like 1v1 maps)."""
        side = self.map_side if side is None else side
        base = MapConfig.generalsio_1v1()
        return base if side == 0 else base.with_side(side)

    def engine_config(self) -> EngineConfig:
        return EngineConfig(max_ticks=self.max_ticks)

    def reward_config(self, update: int = 0) -> RewardConfig:
        """The shaping weights at ``update`` (after the linear decay)."""
        scale = 1.0
        if self.shaping_decay_updates > 0:
            scale = max(0.0, 1.0 - update / self.shaping_decay_updates)
        return RewardConfig(
            land=self.shaping_land * scale,
            army=self.shaping_army * scale,
            city=self.shaping_city * scale,
            guard=self.shaping_guard * scale,
            guard_radius=self.shaping_guard_radius,
            gamma=self.gamma,
        )

    def learning_rate(self, updates: int, train_s: float) -> float:
        """The rate after ``updates`` updates and ``train_s`` seconds: ``lr`` falling linearly to
        ``lr_final`` over the update budget or ``lr_decay_s`` (else the time budget), whichever
        ends first, then held."""
        progress = updates / self.total_updates if self.total_updates > 0 else 0.0
        decay_s = self.lr_decay_s or self.time_budget_s
        if decay_s > 0:
            progress = max(progress, train_s / decay_s)
        return self.lr + (self.lr_final - self.lr) * min(1.0, progress)

    def teacher_weight(self, update: int) -> float:
        """The imitation loss weight at ``update`` (full while the teacher plays, then the linear
        decay; 0 without a teacher)."""
        if not self.teacher:
            return 0.0
        if self.teacher_decay_updates > 0:
            decayed = max(0, update - self.teacher_plays_updates) / self.teacher_decay_updates
            return self.teacher_coef * max(0.0, 1.0 - decayed)
        return self.teacher_coef

    def teacher_plays(self, update: int) -> bool:
        """Whether the teacher's moves are played in the learner's seats at ``update``."""
        return bool(self.teacher) and update < self.teacher_plays_updates

    def network_config(self) -> dict[str, Any]:
        """``arch``'s config from the network fields it has (``networks.CONFIGS``)."""
        names = {field.name for field in dataclasses.fields(CONFIGS[self.arch])} - {"general_head"}
        config = {name: getattr(self, name) for name in sorted(names)}
        if self.general_coef > 0:  # saved configs of networks without the head stay as they were
            config["general_head"] = True
        return dict(sorted(config.items()))

    def loss_weights(self) -> LossWeights:
        """What the loss needs (``losses.LossWeights``, whose fields all have their names here)."""
        return LossWeights(
            **{field.name: getattr(self, field.name) for field in dataclasses.fields(LossWeights)}
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # -- parsing at the edge ----------------------------------------------------------------------

    @classmethod
    def from_toml(
        cls, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
    ) -> TrainConfig:
        """Defaults, then the TOML file's keys (if any), then ``overrides``."""
        values: dict[str, Any] = {}
        if path is not None:
            with Path(path).open("rb") as f:
                values.update(tomllib.load(f))
        values.update(overrides or {})
        return cls().with_overrides(values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> TrainConfig:
        """A copy with fields replaced; values may be TOML values or strings from flags."""
        known = {f.name: f for f in dataclasses.fields(self)}
        changes = {}
        for name, value in overrides.items():
            key = name.replace("-", "_")
            if key not in known:
                raise ValueError(f"unknown training setting {name!r}")
            changes[key] = _coerce(key, value, getattr(self, key))
        return dataclasses.replace(self, **changes)


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["lr=3e-4", "games=64"]`` as a dict of strings (converted by ``with_overrides``)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected key=value, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of the field's ``default``."""
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes")
            return bool(value)
        if isinstance(default, int | float | str):
            return type(default)(value)
        if name == "opponents":
            return _pairs(value)
        if isinstance(default, tuple):
            items: Sequence[Any] = (
                [v for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
            )
            kind = int if name.endswith("sides") else str
            return tuple(kind(v.strip() if isinstance(v, str) else v) for v in items)
    except (TypeError, ValueError) as error:
        raise ValueError(f"bad value for {name}: {value!r} ({error})") from None
    raise ValueError(f"cannot set {name} from {value!r}")


def _pairs(value: Any) -> tuple[tuple[str, float], ...]:
    if isinstance(value, Mapping):
        return tuple((str(k), float(v)) for k, v in value.items())
    if isinstance(value, str):
        pairs = []
        for part in value.split(","):
            key, _, weight = part.partition(":")
            pairs.append((key.strip(), float(weight) if weight else 1.0))
        return tuple(pairs)
    return tuple((str(k), float(v)) for k, v in value)
