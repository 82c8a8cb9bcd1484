"""Maps: the terrain a game starts on, batched like the state, plus the map text format.

Text format (compatible with generals-bots' grid strings), one character a tile, one line a row:

    .      plain tile
    #      mountain
    A..H   the general of player 0..7
    0..9   a city with 40..49 army
    x      a city with 50 army

Blank lines and surrounding white space are ignored; every row must be as long as the first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from generals_rl.game.state import MAX_PLAYERS, NEUTRAL, GameState

MAX_SIDE = 64
"""Largest map side the engine plays (64x64 = 4,096 tiles)."""

MAX_INITIAL_ARMY = 100_000
"""Largest starting army of a tile. No army can reach int32's limit: player armies come only from
the generals' 1 and growth (combat destroys army, and taking a neutral tile costs its army), so a
tile holds at most its garrison or 8 + tiles * (ticks / 2 + ticks / 50), about 2.1e8 on 64x64
tiles in the engine's 100,000-tick limit."""


CITY_CHARS = "0123456789x"


class MapError(ValueError):
    """A map that cannot be played: bad characters, a missing general, a general out of reach."""


@dataclass(frozen=True)
class Maps:
    """B maps on one padded (H, W) board.

    Attributes:
        mountains: bool (B, H, W), padding included.
        cities: bool (B, H, W).
        armies: int32 (B, H, W), starting army of neutral tiles (city garrisons; official v7+
            replays may also place neutral armies on plain tiles).
        generals: int64 (B, P), flat tile index of each player's general.
        size: int64 (B, 2), real (height, width).
    """

    mountains: Tensor
    cities: Tensor
    armies: Tensor
    generals: Tensor
    size: Tensor

    @property
    def batch_size(self) -> int:
        return int(self.mountains.shape[0])

    @property
    def num_players(self) -> int:
        return int(self.generals.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mountains.shape[1]), int(self.mountains.shape[2])

    def tensors(self) -> dict[str, Tensor]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to(self, device: torch.device | str) -> Maps:
        return Maps(**{k: v.to(device) for k, v in self.tensors().items()})

    def select(self, index: Tensor | slice | int) -> Maps:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Maps(**{k: v[index] for k, v in self.tensors().items()})

    def pad(self, height: int, width: int) -> Maps:
        """The same maps on a larger board, padded with mountains at the bottom and right."""
        h, w = self.shape
        if height < h or width < w:
            raise MapError(f"cannot pad a {h}x{w} board to a smaller {height}x{width}")
        if (height, width) == (h, w):
            return self

        def grow(t: Tensor, fill: int | bool) -> Tensor:
            out = torch.full((t.shape[0], height, width), fill, dtype=t.dtype, device=t.device)
            out[:, :h, :w] = t
            return out

        rows, cols = self.generals // w, self.generals % w
        generals = torch.where(self.generals >= 0, rows * width + cols, self.generals)
        return Maps(
            mountains=grow(self.mountains, True),
            cities=grow(self.cities, False),
            armies=grow(self.armies, 0),
            generals=generals,
            size=self.size,
        )

    @staticmethod
    def cat(maps: list[Maps]) -> Maps:
        """One batch from several, padded to the largest board."""
        players = {m.num_players for m in maps}
        if len(players) != 1:
            raise MapError(f"maps in one batch need the same number of players, got {sorted(players)}")
        height = max(m.shape[0] for m in maps)
        width = max(m.shape[1] for m in maps)
        padded = [m.pad(height, width) for m in maps]
        return Maps(**{k: torch.cat([getattr(m, k) for m in padded]) for k in padded[0].tensors()})

    def to_string(self, index: int = 0) -> str:
        """The map ``index`` in the text format (its real size, padding dropped)."""
        h, w = (int(v) for v in self.size[index])
        _, width = self.shape
        general_at = {int(g): p for p, g in enumerate(self.generals[index].tolist()) if g >= 0}
        mountains = self.mountains[index].tolist()
        cities = self.cities[index].tolist()
        armies = self.armies[index].tolist()
        rows = []
        for r in range(h):
            row = []
            for c in range(w):
                if r * width + c in general_at:
                    row.append(chr(ord("A") + general_at[r * width + c]))
                elif mountains[r][c]:
                    row.append("#")
                elif cities[r][c]:
                    row.append(_city_char(armies[r][c]))
                else:
                    row.append(".")
            rows.append("".join(row))
        return "\n".join(rows)

    @staticmethod
    def from_string(text: str, pad_to: tuple[int, int] | None = None) -> Maps:
        """Parse one map in the text format (a batch of one)."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines:
            raise MapError("the map text is empty")
        h, w = len(lines), len(lines[0])
        for r, line in enumerate(lines):
            if len(line) != w:
                raise MapError(f"row {r} has {len(line)} tiles, row 0 has {w}: every row must be as long")
        mountains = torch.zeros(1, h, w, dtype=torch.bool)
        cities = torch.zeros(1, h, w, dtype=torch.bool)
        armies = torch.zeros(1, h, w, dtype=torch.int32)
        generals: dict[int, int] = {}
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                if ch == ".":
                    continue
                if ch == "#":
                    mountains[0, r, c] = True
                elif ch in CITY_CHARS:
                    cities[0, r, c] = True
                    armies[0, r, c] = 50 if ch == "x" else 40 + int(ch)
                elif "A" <= ch <= chr(ord("A") + MAX_PLAYERS - 1):
                    player = ord(ch) - ord("A")
                    if player in generals:
                        raise MapError(f"general {ch!r} appears twice (row {r}, col {c})")
                    generals[player] = r * w + c
                else:
                    raise MapError(f"unknown tile {ch!r} at row {r}, col {c}: use . # A-H 0-9 x")
        if len(generals) < 2:
            raise MapError(f"a map needs at least two generals (A and B), found {len(generals)}")
        if sorted(generals) != list(range(len(generals))):
            raise MapError(f"generals must be consecutive letters from A, found {sorted(generals)}")
        maps = Maps(
            mountains=mountains,
            cities=cities,
            armies=armies,
            generals=torch.tensor([[generals[p] for p in range(len(generals))]], dtype=torch.int64),
            size=torch.tensor([[h, w]], dtype=torch.int64),
        )
        maps.validate()
        return maps.pad(*pad_to) if pad_to else maps

    @staticmethod
    def load(path: str | Path, pad_to: tuple[int, int] | None = None) -> Maps:
        """Read a map file in the text format."""
        return Maps.from_string(Path(path).read_text(encoding="utf-8"), pad_to=pad_to)

    def save(self, path: str | Path, index: int = 0) -> None:
        Path(path).write_text(self.to_string(index) + "\n", encoding="utf-8")

    def validate(self) -> None:
        """Raise ``MapError`` unless every map is playable: generals on free tiles, all reachable."""
        h, w = self.shape
        if h > MAX_SIDE or w > MAX_SIDE:
            raise MapError(f"maps can be at most {MAX_SIDE}x{MAX_SIDE}, got a {h}x{w} board")
        if int(self.armies.min()) < 0 or int(self.armies.max()) > MAX_INITIAL_ARMY:
            raise MapError(f"starting armies must lie in 0..{MAX_INITIAL_ARMY}")
        reach = reachable_from(self.generals[:, :1], ~self.mountains)
        flat_mountains = self.mountains.flatten(1)
        for b in range(self.batch_size):
            for p, g in enumerate(self.generals[b].tolist()):
                if g < 0 or g >= flat_mountains.shape[1] or flat_mountains[b, g]:
                    raise MapError(f"map {b}: general {p} is not on a free tile")
                if not reach[b, g]:
                    raise MapError(f"map {b}: general {p} cannot be reached from general 0")


def _city_char(army: int) -> str:
    if army >= 50:
        return "x"
    return str(min(max(army - 40, 0), 9))


def reachable_from(start: Tensor, passable: Tensor) -> Tensor:
    """bool (B, H*W): tiles connected to any of ``start`` (B, K) through ``passable`` (B, H, W)."""
    return bfs_distances(start, passable) >= 0


def bfs_distances(start: Tensor, passable: Tensor, limit: int | None = None) -> Tensor:
    """int32 (B, H*W): 4-neighbour walking steps from ``start`` (B, K flat indices, -1 ignored)
    through ``passable`` tiles; -1 where unreachable (or beyond ``limit``). Batched on any device."""
    b, h, w = passable.shape
    dist = torch.full((b, h * w), -1, dtype=torch.int32, device=passable.device)
    # Ignored starts (-1) write into a spare last column, never over a real start at tile 0.
    frontier = torch.zeros(b, h * w + 1, dtype=torch.bool, device=passable.device)
    frontier.scatter_(1, torch.where(start >= 0, start, h * w), True)
    frontier = frontier[:, : h * w] & passable.flatten(1)
    dist[frontier] = 0
    seen = frontier.clone()
    flat_passable = passable.flatten(1)
    step = 0
    while bool(frontier.any()) and (limit is None or step < limit):
        step += 1
        grid = frontier.view(b, h, w)
        grown = torch.zeros_like(grid)
        grown[:, 1:] |= grid[:, :-1]
        grown[:, :-1] |= grid[:, 1:]
        grown[:, :, 1:] |= grid[:, :, :-1]
        grown[:, :, :-1] |= grid[:, :, 1:]
        frontier = grown.flatten(1) & flat_passable & ~seen
        seen |= frontier
        dist[frontier] = step
    return dist


def initial_state(maps: Maps, teams: Tensor | None = None) -> GameState:
    """The state at tick 0: each general owned by its player with 1 army."""
    b, p = maps.batch_size, maps.num_players
    device = maps.mountains.device
    owner = torch.full(maps.mountains.shape, NEUTRAL, dtype=torch.int8, device=device)
    armies = maps.armies.clone()
    flat_owner = owner.view(b, -1)
    flat_armies = armies.view(b, -1)
    players = torch.arange(p, device=device, dtype=torch.int8).expand(b, p)
    flat_owner.scatter_(1, maps.generals, players)
    flat_armies.scatter_(1, maps.generals, torch.ones(b, p, dtype=torch.int32, device=device))
    if teams is None:
        teams = torch.arange(p, device=device).expand(b, p).clone()
    else:
        teams = torch.as_tensor(teams, dtype=torch.int64, device=device).expand(b, p).clone()
    return GameState(
        armies=armies,
        owner=owner,
        mountains=maps.mountains.clone(),
        cities=maps.cities.clone(),
        generals=maps.generals.clone(),
        alive=torch.ones(b, p, dtype=torch.bool, device=device),
        teams=teams,
        tick=torch.zeros(b, dtype=torch.int64, device=device),
        done=torch.zeros(b, dtype=torch.bool, device=device),
        winner=torch.full((b,), -1, dtype=torch.int64, device=device),
        map_size=maps.size.clone(),
    )
