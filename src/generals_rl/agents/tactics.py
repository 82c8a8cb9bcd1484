"""Batched building blocks of the scripted bots: a board read from one seat's observation,
neighbour shifts, distance and cost fields, move ranking and the greedy expansion both bots share.

A bot works in behaviour layers, most urgent first (take the enemy general, defend, expand, ...).
Each layer ranks every full move ``(direction, tile)`` of every game as an int32 tensor
(B, 4, H, W) (``rank``: a value, then seeded noise that breaks ties) and says which moves it wants;
``Pick.of`` reduces that to each game's best legal move, and ``decide`` plays, per game, the move
of the first layer that has one (else it passes). Nothing here loops over games; full-board work
stays in int32 and bool, whose memory traffic is what the bots' time goes to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.game.observations import PLANE, Observation
from generals_rl.training.memory import ARMY, ENEMY, GENERAL, SEEN_TICK

NO_MOVE = -1
"""Rank of a move a layer does not want."""

NOISE_BITS = 5
VALUE_BITS = 25
MAX_VALUE = (1 << VALUE_BITS) - 1
"""Values 0..MAX_VALUE and the noise bits fit a nonnegative int32 rank."""


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
        plane = obs.plane
        return Board(
            armies=obs.armies.to(torch.int32),
            mine=plane("mine"),
            ally=plane("ally"),
            enemy=plane("enemy"),
            neutral=plane("neutral"),
            mountain=plane("mountain"),
            city=plane("city"),
            general=plane("general"),
            fog=plane("fog"),
            obstacle=plane("obstacle_in_fog"),
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


def any_true(mask: Tensor) -> bool:
    """Whether any element of a bool tensor is true (``Tensor.any`` is many times slower on CPU)."""
    return bool(mask.reshape(-1).view(torch.uint8).amax()) if mask.numel() else False


def any_in_game(mask: Tensor) -> Tensor:
    """bool (B,): whether each game's part of a bool (B, ...) tensor has a true element."""
    return mask.reshape(mask.shape[0], -1).view(torch.uint8).amax(dim=1).bool()


class _FlatGrid:
    """Boards as flat rows with a one-tile border, so that every neighbour is a contiguous slice:
    tile ``i`` has neighbours ``i - 1``, ``i + 1``, ``i - stride`` and ``i + stride``. Searches
    on this layout run several times faster than on (B, H, W) views with strided columns."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.stride = width + 2

    def pad(self, x: Tensor, fill: int | bool) -> Tensor:
        b = x.shape[0]
        out = torch.full((b, self.height + 2, self.stride), fill, dtype=x.dtype, device=x.device)
        out[:, 1:-1, 1:-1] = x
        return out.view(b, -1)

    def unpad(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], self.height + 2, self.stride)[:, 1:-1, 1:-1]

    def grow(self, flat: Tensor) -> Tensor:
        """The tiles of ``flat`` plus their 4-neighbours (wrapping only into the border)."""
        out = flat.clone()
        s = self.stride
        out[:, 1:] |= flat[:, :-1]
        out[:, :-1] |= flat[:, 1:]
        out[:, s:] |= flat[:, :-s]
        out[:, :-s] |= flat[:, s:]
        return out

    def neighbour_min(self, flat: Tensor) -> Tensor:
        """Per tile, the smallest value among its 4 neighbours (the border tiles give garbage)."""
        s = self.stride
        out = flat.clone()
        out[:, s:-s] = torch.minimum(
            torch.minimum(flat[:, s - 1 : -s - 1], flat[:, s + 1 : -s + 1]),
            torch.minimum(flat[:, : -2 * s], flat[:, 2 * s :]),
        )
        return out


SWEEPS_PER_CHECK = {"cuda": 8}
"""Sweeps of a search between its convergence checks, by device type (1 where not listed). A check
reads a result on the host, so on CUDA every check waits for the device's queue to drain; a few
sweeps past convergence cost less there. On the CPU a check is cheap and every sweep is checked."""


def sweeps_per_check(device: torch.device) -> int:
    return SWEEPS_PER_CHECK.get(device.type, 1)


def on_games(games: Tensor | None, fill: int, search: Callable[..., Tensor], *boards: Tensor) -> Tensor:
    """``search(*boards)`` on the games where ``games`` (bool (B,)) is true only, ``fill`` in the
    others; all of them when ``games`` is None. Searches cost per game, so skipping pays."""
    if games is None:
        return search(*boards)
    rows = games.nonzero().squeeze(1)
    out = torch.full(boards[0].shape, fill, dtype=torch.int32, device=boards[0].device)
    if len(rows) > 0:
        out[rows] = search(*(board[rows] for board in boards))
    return out


def distance_field(
    sources: Tensor, passable: Tensor, limit: int | None = None, games: Tensor | None = None
) -> Tensor:
    """int32 (B, H, W): 4-neighbour steps to the nearest ``sources`` tile, walking through
    ``passable`` tiles (sources count as passable); -1 where unreachable or beyond ``limit``, and
    in the games left out by ``games`` (bool (B,), default all), which are not searched at all.

    The breadth-first search of ``maps.bfs_distances``, from a mask of sources, on the flat
    layout; instead of writing each step's distance it counts the steps a tile stays unvisited.
    """

    def search(sources: Tensor, passable: Tensor) -> Tensor:
        grid = _FlatGrid(sources.shape[1], sources.shape[2])
        frontier = grid.pad(sources, False)
        unvisited = grid.pad(passable & ~sources, False)
        start = unvisited.clone()
        waited = torch.zeros(frontier.shape, dtype=torch.int32, device=sources.device)
        every = sweeps_per_check(sources.device)
        step = 0
        while limit is None or step < limit:
            frontier = grid.grow(frontier) & unvisited
            step += 1
            if step % every == 0 and not any_true(frontier):
                break
            unvisited ^= frontier  # steps past the last tile reached change only unreached tiles
            waited += unvisited
        dist = torch.where(start & ~unvisited, waited + 1, -1)
        return grid.unpad(torch.where(grid.pad(sources, False), 0, dist))

    return on_games(games, -1, search, sources, passable).contiguous()


UNREACHED = 1 << 29
"""Cost of what ``cost_field`` cannot reach (twice it still fits an int32)."""


def cost_field(
    sources: Tensor, cost: Tensor, passable: Tensor, games: Tensor | None = None, max_sweeps: int = 1024
) -> Tensor:
    """int32 (B, H, W): the cheapest cost to reach a ``sources`` tile, paying ``cost`` (int, >= 1)
    for every tile entered, through ``passable`` tiles; ``UNREACHED`` where unreachable, and in
    games left out by ``games`` (bool (B,), default all), which are not computed at all.

    Bellman-Ford relaxation on the grid (every tile takes its best neighbour each sweep), which
    converges in as many sweeps as the longest cheapest path has steps.
    """

    def search(sources: Tensor, cost: Tensor, passable: Tensor) -> Tensor:
        grid = _FlatGrid(sources.shape[1], sources.shape[2])
        open_ = grid.pad(passable | sources, False)
        # Entering a blocked tile costs UNREACHED, so no path goes through one.
        price = torch.where(open_, grid.pad(cost.to(torch.int32).clamp(1, UNREACHED - 1), 1), UNREACHED)
        dist = torch.where(grid.pad(sources, False), 0, UNREACHED).to(torch.int32)
        every = sweeps_per_check(sources.device)
        for sweep in range(1, max_sweeps + 1):
            relaxed = torch.minimum(dist, grid.neighbour_min(dist + price)).clamp_(max=UNREACHED)
            if sweep % every == 0 and torch.equal(relaxed, dist):
                break
            dist = relaxed  # a sweep past convergence changes nothing
        return grid.unpad(torch.where(open_, dist, UNREACHED))

    return on_games(games, UNREACHED, search, sources, cost, passable).contiguous()


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


def per_tile(flag: Tensor) -> Tensor:
    """(B, 1, 1) view of a per-game (B,) tensor, to choose between (B, H, W) boards per game."""
    return flag.view(-1, 1, 1)


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
    """int32 noise in [0, 2^NOISE_BITS) from uniform [0, 1) numbers, to break ties in ``rank``."""
    return (agent_rand * (1 << NOISE_BITS)).to(torch.int32)


def rank(value: Tensor, noise: Tensor) -> Tensor:
    """int32 (B, 4, H, W): moves ordered by ``value`` (clamped to 0..MAX_VALUE), then ``noise``."""
    return (value.clamp(0, MAX_VALUE).to(torch.int32) << NOISE_BITS) | noise


def legal_moves(obs: Observation) -> Tensor:
    """bool (B, 4, H, W): the legal full moves of ``obs``, in rank layout."""
    b, h, w = obs.armies.shape
    return obs.action_mask[:, 1 : 1 + 4 * h * w].view(b, 4, h, w)


@dataclass(frozen=True)
class Pick:
    """One layer's choice in each game: the best rank it wants (``NO_MOVE`` if none) and that
    move as a flat action."""

    rank: Tensor
    action: Tensor

    @staticmethod
    def of(ranks: Tensor, wanted: Tensor, games: Tensor | None = None) -> Pick:
        """The best ``ranks`` (B, 4, H, W) among ``wanted`` moves, in ``games`` (bool (B,)) only."""
        flat = torch.where(wanted, ranks, NO_MOVE).flatten(1)
        top, index = flat.max(dim=1)
        if games is not None:
            top = torch.where(games, top, NO_MOVE)
        return Pick(rank=top, action=index + 1)


def decide(picks: list[Pick]) -> Tensor:
    """int64 (B,): per game the action of the first pick (most urgent first) that found a move,
    else 0 (pass)."""
    action = torch.zeros_like(picks[0].action)
    for pick in reversed(picks):
        action = torch.where(pick.rank > NO_MOVE, pick.action, action)
    return action


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


def expansion(board: Board, classes: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The expander's greedy moves: (value int32 (B, 4, H, W), wanted bool (B, 4, H, W)).

    Captures first, by class (``capture_classes``, passed in if already computed: the enemy
    general, enemy tiles, neutral plain tiles, cities it can afford), then the largest sent army.
    Else the largest army one step toward the nearest tile it does not own, over tiles not known
    to block (neutral and enemy cities block: they are taken only when a capture affords them).
    """
    sent = sent_army(board)
    classes = capture_classes(board) if classes is None else classes
    passable = board.walkable & ~(board.city & ~board.friendly)
    dist = distance_field(frontier_targets(board), passable)
    toward = step_toward(dist) & board.movable.unsqueeze(1)
    value = (classes << 20) | sent.clamp(max=(1 << 20) - 1)
    return value, (classes > 0) | toward


def threat_near(board: Board, home_reach: Tensor, home_army: Tensor, radius: int) -> Tensor:
    """bool (B, H, W): visible enemy armies within ``radius`` steps of the general (``home_reach``:
    the walking distance from it, -1 unreached) that hold at least the general's army
    ``home_army`` (B,): they could take it."""
    near = (home_reach >= 0) & (home_reach <= radius)
    return board.enemy & near & (board.armies >= home_army.view(-1, 1, 1))


def take_and_defend(
    legal: Tensor,
    board: Board,
    classes: Tensor,
    threat: Tensor,
    home_dist: Tensor,
    by_sent: Tensor,
    noise: Tensor,
) -> list[Pick]:
    """The most urgent layers of the gather-and-attack bots: take an enemy general (``by_sent``:
    the moves ranked by ``sent_army``, the largest first); where ``threat_near`` found a threat,
    hit it, else pull army one step home along ``home_dist`` (the walk to the general over own
    land), farthest first."""
    threatened = any_in_game(threat)
    toward_home = legal & board.movable.unsqueeze(1) & step_toward(home_dist)
    return [
        Pick.of(by_sent, legal & (classes == 4)),
        Pick.of(by_sent, legal & (classes > 0) & shift(threat, False), threatened),
        Pick.of(rank(home_dist.unsqueeze(1), noise), toward_home, threatened),
    ]


def gather_radius(dist: Tensor, own: Tensor, budget: int) -> Tensor:
    """int64 (B,): the largest distance r (at least 1) such that the own tiles at distance 1..r
    number at most ``budget``: gathering them leaves first takes about one move each."""
    b = dist.shape[0]
    bins = torch.zeros(b, dist[0].numel() + 1, dtype=torch.int64, device=dist.device)
    index = torch.where(own, dist + 1, 0).flatten(1).long()
    bins.scatter_add_(1, index, torch.ones_like(index))
    bins[:, :2] = 0  # unreached tiles and the general itself
    within = bins.cumsum(dim=1) <= budget
    return (within.sum(dim=1) - 1).clamp(min=1)


def hunt_value(
    enemy: Tensor, enemy_army: Tensor, unexplored: Tensor, home_reach: Tensor, tick: Tensor, radius: int
) -> Tensor:
    """float32 (B, H, W): how likely the enemy general stands on each ``unexplored`` tile (0
    elsewhere), from the land remembered as the enemy's (``enemy``) and the army last seen on it.
    Old enemy land holds more army (it has grown longer) and surrounds the general, so unexplored
    tiles with much of it within ``radius`` come first, the farther from home (``home_reach``)
    the better."""
    # A tile taken with 1 army gains one every 50 ticks: cap the age signal there, so that a
    # passing stack does not outweigh it.
    cap = (tick // 50 + 2).view(-1, 1, 1).float()
    age = torch.minimum(enemy_army.float(), cap)
    weight = torch.where(enemy, torch.exp2(age - cap), 0.0)
    heat = box_sum(weight, radius)
    return torch.where(unexplored, heat * 1024 + home_reach.float().clamp(min=0) + 1, 0.0)


HUNT_RADIUS = 3
"""Half side of the square in which remembered enemy land points at the enemy general."""


def likely_general(memory: Tensor, obs: Observation) -> Tensor:
    """bool (B, H, W): where the enemy general most likely stands, from a seat's memory state
    (``training.memory``) and its observation: the tiles last seen holding an enemy general; in
    games where none was, the one unexplored tile (never seen, not known to block) that
    ``hunt_value`` ranks first, its distance from home counted in rows plus columns from the
    seat's own general; nowhere once nothing is left unexplored. The ``raider`` heads there, and
    the policy network can take the walking distance to it as an input plane."""
    general = memory[:, GENERAL].bool()
    enemy = memory[:, ENEMY].bool()
    enemy_army = torch.where(enemy, memory[:, ARMY], 0)
    planes = obs.planes
    blocked = planes[:, PLANE["mountain"]] | planes[:, PLANE["obstacle_in_fog"]]
    unexplored = (memory[:, SEEN_TICK] < 0) & ~blocked
    b, h, w = unexplored.shape
    home = argmax_tile(torch.ones_like(obs.armies), planes[:, PLANE["general"]] & planes[:, PLANE["mine"]])
    rows = torch.arange(h, device=home.device).view(1, h, 1)
    cols = torch.arange(w, device=home.device).view(1, 1, w)
    home_row, home_col = (home.clamp(min=0) // w).view(b, 1, 1), (home.clamp(min=0) % w).view(b, 1, 1)
    far = torch.where(per_tile(home >= 0), (rows - home_row).abs() + (cols - home_col).abs(), 0)
    value = hunt_value(enemy, enemy_army, unexplored, far, obs.scalars[:, 0].long(), HUNT_RADIUS)
    guess = tile_mask(argmax_tile(value, unexplored), unexplored)
    return torch.where(per_tile(any_in_game(general)), general, guess)
