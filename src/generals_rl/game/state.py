"""The batched game state: B games of generals.io held as tensors.

Every tensor's first dimension is the batch. Boards are padded to one shape (H, W) per batch;
tiles outside a game's real map are mountains, so games of different sizes share a batch.
A tile is addressed by its flat index ``row * W + col`` on the padded board.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

NEUTRAL = -1
"""Owner code of a tile nobody owns (also the official code for an empty tile)."""

MOUNTAIN_CODE = -2
"""Official terrain code of a mountain in replays and traces."""

FOG_CODE = -3
"""Official terrain code of a fogged tile."""

FOG_OBSTACLE_CODE = -4
"""Official terrain code of a fogged mountain or city."""

MAX_PLAYERS = 8

DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Row and column offsets of the four directions, in action order: up, down, left, right."""


@dataclass(frozen=True)
class GameState:
    """B games at one instant. Treat as immutable: the engine returns new states.

    Attributes:
        armies: int32 (B, H, W), army on every tile.
        owner: int8 (B, H, W), owning player index, or ``NEUTRAL``.
        mountains: bool (B, H, W), mountains, padding included.
        cities: bool (B, H, W), cities (captured generals become cities).
        generals: int64 (B, P), flat tile index of each player's general, -1 once captured or
            neutralized.
        alive: bool (B, P), players not eliminated.
        teams: int64 (B, P), team of each player (its own index when there are no teams).
        tick: int64 (B,), ticks played.
        done: bool (B,), the game is over (a winner, or truncated).
        winner: int64 (B,), team that won, -1 while playing or after a draw.
        map_size: int64 (B, 2), the real (height, width) of each map before padding.
    """

    armies: Tensor
    owner: Tensor
    mountains: Tensor
    cities: Tensor
    generals: Tensor
    alive: Tensor
    teams: Tensor
    tick: Tensor
    done: Tensor
    winner: Tensor
    map_size: Tensor

    @property
    def batch_size(self) -> int:
        return int(self.armies.shape[0])

    @property
    def num_players(self) -> int:
        return int(self.generals.shape[1])

    @property
    def height(self) -> int:
        return int(self.armies.shape[1])

    @property
    def width(self) -> int:
        return int(self.armies.shape[2])

    @property
    def num_tiles(self) -> int:
        return self.height * self.width

    @property
    def device(self) -> torch.device:
        return self.armies.device

    def tensors(self) -> dict[str, Tensor]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Tensor) -> GameState:
        return dataclasses.replace(self, **changes)

    def clone(self) -> GameState:
        return GameState(**{k: v.clone() for k, v in self.tensors().items()})

    def to(self, device: torch.device | str) -> GameState:
        return GameState(**{k: v.to(device) for k, v in self.tensors().items()})

    def select(self, index: Tensor | slice | int) -> GameState:
        """The games at ``index`` (a batch of one for an int)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return GameState(**{k: v[index] for k, v in self.tensors().items()})

    def where(self, mask: Tensor, other: GameState) -> GameState:
        """Per game: ``other`` where ``mask`` (B,) is true, else ``self``."""
        out = {}
        for name, mine in self.tensors().items():
            theirs = getattr(other, name)
            m = mask.view(-1, *([1] * (mine.dim() - 1)))
            out[name] = torch.where(m, theirs, mine)
        return GameState(**out)

    @staticmethod
    def cat(states: list[GameState]) -> GameState:
        """One batch from several (same padded size and player count)."""
        first = states[0]
        return GameState(**{name: torch.cat([getattr(s, name) for s in states]) for name in first.tensors()})

    def in_bounds(self) -> Tensor:
        """bool (B, H, W): tiles inside each game's real map."""
        rows = torch.arange(self.height, device=self.device).view(1, -1, 1)
        cols = torch.arange(self.width, device=self.device).view(1, 1, -1)
        h = self.map_size[:, 0].view(-1, 1, 1)
        w = self.map_size[:, 1].view(-1, 1, 1)
        return (rows < h) & (cols < w)

    def general_tiles(self) -> Tensor:
        """bool (B, H, W): tiles holding a live general."""
        # A captured general (-1) writes into a spare last column: a write of False to tile 0
        # would race with a live general's True there (scatter_ keeps an arbitrary one).
        n = self.num_tiles
        flat = torch.zeros(self.batch_size, n + 1, dtype=torch.bool, device=self.device)
        flat.scatter_(1, torch.where(self.generals >= 0, self.generals, n), True)
        return flat[:, :n].reshape(self.cities.shape)

    def land(self) -> Tensor:
        """int64 (B, P): tiles owned by each player."""
        return self._per_player(torch.ones_like(self.armies))

    def army(self) -> Tensor:
        """int64 (B, P): total army of each player."""
        return self._per_player(self.armies)

    def _per_player(self, values: Tensor) -> Tensor:
        players = torch.arange(self.num_players, device=self.device, dtype=self.owner.dtype)
        owned = self.owner.view(self.batch_size, 1, -1) == players.view(1, -1, 1)
        return (owned * values.view(self.batch_size, 1, -1)).sum(-1, dtype=torch.int64)

    def owner_codes(self) -> Tensor:
        """int64 (B, H, W): owners in the official codes (player >= 0, -1 neutral, -2 mountain)."""
        codes = self.owner.long()
        return torch.where(self.mountains, torch.full_like(codes, MOUNTAIN_CODE), codes)
