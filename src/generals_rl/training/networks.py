"""Policy networks: convolutional actor-critics over the padded board.

A network maps one player's ``Observation`` (``Observation.player(p)``, shapes (N, ...)) to
logits over the flat action space (pass, then 8 move planes of H x W: half-major, then
direction, as ``engine`` lays actions out) and a value. Illegal actions get ``-inf`` logits, so a
sampled or greedy action is always legal. Networks are fully convolutional: any board up to the
padding works with the same weights.

Every network is registered under an architecture id with a frozen config dataclass; the id and
the config (``to_json``) travel with the weights, so ``build(arch_id, config_json)`` rebuilds it
anywhere (the Model Service validates published versions this way).

Input features (``features``), computed from the observation alone:
    log1p(army) on mine / ally / enemy / neutral tiles (4 planes), the 9 boolean planes, and
    broadcast scalars: tick / 1000, (tick mod 50) / 50, and log1p of the player's land and army
    and of the largest and total land and army of the others (6) — 21 planes in all, whatever the
    number of players. With ``distance_features`` two more planes (``distance_planes``): the
    walking distance from each tile to the nearest tile the player does not own and to the nearest
    visible enemy tile, which a tower of a few 3x3 convolutions cannot measure beyond its reach;
    with ``general_distance`` a third, to the player's own general; with ``target_distance`` one
    more, to where the enemy general most likely stands (``tactics.likely_general``: where it was
    seen, else the likeliest unexplored tile; it needs the memory).
    With ``memory`` five more (``memory.memory_planes``): what was last seen on each tile (enemy
    land, its army, the enemy general, cities) and how long ago, from the seat's memory state
    passed to ``forward`` (``training.memory``); without one, only what this observation shows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from generals_rl.agents.tactics import distance_field, likely_general
from generals_rl.game.observations import PLANE, PLANES, Observation
from generals_rl.training.memory import MEMORY_PLANES, empty_memory, memory_planes, remember

NUM_FEATURES = 4 + len(PLANES) + 8
MOVE_PLANES = 8


def features(obs: Observation) -> Tensor:
    """float32 (N, NUM_FEATURES, H, W) network input from single-player views."""
    planes = obs.planes.float()
    army = torch.log1p(obs.armies.float())
    owners = [PLANE["mine"], PLANE["ally"], PLANE["enemy"], PLANE["neutral"]]
    army_planes = army.unsqueeze(1) * planes[:, owners]
    scalars = obs.scalars.float()
    tick = scalars[:, 0]
    land, armies = scalars[:, 1::2], scalars[:, 2::2]  # self first, then the others
    others_land, others_army = land[:, 1:], armies[:, 1:]
    summary = torch.stack(
        [
            tick / 1000.0,
            torch.remainder(tick, 50) / 50.0,
            torch.log1p(land[:, 0]),
            torch.log1p(armies[:, 0]),
            torch.log1p(others_land.max(dim=1).values),
            torch.log1p(others_army.max(dim=1).values),
            torch.log1p(others_land.sum(dim=1)),
            torch.log1p(others_army.sum(dim=1)),
        ],
        dim=1,
    )
    n, _, h, w = planes.shape
    broadcast = summary.view(n, -1, 1, 1).expand(n, summary.shape[1], h, w)
    return torch.cat([army_planes, planes, broadcast], dim=1)


DISTANCE_PLANES = 2


@torch.no_grad()
def distance_planes(obs: Observation, *, own_general: bool = False, target: Tensor | None = None) -> Tensor:
    """float32 (N, 2 to 4, H, W): the walking distance (4-neighbour steps over tiles that are
    neither mountains nor fogged obstacles) from each tile to the nearest passable tile the player
    does not own, and to the nearest visible enemy tile, divided by H + W; 1 where none can be
    reached. ``own_general``: one more plane, the walking distance to the player's own general
    (which way home is, to defend it); ``target`` (bool (N, H, W)): one more, to those tiles."""
    planes = obs.planes
    blocked = planes[:, PLANE["mountain"]] | planes[:, PLANE["obstacle_in_fog"]]
    targets = [~planes[:, PLANE["mine"]] & ~blocked, planes[:, PLANE["enemy"]]]
    if own_general:
        targets.append(planes[:, PLANE["general"]] & planes[:, PLANE["mine"]])
    if target is not None:
        targets.append(target)
    n, h, w = blocked.shape
    # one breadth-first search over the targets stacked along the batch: (K * N, H, W)
    steps = distance_field(torch.cat(targets), (~blocked).repeat(len(targets), 1, 1))
    steps = steps.view(len(targets), n, h, w).transpose(0, 1)
    return torch.where(steps >= 0, steps.float() / (h + w), 1.0).clamp(max=1.0)


@dataclass(frozen=True)
class PolicyOutput:
    """Masked logits (N, A), values (N,); with a general head (``ResNetConfig.general_head``),
    ``general`` (N, H * W): logits of the tile the enemy general stands on."""

    logits: Tensor
    value: Tensor
    general: Tensor | None = None

    def distribution(self) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits)


class PolicyNetwork(nn.Module):
    """Base of every registered network: ``forward(obs) -> PolicyOutput`` with legal-only logits."""

    arch_id: ClassVar[str]
    config_type: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    def forward(self, obs: Observation, memory: Tensor | None = None) -> PolicyOutput:  # pragma: no cover
        raise NotImplementedError

    @property
    def uses_memory(self) -> bool:
        """Whether ``forward`` reads a memory state (``training.memory``): callers that act step
        after step keep one per seat (``memory.Memory``) and pass it."""
        return False

    @property
    def predicts_general(self) -> bool:
        """Whether ``forward`` also gives ``PolicyOutput.general``: collectors then record where
        the enemy general stands (``extras["enemy_general"]``) for the learner's auxiliary loss."""
        return False

    def config_json(self) -> str:
        return json.dumps(dataclasses.asdict(self.config), sort_keys=True)

    @torch.no_grad()
    def act(
        self,
        obs: Observation,
        generator: torch.Generator | None = None,
        greedy: bool = False,
        memory: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Actions (N,), their log-probabilities (N,) and values (N,), without gradients."""
        out = self(obs, memory)
        if greedy:
            actions = out.logits.argmax(dim=1)
        else:
            actions = sample(torch.softmax(out.logits.float(), dim=1), generator)
        log_probs = torch.log_softmax(out.logits.float(), dim=1).gather(1, actions.unsqueeze(1)).squeeze(1)
        return actions, log_probs, out.value


def sample(probs: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One index per row of ``probs`` (N, A; every row with a positive sum), drawn with those
    probabilities by inverting the cumulative sum at one uniform number a row: on one CPU thread
    about 20 times faster than ``torch.multinomial`` over the flat action space, which draws an
    exponential variate for each of the A entries (``benchmarks/action_sampling.py``). An entry of
    probability 0 is never drawn: its cumulative sum equals the one before it, and the uniform is
    kept strictly below the row's total."""
    cdf = probs.cumsum(dim=1)
    total = cdf[:, -1:]
    uniform = torch.rand(total.shape, generator=generator, device=probs.device, dtype=probs.dtype)
    point = torch.minimum(uniform * total, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, point, right=True).squeeze(1)


def bf16_supported(device: torch.device | str) -> bool:
    """Whether bf16 autocast speeds ``device`` up: CUDA, or a CPU with native bf16 instructions
    (AVX512-BF16 or AMX: about twice as fast as float32 there); elsewhere bf16 is emulated."""
    device = torch.device(device)
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def autocast(device: torch.device | str, enabled: bool = True) -> torch.autocast:
    """bf16 autocast on ``device`` when ``enabled`` and ``bf16_supported``, else a no-op context.
    Acting and learning under the same setting give the same log-probabilities (bf16 results do
    not depend on the batch size), so an unchanged network still has ratio 1."""
    device = torch.device(device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and bf16_supported(device))


def masked_logits(logits: Tensor, mask: Tensor) -> Tensor:
    """Logits with illegal actions at -inf (``mask`` bool (N, A); pass is always legal)."""
    return logits.masked_fill(~mask, float("-inf"))


NORMS = ("group", "none")
"""What may follow each convolution of a trunk (``ResNetConfig.norm``)."""


@dataclass(frozen=True)
class ResNetConfig:
    """A residual tower: ``blocks`` 3x3 residual blocks of ``channels`` channels.

    ``global_context``: the move head also sees the board-wide pooled features (added to every
    tile as a learned per-channel bias), so a move can depend on what lies beyond the tower's
    receptive field (2 * blocks + 1 tiles each way), such as whether this is the largest army.
    ``distance_features``: the input also holds ``distance_planes`` (which way the nearest land to
    take and the nearest enemy lie, however far).
    ``general_distance``: with ``distance_features``, a third distance plane: to the player's own
    general (which way home is, however far: where to bring armies back to defend it).
    ``target_distance``: with ``distance_features`` and ``memory``, one more distance plane: to
    where the enemy general was seen or most likely stands (``tactics.likely_general``, where the
    ``raider`` bot attacks: with it the policy sees the fields the raider moves by).
    ``memory``: the input also holds ``memory.memory_planes`` (what was last seen where, and how
    long ago), so the policy can go back to enemy land and a general it saw before.
    ``general_head``: one more head, per-tile logits of where the enemy general stands
    (``PolicyOutput.general``), which the learner trains against the true tile the collector
    knows (an auxiliary task, as UNREAL's): the moves do not read it, but the trunk's features
    learn to say where the general likely is.
    ``norm``: after each convolution of the trunk, ``group`` (a group norm over the whole board,
    one group) or ``none``; without norms each residual block's last convolution starts at zero,
    so every block starts as the identity (as SkipInit and Fixup do), and a bf16 forward and
    backward pass skips the float32 round trips a norm takes.
    """

    channels: int = 64
    blocks: int = 6
    global_context: bool = False
    distance_features: bool = False
    general_distance: bool = False
    memory: bool = False
    target_distance: bool = False
    general_head: bool = False
    norm: str = "group"

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if not 1 <= self.channels <= 1024 or not 0 <= self.blocks <= 64:
            raise ValueError(f"channels must lie in 1..1024 and blocks in 0..64, got {self}")
        if self.general_distance and not self.distance_features:
            raise ValueError("general_distance is a third distance plane: it needs distance_features")
        if self.target_distance and not (self.distance_features and self.memory):
            raise ValueError("target_distance is read from the memory: it needs distance_features and memory")


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.GroupNorm(1, channels) if kind == "group" else nn.Identity()


class _Residual(nn.Module):
    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm1 = _norm(norm, channels)
        self.norm2 = _norm(norm, channels)
        if norm == "none":  # the block starts as the identity
            nn.init.zeros_(self.conv2.weight)
            assert self.conv2.bias is not None
            nn.init.zeros_(self.conv2.bias)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(x + y)


class ConvPolicy(PolicyNetwork):
    """What every convolutional policy shares: the input planes its config asks for (``features``,
    ``distance_planes``, the memory planes) and the heads over its trunk's full-resolution
    features (a 1x1 conv gives the 8 move planes; pooled mean and max give the pass logit, the
    value and, with ``global_context``, a per-channel bias of the move head). Subclasses define
    ``build_trunk`` (its layers, made before the heads', so a seed gives the same weights as
    before the heads were shared) and ``trunk``: input planes (N, ``input_planes``, H, W) to
    features (N, ``channels``, H, W)."""

    def __init__(self, config: ResNetConfig) -> None:
        super().__init__(config)
        self.build_trunk()
        c = config.channels
        self.moves = nn.Conv2d(c, MOVE_PLANES, 1)
        self.pooled = nn.Sequential(nn.Linear(2 * c, c), nn.ReLU())
        self.pass_logit = nn.Linear(c, 1)
        self.value = nn.Linear(c, 1)
        self.context = nn.Linear(c, c) if config.global_context else None
        self.general = nn.Conv2d(c, 1, 1) if config.general_head else None

    @property
    def input_planes(self) -> int:
        distances = DISTANCE_PLANES + int(self.config.general_distance) + int(self.config.target_distance)
        planes = NUM_FEATURES + (distances if self.config.distance_features else 0)
        return planes + (MEMORY_PLANES if self.config.memory else 0)

    @property
    def uses_memory(self) -> bool:
        return bool(self.config.memory)

    @property
    def predicts_general(self) -> bool:
        return bool(self.config.general_head)

    def build_trunk(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def trunk(self, x: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, obs: Observation, memory: Tensor | None = None) -> PolicyOutput:
        x = features(obs)
        if self.config.memory and memory is None:  # nothing seen before this observation
            n, h, w = obs.armies.shape
            memory = remember(empty_memory(n, h, w, obs.armies.device), obs)
        if self.config.distance_features:
            target = (
                likely_general(memory, obs) if memory is not None and self.config.target_distance else None
            )
            x = torch.cat(
                [x, distance_planes(obs, own_general=self.config.general_distance, target=target)], dim=1
            )
        if self.config.memory:
            assert memory is not None
            x = torch.cat([x, memory_planes(memory, obs)], dim=1)
        x = self.trunk(x)
        n = x.shape[0]
        pooled = self.pooled(torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1))
        if self.context is not None:
            x = F.relu(x + self.context(pooled).view(n, -1, 1, 1))
        moves = self.moves(x).flatten(1)  # (N, 8 * H * W), half-major then direction then tile
        logits = torch.cat([self.pass_logit(pooled), moves], dim=1)
        general = self.general(x).flatten(1) if self.general is not None else None
        return PolicyOutput(
            logits=masked_logits(logits, obs.action_mask), value=self.value(pooled).view(n), general=general
        )


def _conv(inputs: int, outputs: int, norm: str, stride: int = 1) -> nn.Sequential:
    """3x3 convolution, the norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1), _norm(norm, outputs), nn.ReLU()
    )


def _tower(channels: int, blocks: int, norm: str) -> nn.Sequential:
    return nn.Sequential(*[_Residual(channels, norm) for _ in range(blocks)])


class ResNetPolicy(ConvPolicy):
    """A residual tower at full resolution (its receptive field: ``2 * blocks + 1`` tiles each
    way). Group norm (or none), not batch norm: the same output in training and acting."""

    arch_id = "resnet-v1"
    config_type = ResNetConfig

    def __init__(self, config: ResNetConfig | None = None) -> None:
        super().__init__(config or ResNetConfig())

    def build_trunk(self) -> None:
        c, norm = self.config.channels, self.config.norm
        self.stem = _conv(self.input_planes, c, norm)
        self.tower = _tower(c, self.config.blocks, norm)

    def trunk(self, x: Tensor) -> Tensor:
        return self.tower(self.stem(x))


@dataclass(frozen=True)
class UNetConfig(ResNetConfig):
    """A U-Net: ``blocks`` residual blocks at full resolution (as ``ResNetConfig``), then ``levels``
    times a stride-2 3x3 convolution halves the board (23 -> 12 -> 6) and ``level_blocks``
    residual blocks run there; on the way back up each level is added to the one above and mixed
    by a 3x3 convolution. Every level is ``channels`` wide. At the defaults a tile's features
    depend on tiles up to 16 rows or columns away (from the middle of a 23x23 board: all of it;
    a tower of two residual blocks: 5), for less work than such a tower, since a level holds a
    quarter of the tiles of the one above. The other fields are ``ResNetConfig``'s."""

    channels: int = 16
    blocks: int = 0
    levels: int = 2
    level_blocks: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.levels <= 4 or not 0 <= self.level_blocks <= 16:
            raise ValueError(f"levels must lie in 0..4 and level_blocks in 0..16, got {self}")


class UNetPolicy(ResNetPolicy):
    """``UNetConfig``'s U-Net: the residual tower's trunk at full resolution, then the levels
    below it; ``ConvPolicy``'s heads. The config's norm throughout."""

    arch_id = "unet-v1"
    config_type = UNetConfig

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__(config or UNetConfig())

    def build_trunk(self) -> None:
        super().build_trunk()
        c, levels, blocks = self.config.channels, self.config.levels, self.config.level_blocks
        norm = self.config.norm
        self.downs = nn.ModuleList(
            nn.Sequential(_conv(c, c, norm, stride=2), *_tower(c, blocks, norm)) for _ in range(levels)
        )
        self.ups = nn.ModuleList(_conv(c, c, norm) for _ in range(levels))

    def trunk(self, x: Tensor) -> Tensor:
        levels = [super().trunk(x)]
        for down in self.downs:
            levels.append(down(levels[-1]))
        x = levels.pop()
        for up, above in zip(self.ups, reversed(levels), strict=True):
            x = up(above + F.interpolate(x, size=above.shape[-2:], mode="nearest"))
        return x


ARCHITECTURES: dict[str, Callable[[Any], PolicyNetwork]] = {
    ResNetPolicy.arch_id: ResNetPolicy,
    UNetPolicy.arch_id: UNetPolicy,
}
CONFIGS: dict[str, type] = {ResNetPolicy.arch_id: ResNetConfig, UNetPolicy.arch_id: UNetConfig}


def build(arch_id: str, config_json: str | dict[str, Any] = "{}") -> PolicyNetwork:
    """A fresh network of a registered architecture from its config (JSON text or a dict)."""
    if arch_id not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {arch_id!r}: choose one of {', '.join(sorted(ARCHITECTURES))}"
        )
    try:
        values = json.loads(config_json) if isinstance(config_json, str) else dict(config_json)
        config = CONFIGS[arch_id](**values)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"bad config for {arch_id}: {error}") from None
    return ARCHITECTURES[arch_id](config)


def parameter_count(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())
