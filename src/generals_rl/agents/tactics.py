"""Batched building blocks of the scripted bots: a board read from one seat's observation,
neighbour shifts, distance fields, move scores and the greedy expansion both bots share.

Bots score every full move ``(direction, tile)`` of every game as an int32 tensor (B, 4, H, W),
``NO_MOVE`` where they do not want it; ``choose`` keeps the legal ones and takes the best per game,
or passes. A score packs (layer, value, noise) into one integer (``score``), so one argmax picks the
move of the most urgent behaviour layer that has one, then the best value, then seeded noise breaks
ties. int32 rather than float64 halves the memory traffic, which is what the bots' time goes to.
Nothing here loops over games.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.game.observations import PLANE, Observation

NO_MOVE = -1
"""Score of a move a bot does not want."""

NOISE_BITS = 5
VALUE_BITS = 20
MAX_VALUE = (1 << VALUE_BITS) - 1
MAX_LAYER = 62
"""Layers 0..62 and values 0..MAX_VALUE fit a nonnegative int32 score."""


@dataclass(frozen=True)
class Board:
    """One seat's fogged view of B games, unpacked. Every field is (B, H, W); armies int32.

    ``obstacle`` is a fogged mountain or city, ``walkable`` what is not known to block a path.
    """

    armies: Tensor
    mine: Tensor
    ally: Tensor
    enemy: Tensor
    neutral: Tensor
    mountain: Tensor
    city: Tensor
    general: Tensor
    fog: Tensor
    obstacle: Tensor

    @staticmethod
    def of(obs: Observation) -> Board:
        planes = obs.planes
        return Board(
            armies=obs.armies.to(torch.int32),
            **{
                name: planes[:, PLANE[name]]
                for name in (
                    "mine",
                    "ally",
                    "enemy",
                    "neutral",
                    "mountain",
                    "city",
                    "general",
                    "fog",
                )
            },
            obstacle=planes[:, PLANE["obstacle_in_fog"]],
        )

    @property
    def friendly(self) -> Tensor:
        return self.mine | self.ally

    @property
    def walkable(self) -> Tensor:
        return ~self.mountain & ~self.obstacle

    @property
    def movable(self) -> Tensor:
        """Own tiles that can move (at least 2 army)."""
        return self.mine & (self.armies >= 2)


def shift(x: Tensor, fill: float | int | bool) -> Tensor:
    """(B, 4, H, W): for each tile, the value of ``x`` (B, H, W) at its neighbour up, down, left,
    right (``fill`` off the board), in action direction order."""
    b, h, w = x.shape
    out = torch.full((b, 4, h, w), fill, dtype=x.dtype, device=x.device)
    out[:, 0, 1:, :] = x[:, :-1, :]
    out[:, 1, :-1, :] = x[:, 1:, :]
    out[:, 2, :, 1:] = x[:, :, :-1]
    out[:, 3, :, :-1] = x[:, :, 1:]
    return out


def grow(mask: Tensor) -> Tensor:
    """bool (B, H, W): the 4-neighbours of ``mask`` tiles (the tiles themselves included)."""
    out = mask.clone()
    out[:, 1:, :] |= mask[:, :-1, :]
    out[:, :-1, :] |= mask[:, 1:, :]
    out[:, :, 1:] |= mask[:, :, :-1]
    out[:, :, :-1] |= mask[:, :, 1:]
    return out


def distance_field(sources: Tensor, passable: Tensor, limit: int | None = None) -> Tensor:
    """int32 (B, H, W): 4-neighbour steps to the nearest ``sources`` tile, walking through
    ``passable`` tiles (sources count as passable); -1 where unreachable or beyond ``limit``.

    The same breadth-first search as ``maps.bfs_distances``, but from a mask of sources.
    """
    dist = torch.where(sources, 0, -1).to(torch.int32)
    unvisited = passable & ~sources
    frontier = sources
    step = 0
    while limit is None or step < limit:
        frontier = grow(frontier) & unvisited
        if not bool(frontier.any()):
            break
        step += 1
        dist.masked_fill_(frontier, step)
        unvisited ^= frontier
    return dist


UNREACHED = 1 << 30


def cost_field(
    sources: Tensor, cost: Tensor, passable: Tensor, games: Tensor | None = None, max_sweeps: int = 512
) -> Tensor:
    """int32 (B, H, W): the cheapest cost to reach a ``sources`` tile, paying ``cost`` (int, >= 1)
    for every tile entered, through ``passable`` tiles; ``UNREACHED`` where unreachable, and in
    games left out by ``games`` (bool (B,), default all), which are not computed at all.

    Bellman-Ford relaxation on the grid (every tile takes its best neighbour each sweep), which
    converges in as many sweeps as the longest cheapest path has steps.
    """
    out = torch.full(sources.shape, UNREACHED, dtype=torch.int32, device=sources.device)
    rows = None if games is None else games.nonzero().squeeze(1)
    if rows is not None:
        if len(rows) == 0:
            return out
        sources, cost, passable = sources[rows], cost[rows], passable[rows]
    passable = passable | sources
    cost = cost.to(torch.int32).clamp(min=1)
    b, h, w = sources.shape
    dist = torch.where(sources, 0, UNREACHED).to(torch.int32)
    enter = torch.full((b, h + 2, w + 2), UNREACHED, dtype=torch.int32, device=sources.device)
    inner = enter[:, 1:-1, 1:-1]
    blocked = ~passable
    for _ in range(max_sweeps):
        inner.copy_(dist + cost).masked_fill_(blocked, UNREACHED)
        best = torch.minimum(
            torch.minimum(enter[:, :-2, 1:-1], enter[:, 2:, 1:-1]),
            torch.minimum(enter[:, 1:-1, :-2], enter[:, 1:-1, 2:]),
        )
        relaxed = torch.minimum(dist, best).masked_fill_(blocked, UNREACHED)
        if torch.equal(relaxed, dist):
            break
        dist = relaxed
    if rows is None:
        return dist
    out[rows] = dist
    return out


def step_cheapest(dist: Tensor, cost: Tensor) -> Tensor:
    """bool (B, 4, H, W): moving from a tile that way follows a cheapest path of ``cost_field``."""
    entered = torch.where(dist < UNREACHED, dist + cost.to(torch.int32).clamp(min=1), UNREACHED)
    here = dist.unsqueeze(1)
    return (shift(entered, UNREACHED) == here) & (here > 0) & (here < UNREACHED)


def step_toward(dist: Tensor) -> Tensor:
    """bool (B, 4, H, W): moving from a tile that way goes one step down the distance field."""
    ahead = shift(dist, -1)
    return (ahead >= 0) & (ahead == dist.unsqueeze(1) - 1)


def box_sum(values: Tensor, radius: int) -> Tensor:
    """float32 (B, H, W): the sum of ``values`` (B, H, W) over the (2r+1)^2 square around each tile."""
    kernel = 2 * radius + 1
    mean = torch.nn.functional.avg_pool2d(
        values.float().unsqueeze(1), kernel, stride=1, padding=radius, count_include_pad=True
    )
    return mean.squeeze(1) * (kernel * kernel)


def per_game(values: Tensor) -> Tensor:
    """(B, 1, 1, 1) view of a per-game (B,) tensor, to gate (B, 4, H, W) scores."""
    return values.view(-1, 1, 1, 1)


def gather_tile(x: Tensor, tile: Tensor) -> Tensor:
    """(B,): ``x`` (B, H, W) at flat ``tile`` (B,) (clamped to the board)."""
    return x.flatten(1).gather(1, tile.clamp(min=0).unsqueeze(1)).squeeze(1)


def tile_mask(tile: Tensor, like: Tensor) -> Tensor:
    """bool (B, H, W): true at flat ``tile`` (B,) of each game, nowhere where it is -1."""
    out = torch.zeros(like.shape, dtype=torch.bool, device=like.device)
    out.flatten(1).scatter_(1, tile.clamp(min=0).unsqueeze(1), (tile >= 0).unsqueeze(1))
    return out


def argmax_tile(values: Tensor, where: Tensor) -> Tensor:
    """int64 (B,): flat tile of the largest ``values`` among ``where`` (B, H, W); -1 if none."""
    masked = torch.where(where, values.double(), float("-inf")).flatten(1)
    best, index = masked.max(dim=1)
    return torch.where(best > float("-inf"), index, -1)


def tie_noise(agent_rand: Tensor) -> Tensor:
    """int32 noise in [0, 2^NOISE_BITS) from uniform [0, 1) numbers, to break ties in ``score``."""
    return (agent_rand * (1 << NOISE_BITS)).to(torch.int32)


def score(layer: int | Tensor, value: Tensor | int, noise: Tensor, keep: Tensor) -> Tensor:
    """int32 (B, 4, H, W) scores: ``layer`` first, then ``value`` (clamped to 0..MAX_VALUE), then
    ``noise``; ``NO_MOVE`` where ``keep`` is false. All arguments broadcast to (B, 4, H, W)."""
    value = torch.as_tensor(value, device=noise.device).clamp(0, MAX_VALUE).to(torch.int32)
    layer = torch.as_tensor(layer, device=noise.device).to(torch.int32)
    packed = (layer << (VALUE_BITS + NOISE_BITS)) | (value << NOISE_BITS) | noise
    return torch.where(keep, packed, NO_MOVE)


def best(*scores: Tensor) -> Tensor:
    """Element-wise maximum of several score tensors."""
    out = scores[0]
    for other in scores[1:]:
        out = torch.maximum(out, other)
    return out


def choose(scores: Tensor, action_mask: Tensor) -> Tensor:
    """int64 (B,): the legal full move with the best score in each game, or 0 (pass) when no legal
    move has a score above ``NO_MOVE``."""
    return choose_with_layer(scores, action_mask)[0]


def choose_with_layer(scores: Tensor, action_mask: Tensor) -> tuple[Tensor, Tensor]:
    """``choose``, plus int64 (B,) the layer of each chosen move (-1 for a pass)."""
    b, _, h, w = scores.shape
    legal = action_mask[:, 1 : 1 + 4 * h * w].view(b, 4, h, w)
    flat = torch.where(legal, scores, NO_MOVE).flatten(1)
    top, index = flat.max(dim=1)
    moved = top > NO_MOVE
    layer = torch.where(moved, top.long() >> (VALUE_BITS + NOISE_BITS), -1)
    return torch.where(moved, index + 1, 0), layer


def sent_army(board: Board) -> Tensor:
    """int32 (B, 1, H, W): army a full move from each tile sends (0 from tiles that cannot move)."""
    return torch.where(board.movable, board.armies - 1, 0).unsqueeze(1)


def capture_classes(board: Board) -> Tensor:
    """int32 (B, 4, H, W): what a full move would take, 0 if it takes nothing: 4 an enemy general,
    3 another enemy tile, 2 a neutral plain tile, 1 a neutral city."""
    sent = sent_army(board)
    dest_army = shift(board.armies, 0)
    enemy = shift(board.enemy, False)
    neutral = shift(board.neutral, False)
    city = shift(board.city, False)
    general = shift(board.general, False)
    wins = (sent > dest_army) & (enemy | neutral)
    cls = torch.where(
        enemy,
        torch.where(general, 4, 3),
        torch.where(city, 1, 2),
    )
    return torch.where(wins, cls, 0).to(torch.int32)


def frontier_targets(board: Board) -> Tensor:
    """bool (B, H, W): tiles to expand into: enemy tiles, neutral plain tiles, fog that may be plain."""
    return board.enemy | (board.neutral & ~board.city) | (board.fog & ~board.obstacle)


def expand_scores(board: Board, noise: Tensor, classes: Tensor | None = None) -> Tensor:
    """int32 (B, 4, H, W): the expander's greedy move scores, in layers 0 to 4 (``lift`` moves them).

    Layer = capture class (``capture_classes``, passed in if already computed): captures of the
    enemy general, enemy tiles, neutral plain tiles, cities it can afford, the largest sent army
    first. Layer 0: the largest army one step toward the nearest tile it does not own, over tiles
    not known to block (neutral and enemy cities block: they are taken only when a capture
    affords them).
    """
    sent = sent_army(board)
    classes = capture_classes(board) if classes is None else classes
    passable = board.walkable & ~(board.city & ~board.friendly)
    dist = distance_field(frontier_targets(board), passable)
    toward = step_toward(dist) & board.movable.unsqueeze(1)
    return score(classes, sent, noise, (classes > 0) | toward)


def lift(scores: Tensor, layers: int, keep: Tensor | None = None) -> Tensor:
    """``scores`` moved up by ``layers`` layers, and ``NO_MOVE`` where ``keep`` (broadcastable) is false."""
    wanted = scores > NO_MOVE
    if keep is not None:
        wanted = wanted & keep
    return torch.where(wanted, scores + (layers << (VALUE_BITS + NOISE_BITS)), NO_MOVE)
