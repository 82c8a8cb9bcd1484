"""The ``raider`` bot: the gatherer's gather-and-attack cycle, read from the board each tick.

Like ``gatherer`` it expands greedily in the opening, then gathers army on its general, launches
it as one stack and walks the stack to the enemy general, and defends its own general. Unlike
``gatherer`` it keeps no state of its own: its mode is read from the board, and what it knows of
tiles out of view is the memory state the policy network's memory channels are computed from
(``training.memory``: the army, enemy land and enemy general last seen on each tile, and when).
So a network given those channels sees what it decides on (only a tile unseen for 500 ticks looks
like one never seen), which makes it a teacher for kickstarting (``--set teacher=raider``), where
``gatherer``'s hidden mode and time budget are not.

Each tick:

- the *stack* is its largest army off the general; it is *attacking* while that army is at least
  ``stack_ratio`` times any other tile's (the general's included) and at least ``min_stack``;
- otherwise it gathers: army flows along its own land toward the general, farthest tiles first,
  within the ``gather_tiles`` nearest own tiles; the general's army is *launched* (moved one step
  toward the target, where it becomes the stack) once it holds at least ``min_stack`` and
  ``launch_share`` of all its army, or nothing in reach is left to gather;
- the target: the enemy general where it was last seen; else the unexplored tile nearest the
  oldest remembered enemy land, the farther from home the better (``tactics.likely_general``,
  which the policy network can also be shown as a distance plane: ``target_distance``).
"""

from __future__ import annotations

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
    legal_moves,
    likely_general,
    rank,
    sent_army,
    step_cheapest,
    step_toward,
    take_and_defend,
    threat_near,
    tie_noise,
    tile_mask,
)
from generals_rl.game.observations import Observation
from generals_rl.training.memory import ARMY, ENEMY, Memory


@dataclass(frozen=True)
class RaiderConfig:
    """Tuning of the raider; the defaults won most against ``expander`` on seeded 1v1 maps.

    Attributes:
        expand_until: tick up to which it only expands greedily, like the expander.
        stack_ratio: the stack attacks while it holds this many times any other tile's army.
        min_stack: smallest army worth attacking (or launching) with.
        launch_share: the general's army is launched once it holds this share of all own army.
        gather_tiles: a gather reaches this many own tiles, nearest the general first.
        cheap_max: while gathering, tiles sending at most this much army still take neutral land.
        threat_radius: visible enemy armies this many steps from its general count as threats.
    """

    expand_until: int = 60
    stack_ratio: float = 1.5
    min_stack: int = 20
    launch_share: float = 0.5
    gather_tiles: int = 25
    cheap_max: int = 2
    threat_radius: int = 3


class RaiderAgent(Agent):
    """Expand, gather, attack; the mode read from the board, batched over games."""

    name = "raider"

    def __init__(self, seed: int | None = None, config: RaiderConfig | None = None) -> None:
        super().__init__(seed)
        self.config = config or RaiderConfig()
        self.memory = Memory()

    def reset(self, games: Tensor | None = None) -> None:
        self.memory.forget(games)

    def act(self, obs: Observation) -> Tensor:
        cfg = self.config
        board = Board.of(obs)
        b, h, w = board.armies.shape
        tick = obs.scalars[:, 0].long()
        noise = tie_noise(self.rand(b, 1, h, w, device=board.armies.device))
        movable = board.movable.unsqueeze(1)
        sent = sent_army(board)
        classes = capture_classes(board)
        legal = legal_moves(obs)

        home = board.general & board.mine
        home_tile = argmax_tile(board.armies, home)
        home_army = gather_tile(board.armies, home_tile)
        blocked = board.mountain | board.obstacle
        home_reach = distance_field(home, ~blocked, limit=cfg.threat_radius)  # only for threats
        threat = threat_near(board, home_reach, home_army, cfg.threat_radius)
        home_dist = distance_field(home, board.mine)

        # The mode, from the board: a stack much larger than every other army attacks.
        off_home = board.mine & ~home
        stack_tile = argmax_tile(board.armies, off_home)
        stack_army = gather_tile(board.armies, stack_tile)
        others = board.mine & ~tile_mask(stack_tile, board.mine)
        second = torch.where(others, board.armies, 0).flatten(1).max(dim=1).values
        opening = tick < cfg.expand_until
        attacking = ~opening & (stack_army >= cfg.min_stack) & (stack_army >= cfg.stack_ratio * second)

        radius = gather_radius(home_dist, board.mine, cfg.gather_tiles)
        in_reach = (home_dist > 0) & (home_dist <= radius.view(-1, 1, 1))
        gather_moves = legal & movable & step_toward(home_dist) & in_reach.unsqueeze(1)
        total = torch.where(board.mine, board.armies, 0).flatten(1).sum(dim=1)
        launch = (
            ~opening
            & ~attacking
            & (home_army >= cfg.min_stack)
            & ((home_army >= cfg.launch_share * total) | ~any_in_game(gather_moves))
        )
        gathering = ~attacking & ~launch

        # The target: the enemy general, where it was seen or most likely stands.
        memory = self.memory.observe(obs)
        target = likely_general(memory, obs)
        enemy = memory[:, ENEMY].bool()
        enemy_army = torch.where(enemy, memory[:, ARMY], 0)

        # The stack (or the general's army, launching) one step along the cheapest path there.
        mover = torch.where(attacking, stack_tile, torch.where(launch, home_tile, -1))
        passable = ~blocked & ~(board.city & ~board.mine)
        remembered = torch.where(board.fog, enemy_army, board.armies)
        cost = torch.where(board.mine, 1, torch.where(board.enemy | enemy, 2 + remembered, 2))
        attack_dist = cost_field(target, cost, passable | board.enemy, games=mover >= 0)
        attack = tile_mask(mover, board.mine).unsqueeze(1) & movable & step_cheapest(attack_dist, cost)

        by_sent = rank(sent, noise)
        expand_value, expand_wanted = expansion(board, classes)
        by_expansion = rank(expand_value, noise)
        return decide(
            [
                *take_and_defend(legal, board, classes, threat, home_dist, by_sent, noise),
                Pick.of(by_expansion, legal & expand_wanted, opening),
                Pick.of(by_sent, legal & attack, ~gathering),
                # While gathering, small armies still take neutral land next to them.
                Pick.of(by_sent, legal & (classes == 2) & (sent <= cfg.cheap_max), gathering),
                # Gather leaves first (farthest from home), so each move carries what came before.
                Pick.of(rank(home_dist.unsqueeze(1) * 1024 + sent, noise), gather_moves, gathering),
                # Nothing else to do: expand, but never with the general's own army.
                Pick.of(by_expansion, legal & expand_wanted & ~home.unsqueeze(1)),
            ]
        )
