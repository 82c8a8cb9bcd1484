"""What each player sees (RULES 15-17) and what it may do: fogged observations and legal masks.

``observe(state)`` returns one ``Observation`` for all B games and all P players:

- ``armies`` int32 (B, P, H, W): army on each tile the player sees, 0 in fog.
- ``planes`` bool (B, P, C, H, W), channels in ``PLANES`` order:
    ``mine``             tiles the player owns
    ``ally``             visible tiles of its teammates (empty without teams)
    ``enemy``            visible tiles of every other player
    ``neutral``          visible tiles nobody owns that are not mountains (neutral cities included)
    ``mountain``         visible mountains; tiles outside the real map count as visible mountains
    ``city``             visible cities, whoever owns them
    ``general``          visible generals
    ``fog``              tiles the player does not see
    ``obstacle_in_fog``  fogged mountains and cities (both shown as one "obstacle", RULES 16)
- ``scalars`` int32 (B, P, 1 + 2P), in ``scalar_names(P)`` order: the tick, then the land and
  army of every player, the observing player first and the others after it in index order
  (p, p+1, ..., P-1, 0, ..., p-1). RULES 17: everyone sees everyone's totals.
- ``action_mask`` bool (B, P, A): legal flat actions (see ``engine``); pass is always legal.

``Observation.player(p)`` gives one player's views, the same tensors without the P dimension;
that single-player form is what agents act on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.game.state import GameState

PLANES: tuple[str, ...] = (
    "mine",
    "ally",
    "enemy",
    "neutral",
    "mountain",
    "city",
    "general",
    "fog",
    "obstacle_in_fog",
)
PLANE = {name: i for i, name in enumerate(PLANES)}


def scalar_names(num_players: int) -> tuple[str, ...]:
    """Names of the ``scalars`` entries: tick, then (land, army) for self and each other player."""
    names = ["tick"]
    for j in range(num_players):
        who = "self" if j == 0 else f"other{j}"
        names += [f"{who}_land", f"{who}_army"]
    return tuple(names)


@dataclass(frozen=True)
class Observation:
    """Fogged views of every player of B games (shapes in the module docstring)."""

    armies: Tensor
    planes: Tensor
    scalars: Tensor
    action_mask: Tensor

    def player(self, p: int) -> Observation:
        """The views of player ``p`` only: every tensor loses its player dimension."""
        return Observation(
            armies=self.armies[:, p],
            planes=self.planes[:, p],
            scalars=self.scalars[:, p],
            action_mask=self.action_mask[:, p],
        )

    def flatten_players(self) -> Observation:
        """All views as one batch of B * P single-player views (game-major)."""
        return Observation(
            armies=self.armies.flatten(0, 1),
            planes=self.planes.flatten(0, 1),
            scalars=self.scalars.flatten(0, 1),
            action_mask=self.action_mask.flatten(0, 1),
        )

    def plane(self, name: str) -> Tensor:
        """One named channel: bool (B, P, H, W), or (B, H, W) for a single-player view."""
        return self.planes[..., PLANE[name], :, :]


def dilate(mask: Tensor) -> Tensor:
    """bool (..., H, W): tiles within Chebyshev distance 1 of a true tile (the 3x3 block)."""
    rows = mask.clone()
    rows[..., 1:, :] |= mask[..., :-1, :]
    rows[..., :-1, :] |= mask[..., 1:, :]
    out = rows.clone()
    out[..., :, 1:] |= rows[..., :, :-1]
    out[..., :, :-1] |= rows[..., :, 1:]
    return out


def owned_planes(state: GameState) -> Tensor:
    """bool (B, P, H, W): tiles owned by each player."""
    players = torch.arange(state.num_players, device=state.device, dtype=state.owner.dtype)
    return state.owner.unsqueeze(1) == players.view(1, -1, 1, 1)


def visibility(state: GameState, owned: Tensor | None = None) -> Tensor:
    """bool (B, P, H, W): tiles each player sees (RULES 15), plus everything outside the map."""
    owned = owned_planes(state) if owned is None else owned
    return dilate(owned) | ~state.in_bounds().unsqueeze(1)


def passable_directions(state: GameState) -> Tensor:
    """bool (B, 4, H, W): the neighbour in each direction (up, down, left, right) is on the board
    and not a mountain."""
    free = ~state.mountains
    b, h, w = free.shape
    out = torch.zeros(b, 4, h, w, dtype=torch.bool, device=state.device)
    out[:, 0, 1:, :] = free[:, :-1, :]
    out[:, 1, :-1, :] = free[:, 1:, :]
    out[:, 2, :, 1:] = free[:, :, :-1]
    out[:, 3, :, :-1] = free[:, :, 1:]
    return out


def action_mask(state: GameState, owned: Tensor | None = None) -> Tensor:
    """bool (B, P, 1 + H*W*8): legal flat actions of every player (RULES 6).

    A move is legal when the player is alive in a running game, owns the source, the source holds
    at least 2 army, and the destination is on the board and not a mountain. Pass is always legal.
    """
    owned = owned_planes(state) if owned is None else owned
    b, p, n = state.batch_size, state.num_players, state.num_tiles
    can_act = (state.alive & ~state.done.unsqueeze(1)).view(b, p, 1, 1)
    movable = (owned & (state.armies >= 2).unsqueeze(1) & can_act).view(b, p, 1, n)
    out = torch.empty(b, p, 1 + 8 * n, dtype=torch.bool, device=state.device)
    out[..., 0] = True
    planes = out[..., 1:].view(b, p, 2, 4, n)  # (half, direction, tile), as the action layout
    torch.logical_and(movable, passable_directions(state).view(b, 1, 4, n), out=planes[:, :, 0])
    planes[:, :, 1] = planes[:, :, 0]
    return out


def observe(state: GameState) -> Observation:
    """Every player's fogged observation and legal-action mask."""
    p = state.num_players
    owned = owned_planes(state)
    visible = visibility(state, owned)
    any_owner = (state.owner >= 0).unsqueeze(1)
    same_team = state.teams.unsqueeze(2) == state.teams.unsqueeze(1)  # (B, P, P)
    eye = torch.eye(p, dtype=torch.bool, device=state.device)
    if bool((same_team & ~eye).any()):
        mates = (same_team & ~eye).to(torch.float32)
        ally_owned = torch.einsum("bpq,bqhw->bphw", mates, owned.to(torch.float32)) > 0
    else:
        ally_owned = torch.zeros_like(owned)
    mountains = state.mountains.unsqueeze(1)
    cities = state.cities.unsqueeze(1)
    fog = ~visible
    planes = torch.stack(
        [
            owned,
            ally_owned & visible,
            any_owner & ~owned & ~ally_owned & visible,
            ~any_owner & ~mountains & visible,
            mountains & visible,
            cities & visible,
            state.general_tiles().unsqueeze(1) & visible,
            fog,
            fog & (mountains | cities),
        ],
        dim=2,
    )
    armies = torch.where(visible, state.armies.unsqueeze(1), torch.zeros((), dtype=state.armies.dtype))
    return Observation(
        armies=armies,
        planes=planes,
        scalars=player_scalars(state, owned),
        action_mask=action_mask(state, owned),
    )


def player_scalars(state: GameState, owned: Tensor | None = None) -> Tensor:
    """int32 (B, P, 1 + 2P): tick, then (land, army) of each player, the observer first."""
    b, p = state.batch_size, state.num_players
    owned = owned_planes(state) if owned is None else owned
    flat = owned.view(b, p, -1)
    land = flat.sum(-1)
    army = (flat * state.armies.view(b, 1, -1)).sum(-1)
    rotate = (torch.arange(p, device=state.device).view(-1, 1) + torch.arange(p, device=state.device)) % p
    land_r = land[:, rotate]  # (B, P, P): [b, observer, j] = land of player (observer + j) % P
    army_r = army[:, rotate]
    totals = torch.stack([land_r, army_r], dim=-1).reshape(b, p, 2 * p)
    tick = state.tick.view(b, 1, 1).expand(b, p, 1)
    return torch.cat([tick, totals], dim=-1).to(torch.int32)
