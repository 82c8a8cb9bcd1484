"""Seeded, batched map generators (RULES 19): a generals.io-like 1v1 generator and FFA maps.

The official generator is not public; this one follows what 1v1 maps look like (RULES 19) and
generates a whole batch at once with tensor operations, on any device:

1. a side length per map, mountains at a per-map density, cities with garrisons;
2. the first general on a random free tile, each next one on a random free tile at least
   ``min_distance`` walking steps (BFS avoiding mountains and cities) from every earlier one;
3. tiles cut off from the generals become mountains, so every tile of the map can be reached;
4. fairness: the free tiles within ``fair_radius`` steps of each general differ by at most
   ``fair_tolerance`` (a fraction of the largest count) and each general has ``min_room`` of them.

Maps that fail a check are drawn again (only those). The same seed on the same device gives
the same maps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.game.maps import MapError, Maps, bfs_distances
from generals_rl.game.state import MAX_PLAYERS

MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class MapConfig:
    """How to draw maps. Ranges are inclusive ``(low, high)``; each map draws its own value."""

    players: int = 2
    side: tuple[int, int] = (18, 23)
    mountain_density: tuple[float, float] = (0.18, 0.26)
    cities: tuple[int, int] = (9, 11)
    city_army: tuple[int, int] = (40, 50)
    min_distance: tuple[int, int] = (15, 20)
    fair_radius: int = 6
    fair_tolerance: float = 0.25
    min_room: int = 12

    def __post_init__(self) -> None:
        if not 2 <= self.players <= MAX_PLAYERS:
            raise ValueError(f"players must lie in 2..{MAX_PLAYERS}, got {self.players}")
        for name in ("side", "mountain_density", "cities", "city_army", "min_distance"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: low {low} is above high {high}")
        if self.side[0] < 4:
            raise ValueError(f"maps need a side of at least 4, got {self.side[0]}")
        if not 0 <= self.mountain_density[1] < 0.6:
            raise ValueError("mountain density must lie in [0, 0.6)")

    @staticmethod
    def generalsio_1v1() -> MapConfig:
        """The generals.io-like 1v1 map of RULES 19 (the default)."""
        return MapConfig()

    @staticmethod
    def ffa(players: int) -> MapConfig:
        """Free-for-all maps: larger, more cities, generals closer together as players grow."""
        if not 2 <= players <= MAX_PLAYERS:
            raise ValueError(f"players must lie in 2..{MAX_PLAYERS}, got {players}")
        side = (16 + players, 20 + players)
        min_distance = {2: 15, 3: 12, 4: 11, 5: 9, 6: 8, 7: 7, 8: 7}[players]
        return MapConfig(
            players=players,
            side=side,
            mountain_density=(0.18, 0.24),
            cities=(3 * players, 3 * players + 3),
            min_distance=(min_distance, min_distance + 2),
            fair_radius=4,
            fair_tolerance=0.45,
            min_room=8,
        )

    def with_side(self, side: int) -> MapConfig:
        """The same config on square maps of one fixed side. On maps smaller than the config's,
        the city count and fair room shrink with the area, distances with the side."""
        scale = min(1.0, side / self.side[0])
        if scale == 1.0:
            return dataclasses.replace(self, side=(side, side))
        area = scale * scale
        return dataclasses.replace(
            self,
            side=(side, side),
            cities=(round(self.cities[0] * area), round(self.cities[1] * area)),
            min_distance=(
                max(2, int(self.min_distance[0] * scale)),
                max(2, int(self.min_distance[1] * scale)),
            ),
            fair_radius=max(2, round(self.fair_radius * scale)),
            min_room=max(1, round(self.min_room * area)),
        )


def _uniform_int(low: int, high: int, n: int, gen: torch.Generator, device: torch.device) -> Tensor:
    return torch.randint(low, high + 1, (n,), generator=gen, device=device)


def _uniform_float(low: float, high: float, n: int, gen: torch.Generator, device: torch.device) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=gen, device=device)


def _pick(candidates: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """One uniformly random true index per row of ``candidates`` (B, N); and whether any exists."""
    scores = torch.rand(candidates.shape, generator=gen, device=candidates.device)
    scores = torch.where(candidates, scores, torch.full_like(scores, -1.0))
    return scores.argmax(dim=1), candidates.any(dim=1)


def _draw(
    n: int, config: MapConfig, height: int, width: int, gen: torch.Generator, device: torch.device
) -> tuple[Maps, Tensor]:
    """Draw ``n`` maps on an (height, width) board; returns them and which passed every check."""
    p = config.players
    rows = torch.arange(height, device=device).view(1, -1, 1)
    cols = torch.arange(width, device=device).view(1, 1, -1)
    h = _uniform_int(*config.side, n, gen, device)
    w = _uniform_int(*config.side, n, gen, device)
    inside = (rows < h.view(-1, 1, 1)) & (cols < w.view(-1, 1, 1))

    # Exactly round(density * area) mountains on each real map (the lowest random scores inside it),
    # so that the share lies in the configured range; cut-off tiles may add more (checked below).
    density = _uniform_float(*config.mountain_density, n, gen, device)
    area = (h * w).double()
    low = torch.ceil(config.mountain_density[0] * area)
    high = torch.floor(config.mountain_density[1] * area)
    count = torch.minimum(torch.maximum((density.double() * area).round(), low), high)
    noise = torch.rand(n, height * width, generator=gen, device=device)
    noise = torch.where(inside.view(n, -1), noise, torch.full_like(noise, 2.0))
    placed = noise.argsort(dim=1).argsort(dim=1) < count.view(-1, 1)
    mountains = placed.view(n, height, width) | ~inside

    # Cities: the k best of random scores among free tiles, k drawn per map.
    k = _uniform_int(*config.cities, n, gen, device)
    scores = torch.rand(n, height * width, generator=gen, device=device)
    scores = torch.where(mountains.view(n, -1), torch.full_like(scores, -1.0), scores)
    rank = scores.argsort(dim=1, descending=True).argsort(dim=1)
    cities = ((rank < k.view(-1, 1)) & (scores >= 0)).view(n, height, width)
    garrison = _uniform_int(*config.city_army, n * height * width, gen, device).view(n, height, width)
    armies = torch.where(cities, garrison, torch.zeros_like(garrison)).to(torch.int32)

    free = ~mountains & ~cities
    min_distance = _uniform_int(*config.min_distance, n, gen, device)
    ok = torch.ones(n, dtype=torch.bool, device=device)
    generals = torch.full((n, p), -1, dtype=torch.int64, device=device)
    far_from_all = free.view(n, -1).clone()
    distances = []
    for q in range(p):
        g, found = _pick(far_from_all, gen)
        ok &= found
        generals[:, q] = g
        dist = bfs_distances(g.unsqueeze(1), free)
        distances.append(dist)
        far_from_all &= dist >= min_distance.view(-1, 1)

    # Tiles the generals cannot reach (through cities too) become mountains.
    reach = bfs_distances(generals[:, :1], ~mountains) >= 0
    cut_off = ~reach.view(n, height, width) & ~mountains
    mountains |= cut_off
    cities &= ~cut_off
    armies = torch.where(cut_off, torch.zeros_like(armies), armies)
    ok &= cities.view(n, -1).sum(1) >= config.cities[0]
    share = (mountains & inside).view(n, -1).sum(1).double() / area
    ok &= (share >= config.mountain_density[0]) & (share <= config.mountain_density[1])
    ok &= reach.gather(1, generals.clamp(min=0)).all(dim=1)

    room = torch.stack([((d >= 1) & (d <= config.fair_radius)).sum(1) for d in distances], dim=1).to(
        torch.float32
    )
    ok &= room.min(dim=1).values >= config.min_room
    ok &= (room.max(dim=1).values - room.min(dim=1).values) <= config.fair_tolerance * room.max(dim=1).values

    size = torch.stack([h, w], dim=1)
    return Maps(mountains=mountains, cities=cities, armies=armies, generals=generals, size=size), ok


def generate_maps(
    batch: int,
    config: MapConfig | None = None,
    seed: int | None = None,
    pad_to: tuple[int, int] | None = None,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> Maps:
    """Draw ``batch`` maps, padded to ``pad_to`` (default: the largest side of the config).

    Pass ``seed`` for reproducible maps, or a ``generator`` to continue a stream of maps.
    """
    config = config or MapConfig()
    device = torch.device(device)
    height, width = pad_to or (config.side[1], config.side[1])
    if height < config.side[1] or width < config.side[1]:
        raise MapError(f"pad_to {height}x{width} is smaller than the largest map side {config.side[1]}")
    if generator is None:
        generator = torch.Generator(device=device)
        generator.manual_seed(seed if seed is not None else int(torch.seed() % 2**63))
    result: Maps | None = None
    todo = torch.arange(batch, device=device)
    for _ in range(MAX_ATTEMPTS):
        maps, ok = _draw(len(todo), config, height, width, generator, device)
        if result is None:
            result = maps
        else:
            for name, tensor in result.tensors().items():
                tensor[todo[ok]] = getattr(maps, name)[ok]
        todo = todo[~ok]
        if len(todo) == 0:
            return result
    raise MapError(
        f"could not draw {len(todo)} of {batch} maps in {MAX_ATTEMPTS} attempts: relax the MapConfig"
    )


class MapPool:
    """An endless, seeded stream of generated maps, drawn in blocks so that auto-resetting a few
    games at a time costs little. ``take(k)`` returns the next ``k`` maps."""

    def __init__(
        self,
        config: MapConfig | None = None,
        seed: int | None = None,
        pad_to: tuple[int, int] | None = None,
        device: torch.device | str = "cpu",
        block: int = 1024,
    ) -> None:
        self.config = config or MapConfig()
        self.pad_to = pad_to or (self.config.side[1], self.config.side[1])
        self.device = torch.device(device)
        self.block = block
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed if seed is not None else int(torch.seed() % 2**63))
        self._maps: Maps | None = None
        self._next = 0

    def take(self, k: int) -> Maps:
        parts = []
        while k > 0:
            if self._maps is None or self._next >= self._maps.batch_size:
                self._maps = generate_maps(
                    max(self.block, k),
                    self.config,
                    pad_to=self.pad_to,
                    device=self.device,
                    generator=self.generator,
                )
                self._next = 0
            n = min(k, self._maps.batch_size - self._next)
            parts.append(self._maps.select(slice(self._next, self._next + n)))
            self._next += n
            k -= n
        return parts[0] if len(parts) == 1 else Maps.cat(parts)
