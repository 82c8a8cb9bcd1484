"""Rewards: +1 for a win, -1 for a loss, 0 for a draw, plus optional potential-based shaping.

Shaping (Ng, Harada and Russell, 1999) never changes which policies are optimal. The potential of
player p is a weighted sum of its shares of land, army and cities, centred on the players' mean
so that the potentials of a game sum to zero (shaped 1v1 rewards stay zero-sum):

    share_p(x) = x_p / sum_q x_q                           (0 for everyone when the sum is 0)
    phi_p(s)   = land_w * (share_p(land)   - 1/P sum_q share_q(land))
               + army_w * (share_p(army)   - 1/P sum_q share_q(army))
               + city_w * (share_p(cities) - 1/P sum_q share_q(cities))

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
    """Shaping weights (0 turns a term off) and the discount the shaping assumes."""

    land: float = 0.0
    army: float = 0.0
    city: float = 0.0
    gamma: float = 0.99

    @property
    def shaped(self) -> bool:
        return any(w != 0.0 for w in (self.land, self.army, self.city))


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
