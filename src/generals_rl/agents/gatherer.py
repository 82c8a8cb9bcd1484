"""The ``gatherer`` bot: expands early, then gathers army into one stack and attacks with it.

Per game it remembers what it has seen (mountains, cities, the last owner of every tile, enemy
generals) and runs a two-mode cycle:

- ``gather``: army flows along own land toward its general, farthest tiles first, so each move
  carries everything gathered behind it; when nothing within reach is left to gather (or the time
  budget is spent) the general's army becomes the stack and the bot switches to attack.
- ``attack``: the stack walks the shortest path to its target and the bot returns to gathering once
  the stack is spent. The target is a remembered enemy general; else a neutral city the stack can
  afford nearby; else the unexplored tile most surrounded by known enemy land (where the general
  hides); else unexplored land.

Above both modes: capturing an enemy general, defending its own general when a visible enemy army
could take it, and, during the opening, the expander's greedy land taking (shared in ``tactics``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.agents.base import Agent
from generals_rl.agents.tactics import (
    NO_MOVE,
    Board,
    argmax_tile,
    best,
    box_sum,
    capture_classes,
    choose_with_layer,
    cost_field,
    distance_field,
    expand_scores,
    gather_tile,
    lift,
    per_game,
    score,
    sent_army,
    shift,
    step_cheapest,
    step_toward,
    tie_noise,
    tile_mask,
)
from generals_rl.game.observations import Observation

# Behaviour layers, most urgent last (expand_scores uses EXPAND .. EXPAND + 4).
FALLBACK = 0
GATHER = 5
ATTACK = 6
CITY = 7
CHEAP = 7
EXPAND = 8
DEFEND = 13
KILL = 14


@dataclass
class _Memory:
    """What the bot remembers about each of B games: (B, H, W) masks and (B,) per-game values."""

    seen: Tensor
    mountain: Tensor
    city: Tensor
    enemy: Tensor
    enemy_army: Tensor
    enemy_general: Tensor
    hunt: Tensor
    attacking: Tensor
    stack: Tensor
    mode_since: Tensor
    launched: Tensor
    gathered: Tensor

    @staticmethod
    def empty(board: Board) -> _Memory:
        b = board.armies.shape[0]
        device = board.armies.device
        blank = torch.zeros_like(board.mine)
        return _Memory(
            seen=blank.clone(),
            mountain=blank.clone(),
            city=blank.clone(),
            enemy=blank.clone(),
            enemy_army=torch.zeros_like(board.armies),
            enemy_general=blank.clone(),
            hunt=torch.full((b,), -1, dtype=torch.int64, device=device),
            attacking=torch.zeros(b, dtype=torch.bool, device=device),
            stack=torch.full((b,), -1, dtype=torch.int64, device=device),
            mode_since=torch.zeros(b, dtype=torch.int64, device=device),
            launched=torch.zeros(b, dtype=torch.int64, device=device),
            gathered=torch.zeros(b, dtype=torch.int64, device=device),
        )

    def clear(self, games: Tensor) -> None:
        for field in dataclasses.fields(self):
            tensor = getattr(self, field.name)
            mask = games.to(tensor.device).view(-1, *([1] * (tensor.dim() - 1)))
            fill = -1 if field.name in ("stack", "hunt") else 0
            tensor.copy_(torch.where(mask, torch.full_like(tensor, fill), tensor))

    def update(self, board: Board) -> None:
        visible = ~board.fog
        self.seen |= visible
        self.mountain |= board.mountain
        self.city = torch.where(visible, board.city, self.city)
        self.enemy = torch.where(visible, board.enemy, self.enemy)
        self.enemy_army = torch.where(visible, torch.where(board.enemy, board.armies, 0), self.enemy_army)
        self.enemy_general = torch.where(visible, board.general & board.enemy, self.enemy_general)


@dataclass(frozen=True)
class GathererConfig:
    """Tuning of the gatherer (the defaults are what the strength tests measure).

    Attributes:
        expand_until: tick up to which it only expands greedily.
        gather_ticks: longest gather phase, in ticks.
        min_launch: smallest stack worth launching (else it keeps gathering, up to gather_ticks).
        stack_floor: the attack ends when the stack falls below this share of its launch army.
        threat_radius: enemy armies within this many steps of its general count as threats.
        city_radius: cities this many steps from the stack are taken when affordable.
        heat_radius: half side of the square in which known enemy tiles point at the enemy general.
    """

    expand_until: int = 60
    gather_ticks: int = 40
    min_launch: int = 20
    stack_floor: float = 0.25
    threat_radius: int = 3
    city_radius: int = 6
    heat_radius: int = 3
    cheap_max: int = 0
    cheap_in_attack: bool = False
    hunt_keep: float = 0.8
    cheap_when_behind: bool = False
    count_gather_moves: bool = False
    weighted_path: bool = False
    land_margin: int = 0
    gather_growth: float = 0.0


class GathererAgent(Agent):
    """Expand, gather, attack; batched over games with per-game memory."""

    name = "gatherer"

    def __init__(self, seed: int | None = None, config: GathererConfig | None = None) -> None:
        super().__init__(seed)
        self.config = config or GathererConfig()
        self.memory: _Memory | None = None

    def reset(self, games: Tensor | None = None) -> None:
        if games is None or self.memory is None:
            self.memory = None
        else:
            self.memory.clear(games)

    def act(self, obs: Observation) -> Tensor:
        board = Board.of(obs)
        b, h, w = board.armies.shape
        if self.memory is None or self.memory.seen.shape != board.mine.shape:
            self.memory = _Memory.empty(board)
        memory = self.memory
        memory.update(board)
        cfg = self.config
        tick = obs.scalars[:, 0].long()
        noise = tie_noise(self.rand(b, 1, h, w, device=board.armies.device))
        movable = board.movable.unsqueeze(1)
        sent = sent_army(board)
        classes = capture_classes(board)

        home = board.general & board.mine
        home_tile = argmax_tile(board.armies, home)
        home_army = gather_tile(board.armies, home_tile)

        # Reach of everything through its own land from the general: the gather tree.
        home_dist = distance_field(home, board.mine)

        # Threat: a visible enemy army close to the general that could take it.
        blocked = memory.mountain | board.obstacle
        home_reach = distance_field(home, ~blocked)
        near_home = (home_reach >= 0) & (home_reach <= cfg.threat_radius)
        threat = board.enemy & near_home & (board.armies >= home_army.view(-1, 1, 1))
        threatened = threat.flatten(1).any(dim=1)
        hit_threat = (classes > 0) & shift(threat, False)
        defend = best(
            score(DEFEND, sent, noise, hit_threat),
            score(DEFEND - 1, home_dist.unsqueeze(1), noise, movable & step_toward(home_dist)),
        )

        # Mode switches: gather -> attack when gathering is done, attack -> gather when spent.
        budget = cfg.gather_ticks + (tick.float() * cfg.gather_growth).long()
        radius = gather_radius(home_dist, board.mine, budget)
        in_reach = (home_dist > 0) & (home_dist <= radius.view(-1, 1, 1))
        gather_moves = movable & step_toward(home_dist) & in_reach.unsqueeze(1)
        can_gather = gather_moves.flatten(1).any(dim=1)
        gathered = memory.gathered if cfg.count_gather_moves else tick - memory.mode_since
        launch = (
            ~memory.attacking
            & (tick >= cfg.expand_until)
            & (home_army >= cfg.min_launch)
            & (~can_gather | (gathered >= budget))
        )
        stack_army = gather_tile(board.armies, memory.stack)
        stack_alive = (memory.stack >= 0) & gather_tile(board.mine, memory.stack) & (stack_army >= 2)
        spent = memory.attacking & (
            ~stack_alive | (stack_army.float() < cfg.stack_floor * memory.launched.float())
        )
        memory.stack = torch.where(launch, home_tile, torch.where(spent, -1, memory.stack))
        memory.launched = torch.where(launch, home_army.long(), memory.launched)
        memory.attacking = (memory.attacking | launch) & ~spent
        memory.mode_since = torch.where(launch | spent, tick, memory.mode_since)
        memory.gathered = torch.where(launch | spent, 0, memory.gathered)
        stack_army = gather_tile(board.armies, memory.stack)

        # Attack: the stack one step along the shortest path to its target.
        target = self._target(board, memory, stack_army, home_reach, blocked, tick)
        passable = ~blocked & ~(memory.city & ~board.mine)
        stack = tile_mask(memory.stack, board.mine).unsqueeze(1)
        if cfg.weighted_path:
            # Own land is cheapest (the stack picks its army up), enemy land costs its army.
            remembered = torch.where(board.fog, memory.enemy_army, board.armies)
            cost = torch.where(board.mine, 1, torch.where(board.enemy | memory.enemy, 2 + remembered, 2))
            attack_dist = cost_field(target, cost, passable, games=memory.attacking)
            attack_step = step_cheapest(attack_dist, cost)
        else:
            attack_step = step_toward(distance_field(target, passable))
        # Among shortest steps, prefer walking over own army (it joins), then cheap captures.
        dest_army = shift(board.armies, 0)
        dest_mine = shift(board.mine, False)
        prefer = torch.where(dest_mine, dest_army + 1000, 1000 - dest_army)
        attack = score(ATTACK, prefer, noise, stack & movable & attack_step)

        not_stack = ~stack
        cheap = score(CHEAP, sent, noise, (classes == 2) & (sent <= cfg.cheap_max) & not_stack)
        gather = score(GATHER, home_dist.unsqueeze(1) * 1024 + sent, noise, gather_moves)
        early = tick < cfg.expand_until
        expansion = expand_scores(board, noise, classes)
        my_land = obs.scalars[:, 1]
        their_land = obs.scalars[:, 3::2].max(dim=1).values
        expand_now = (my_land <= their_land + cfg.land_margin) | (not cfg.cheap_when_behind)
        scores = best(
            score(KILL, sent, noise, classes == 4),
            torch.where(per_game(threatened), defend, NO_MOVE),
            lift(expansion, EXPAND, per_game(early)),
            torch.where(per_game((~memory.attacking | cfg.cheap_in_attack) & expand_now), cheap, NO_MOVE),
            torch.where(per_game(memory.attacking), attack, NO_MOVE),
            torch.where(per_game(~memory.attacking), gather, NO_MOVE),
            lift(expansion, FALLBACK, ~home.unsqueeze(1)),
        )
        actions, layer = choose_with_layer(scores, obs.action_mask)
        memory.gathered += (layer == GATHER).long()

        # Follow the stack: it moves to its destination when its own move was played.
        n = h * w
        moved_stack = (actions >= 1) & (((actions - 1) % n) == memory.stack) & ((actions - 1) // n < 4)
        direction = ((actions - 1) // n).clamp(0, 3)
        step = torch.tensor([-w, w, -1, 1], device=actions.device)[direction]
        memory.stack = torch.where(moved_stack, memory.stack + step, memory.stack)
        return actions

    def _target(
        self,
        board: Board,
        memory: _Memory,
        stack_army: Tensor,
        home_reach: Tensor,
        blocked: Tensor,
        tick: Tensor,
    ) -> Tensor:
        """bool (B, H, W): where the attacking stack heads."""
        cfg = self.config
        known_general = memory.enemy_general.flatten(1).any(dim=1)

        # Hunt: the enemy general stands on a tile never seen. Old enemy land holds more army (it
        # has grown longer), so unexplored tiles near much remembered enemy army come first, the
        # farther from home the better. The hunt keeps its tile until that tile is seen.
        unexplored = ~memory.seen & ~blocked
        # A tile taken with 1 army gains one every 50 ticks: cap the age signal there, so that a
        # passing stack does not outweigh it.
        cap = (tick // 50 + 2).view(-1, 1, 1).float()
        age = torch.minimum(memory.enemy_army.float(), cap)
        weight = torch.where(memory.enemy, torch.exp2(age - cap), 0.0)
        heat = box_sum(weight, cfg.heat_radius)
        far = home_reach.float()
        value = torch.where(unexplored, heat * 1024 + far.clamp(min=0) + 1, 0.0)
        top = value.flatten(1).max(dim=1).values
        current = torch.where(memory.hunt >= 0, gather_tile(value, memory.hunt), 0.0)
        pick_new = current < cfg.hunt_keep * top
        memory.hunt = torch.where(pick_new, argmax_tile(value, unexplored), memory.hunt)
        hunt = tile_mask(memory.hunt, board.mine)

        near_stack = distance_field(tile_mask(memory.stack, board.mine), ~blocked, limit=cfg.city_radius) >= 0
        cities = (
            memory.city & board.neutral & near_stack & (board.armies < (stack_army.view(-1, 1, 1) - 1) // 2)
        )
        has_city = cities.flatten(1).any(dim=1)
        fallback = board.enemy | memory.enemy
        target = torch.where(per_tile(memory.hunt >= 0), hunt, fallback)
        target = torch.where(per_tile(has_city), cities, target)
        return torch.where(per_tile(known_general), memory.enemy_general, target)


def per_tile(flag: Tensor) -> Tensor:
    return flag.view(-1, 1, 1)


def gather_radius(dist: Tensor, own: Tensor, budget: Tensor) -> Tensor:
    """int64 (B,): the largest distance r (at least 1) such that the own tiles at distance 1..r
    number at most ``budget``: gathering them leaves first takes about one move each."""
    b = dist.shape[0]
    bins = torch.zeros(b, dist[0].numel() + 1, dtype=torch.int64, device=dist.device)
    index = torch.where(own, dist + 1, 0).flatten(1).long()
    bins.scatter_add_(1, index, torch.ones_like(index))
    bins[:, :2] = 0  # unreached tiles and the general itself
    within = bins.cumsum(dim=1) <= budget.view(-1, 1)
    return (within.sum(dim=1) - 1).clamp(min=1)
