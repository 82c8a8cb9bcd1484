"""Rewards: +1 for a win, -1 for a loss, 0 for a draw, plus optional potential-based shaping.

Shaping (Ng, Harada and Russell, 1999) never changes which policies are optimal. The potential of
player p is a weighted sum of its shares of land, army and cities, and of the danger its general
is in, each centred on the players' mean so that the potentials of a game sum to zero (shaped 1v1
rewards stay zero-sum):

    share_p(x) = x_p / sum_q x_q                           (0 for everyone when the sum is 0)
    phi_p(s)   = land_w * (share_p(land)   - 1/P sum_q share_q(land))
               + army_w * (share_p(army)   - 1/P sum_q share_q(army))
               + city_w * (share_p(cities) - 1/P sum_q share_q(cities))
               - guard_w * (danger_p       - 1/P sum_q danger_q)

    danger_p   = max(0, T_p - G_p) / max(1, T_p + G_p)     (``danger``; 0 once p has no general)

where G_p is the army on p's general and T_p the largest army on one enemy tile within
``guard_radius`` steps of it (Manhattan distance, mountains ignored; 0 without one): 0 while the
general outweighs every enemy army near it, towards 1 as a much larger one closes in.

and the reward for a transition s -> s' is

    r_p = outcome_p(s') + gamma * phi_p(s') - phi_p(s),    with phi_p(s') = 0 once s' is terminal,

where outcome_p is +1 / -1 / 0 on the tick the game ends (win / loss / draw) and 0 before.
Cities count cities the player owns (captured generals included, generals not).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.game.state import GameState


@dataclass(frozen=True)
class RewardConfig:
    """Shaping weights (0 turns a term off), the discount the shaping assumes, and how near an enemy
    army must be to a general to endanger it (``guard_radius``, in steps)."""

    land: float = 0.0
    army: float = 0.0
    city: float = 0.0
    gamma: float = 0.99
    guard: float = 0.0
    guard_radius: int = 8

    @property
    def shaped(self) -> bool:
        return any(w != 0.0 for w in (self.land, self.army, self.city, self.guard))


def outcome(state: GameState) -> Tensor:
    """float32 (B, P): +1 for players of the winning team, -1 for the others, 0 while playing or
    after a draw."""
    won = state.teams == state.winner.unsqueeze(1)
    decided = (state.done & (state.winner >= 0)).unsqueeze(1)
    return torch.where(decided, torch.where(won, 1.0, -1.0), 0.0).to(torch.float32)


def _share(values: Tensor) -> Tensor:
    """Each player's share of ``values`` (B, P), minus the mean share of the game."""
    total = values.sum(dim=1, keepdim=True)
    share = torch.where(total > 0, values / total.clamp(min=1), torch.zeros_like(values))
    return share - share.mean(dim=1, keepdim=True)


def danger(state: GameState, radius: int) -> Tensor:
    """float32 (B, P): danger_p of the module docstring, how far the largest enemy army within
    ``radius`` steps of each player's general outweighs the general's own army."""
    b, h, w = state.armies.shape
    generals = state.generals.clamp(min=0)  # (B, P); -1 (no general) masked below
    rows = torch.arange(h, device=state.device).view(1, 1, h, 1)
    cols = torch.arange(w, device=state.device).view(1, 1, 1, w)
    steps = (rows - (generals // w).view(b, -1, 1, 1)).abs() + (cols - (generals % w).view(b, -1, 1, 1)).abs()
    owner = state.owner.long()
    team = state.teams.gather(1, owner.clamp(min=0).flatten(1)).view(b, 1, h, w)  # the tile's owner's
    enemy = (owner.unsqueeze(1) >= 0) & (team != state.teams.view(b, -1, 1, 1))
    near = torch.where(enemy & (steps <= radius), state.armies.unsqueeze(1), 0)
    threat = near.flatten(2).amax(dim=2).float()
    general = state.armies.flatten(1).gather(1, generals).float()
    value = (threat - general).clamp(min=0) / (threat + general).clamp(min=1)
    return torch.where(state.generals >= 0, value, 0.0)


def potential(state: GameState, config: RewardConfig) -> Tensor:
    """float32 (B, P): phi_p(s) of the module docstring."""
    phi = torch.zeros(state.batch_size, state.num_players, device=state.device)
    if config.land:
        phi += config.land * _share(state.land().float())
    if config.army:
        phi += config.army * _share(state.army().float())
    if config.city:
        cities = state.cities & ~state.general_tiles()
        players = torch.arange(state.num_players, device=state.device, dtype=state.owner.dtype)
        owned = (state.owner.unsqueeze(1) == players.view(1, -1, 1, 1)) & cities.unsqueeze(1)
        phi += config.city * _share(owned.flatten(2).sum(-1).float())
    if config.guard:
        value = danger(state, config.guard_radius)
        phi -= config.guard * (value - value.mean(dim=1, keepdim=True))
    return phi


def rewards(before: GameState, after: GameState, config: RewardConfig | None = None) -> Tensor:
    """float32 (B, P): the reward of every player for the tick from ``before`` to ``after``.

    Games already over in ``before`` earn nothing.
    """
    config = config or RewardConfig()
    playing = (~before.done).unsqueeze(1)
    reward = outcome(after)
    if config.shaped:
        phi_after = torch.where(after.done.unsqueeze(1), 0.0, potential(after, config))
        reward = reward + config.gamma * phi_after - potential(before, config)
    return torch.where(playing, reward, 0.0)
