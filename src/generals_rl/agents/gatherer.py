"""The ``gatherer`` bot: expands early, then gathers army into one stack and attacks with it.

Per game it remembers what it has seen (mountains, cities, the last owner of every tile, enemy
generals) and runs a two-mode cycle:

- ``gather``: army flows along own land toward its general, farthest tiles first, so each move
  carries everything gathered behind it; when nothing within reach is left to gather (or the time
  budget is spent) the general's army becomes the stack and the bot switches to attack.
- ``attack``: the stack walks the cheapest path to its target (own land is cheap, enemy land costs
  its army) and the bot returns to gathering once the stack is spent. The target is a remembered
  enemy general; else a neutral city nearby that costs the stack under half its army; else the
  unexplored tile nearest the oldest known enemy land (land grows army with age, so the oldest
  surrounds the enemy general), or the unexplored tile farthest from home before any enemy land
  is known.

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
    Board,
    Pick,
    any_in_game,
    argmax_tile,
    capture_classes,
    cost_field,
    decide,
    distance_field,
    expansion,
    gather_radius,
    gather_tile,
    hunt_value,
    legal_moves,
    per_tile,
    rank,
    sent_army,
    shift,
    step_cheapest,
    step_toward,
    take_and_defend,
    threat_near,
    tie_noise,
    tile_mask,
)
from generals_rl.game.observations import Observation


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
    blocked: Tensor
    home_tile: Tensor
    home_reach: Tensor

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
            blocked=blank.clone(),
            home_tile=torch.full((b,), -2, dtype=torch.int64, device=device),
            home_reach=torch.full_like(board.armies, -1),
        )

    def clear(self, games: Tensor) -> None:
        for field in dataclasses.fields(self):
            tensor = getattr(self, field.name)
            mask = games.to(tensor.device).view(-1, *([1] * (tensor.dim() - 1)))
            fill = {"stack": -1, "hunt": -1, "home_tile": -2, "home_reach": -1}.get(field.name, 0)
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
    """Tuning of the gatherer; the defaults won most against the expander on seeded 1v1 maps.

    Attributes:
        expand_until: tick up to which it only expands greedily, like the expander.
        gather_ticks: longest gather phase, in ticks; also the number of own tiles a gather reaches.
        min_launch: smallest army on the general worth launching as a stack.
        stack_floor: the attack ends when the stack falls below this share of its launch army.
        cheap_max: while gathering, tiles sending at most this much army still take neutral land.
        threat_radius: visible enemy armies this many steps from its general count as threats.
        city_radius: neutral cities this many steps from the stack are taken when they cost it
            less than half its army.
        heat_radius: half side of the square in which remembered enemy land points at the
            enemy general.
        hunt_keep: the hunt keeps its tile while that tile is worth this share of the best one.
    """

    expand_until: int = 60
    gather_ticks: int = 15
    min_launch: int = 20
    stack_floor: float = 0.25
    cheap_max: int = 2
    threat_radius: int = 3
    city_radius: int = 6
    heat_radius: int = 3
    hunt_keep: float = 0.8


class GathererAgent(Agent):
    """Expand, gather, attack; batched over games with per-game memory."""

    name = "gatherer"

    def __init__(self, seed: int | None = None, config: GathererConfig | None = None) -> None:
        super().__init__(seed)
        self.config = config or GathererConfig()
        self.memory: _Memory | None = None
        self._stack_before: Tensor | None = None  # the stack's tile before the last act's move

    def reset(self, games: Tensor | None = None) -> None:
        if games is None or self.memory is None:
            self.memory = None
            self._stack_before = None
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

        # Threat: a visible enemy army close to the general that could take it. The walking
        # distance from the general changes only when new obstacles show up: kept between ticks.
        blocked = memory.mountain | board.obstacle
        moved = any_in_game(blocked != memory.blocked) | (home_tile != memory.home_tile)
        home_reach = torch.where(
            per_tile(moved), distance_field(home, ~blocked, games=moved), memory.home_reach
        )
        memory.blocked, memory.home_tile, memory.home_reach = blocked, home_tile, home_reach
        threat = threat_near(board, home_reach, home_army, cfg.threat_radius)
        threatened = any_in_game(threat)

        # The attack ends when its stack is lost or spent.
        stack_army = gather_tile(board.armies, memory.stack)
        stack_alive = (memory.stack >= 0) & gather_tile(board.mine, memory.stack) & (stack_army >= 2)
        spent = memory.attacking & (~stack_alive | (stack_army < cfg.stack_floor * memory.launched))

        # Reach of its own land from the general: the gather tree (searched where it is needed).
        home_dist = distance_field(home, board.mine, games=~memory.attacking | spent | threatened)

        # Gathering ends when nothing in reach is left to gather, or after ``gather_ticks``.
        radius = gather_radius(home_dist, board.mine, cfg.gather_ticks)
        in_reach = (home_dist > 0) & (home_dist <= radius.view(-1, 1, 1))
        gather_moves = movable & step_toward(home_dist) & in_reach.unsqueeze(1)
        can_gather = any_in_game(gather_moves)
        launch = (
            ~memory.attacking
            & (tick >= cfg.expand_until)
            & (home_army >= cfg.min_launch)
            & (~can_gather | (tick - memory.mode_since >= cfg.gather_ticks))
        )
        memory.stack = torch.where(launch, home_tile, torch.where(spent, -1, memory.stack))
        memory.launched = torch.where(launch, home_army.long(), memory.launched)
        memory.attacking = (memory.attacking | launch) & ~spent
        memory.mode_since = torch.where(launch | spent, tick, memory.mode_since)
        stack_army = gather_tile(board.armies, memory.stack)

        # Attack: the stack one step along the cheapest path to its target. Own land costs least
        # (the stack picks its army up), neutral land a little, enemy land its (remembered) army.
        target = self._target(board, memory, stack_army, home_reach, blocked, tick)
        passable = ~blocked & ~(memory.city & ~board.mine)
        remembered = torch.where(board.fog, memory.enemy_army, board.armies)
        cost = torch.where(board.mine, 1, torch.where(board.enemy | memory.enemy, 2 + remembered, 2))
        attack_dist = cost_field(target, cost, passable, games=memory.attacking)
        stack = tile_mask(memory.stack, board.mine).unsqueeze(1)
        dest_army = shift(board.armies, 0)
        prefer = torch.where(shift(board.mine, False), dest_army + 1000, 1000 - dest_army)
        attack = stack & movable & step_cheapest(attack_dist, cost)

        legal = legal_moves(obs)
        by_sent = rank(sent, noise)
        expand_value, expand_wanted = expansion(board, classes)
        by_expansion = rank(expand_value, noise)
        gathering = ~memory.attacking
        actions = decide(
            [
                *take_and_defend(legal, board, classes, threat, home_dist, by_sent, noise),
                # The opening: greedy expansion.
                Pick.of(by_expansion, legal & expand_wanted, tick < cfg.expand_until),
                # While gathering, small armies still take neutral land next to them.
                Pick.of(by_sent, legal & (classes == 2) & (sent <= cfg.cheap_max), gathering),
                Pick.of(rank(prefer, noise), legal & attack, memory.attacking),
                # Gather leaves first (farthest from home), so each move carries what came before.
                Pick.of(rank(home_dist.unsqueeze(1) * 1024 + sent, noise), legal & gather_moves, gathering),
                # Nothing else to do: expand, but never with the general's own army.
                Pick.of(by_expansion, legal & expand_wanted & ~home.unsqueeze(1)),
            ]
        )

        self._stack_before = memory.stack
        self.played(actions)
        return actions

    def played(self, actions: Tensor) -> None:
        """Follow the stack: it moves to its destination when a full move of it was played (this
        bot's own move, or, advising a learner as a teacher, the learner's)."""
        if self.memory is None or self._stack_before is None:
            return
        h, w = self.memory.seen.shape[-2:]
        n = h * w
        stack = self._stack_before
        moved_stack = (actions >= 1) & (((actions - 1) % n) == stack) & ((actions - 1) // n < 4)
        direction = ((actions - 1) // n).clamp(0, 3)
        step = torch.tensor([-w, w, -1, 1], device=actions.device)[direction]
        self.memory.stack = torch.where(moved_stack, stack + step, stack)

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
        known_general = any_in_game(memory.enemy_general)

        # Hunt: the enemy general stands on a tile never seen. Old enemy land holds more army (it
        # has grown longer), so unexplored tiles near much remembered enemy army come first, the
        # farther from home the better. The hunt keeps its tile until a much better one shows up
        # (or it is seen), so the stack does not zigzag between near equals.
        unexplored = ~memory.seen & ~blocked
        value = hunt_value(memory.enemy, memory.enemy_army, unexplored, home_reach, tick, cfg.heat_radius)
        top = value.flatten(1).max(dim=1).values
        current = torch.where(memory.hunt >= 0, gather_tile(value, memory.hunt), 0.0)
        pick_new = current < cfg.hunt_keep * top
        memory.hunt = torch.where(pick_new, argmax_tile(value, unexplored), memory.hunt)
        hunt = tile_mask(memory.hunt, board.mine)

        stack = tile_mask(memory.stack, board.mine)
        near_stack = distance_field(stack, ~blocked, limit=cfg.city_radius, games=memory.attacking) >= 0
        cities = (
            memory.city & board.neutral & near_stack & (board.armies < (stack_army.view(-1, 1, 1) - 1) // 2)
        )
        has_city = any_in_game(cities)
        fallback = board.enemy | memory.enemy
        target = torch.where(per_tile(memory.hunt >= 0), hunt, fallback)
        target = torch.where(per_tile(has_city), cities, target)
        return torch.where(per_tile(known_general), memory.enemy_general, target)
