"""Memory of a fogged board: what each player last saw on every tile, and when.

An observation shows only the tiles next to the player's land (RULES 15). A policy that remembers
where the enemy's land, armies and general were seen, and how long ago, can go back for them; the
network's optional memory channels (``ResNetConfig.memory``) are computed from this state.

The state of N single-player views is int32 (N, ``MEMORY_STATE``, H, W), by channel:

    army        the army seen on the tile when last seen (0 if never seen)
    enemy       1 if the tile was an enemy tile when last seen
    general     1 if an enemy general stood there when last seen
    city        1 if the tile was a city the player did not own when last seen
    seen_tick   the tick it was last seen at; -1 if never

Each step the tiles in view overwrite their entries (``remember``); fogged tiles keep theirs. A new
game starts from ``empty_memory`` (``forget`` the rows whose game ended). The state is a function of
one seat's observations since its game started, so a learner rebuilds every step's memory from the
memory at a trajectory's first step and the trajectory's observations (``unroll_memory``): only that
first state travels with the experience (``Trajectories.extras["memory"]``, (N, 5, H, W)), as
recurrent agents store their core state at the start of each sequence.

``Memory`` keeps the state of a batch of seats that act step after step (collectors, agents).
"""

from __future__ import annotations

import torch
from torch import Tensor

from generals_rl.game.observations import PLANE, Observation

MEMORY_STATE = 5
ARMY, ENEMY, GENERAL, CITY, SEEN_TICK = range(MEMORY_STATE)
MEMORY_PLANES = 5
STALE_TICKS = 500.0  # staleness saturates at 1 after this many ticks unseen


def empty_memory(n: int, height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """The memory of N seats that have seen nothing yet."""
    memory = torch.zeros((n, MEMORY_STATE, height, width), dtype=torch.int32, device=device)
    memory[:, SEEN_TICK] = -1
    return memory


def remember(memory: Tensor, obs: Observation) -> Tensor:
    """``memory`` updated with the single-player views ``obs`` (N, ...): every tile in view is
    overwritten with what is there now; a new tensor."""
    planes = obs.planes
    visible = ~planes[:, PLANE["fog"]]
    enemy = planes[:, PLANE["enemy"]]
    seen = torch.stack(
        [
            obs.armies.to(torch.int32),
            enemy.to(torch.int32),
            (planes[:, PLANE["general"]] & enemy).to(torch.int32),
            (planes[:, PLANE["city"]] & ~planes[:, PLANE["mine"]]).to(torch.int32),
            obs.scalars[:, 0].to(torch.int32).view(-1, 1, 1).expand_as(obs.armies),
        ],
        dim=1,
    )
    return torch.where(visible.unsqueeze(1), seen, memory)


def forget(memory: Tensor, rows: Tensor) -> Tensor:
    """``memory`` with the rows where ``rows`` (bool (N,)) is true emptied (their games ended)."""
    if not bool(rows.any()):
        return memory
    fresh = empty_memory(1, memory.shape[-2], memory.shape[-1], memory.device)
    return torch.where(rows.view(-1, 1, 1, 1), fresh, memory)


def memory_planes(memory: Tensor, obs: Observation) -> Tensor:
    """float32 (N, MEMORY_PLANES, H, W) network input: log1p of the army last seen on enemy tiles,
    the tiles last seen as enemy land, as the enemy general and as cities not owned, and how stale
    each tile's memory is (ticks since seen / STALE_TICKS, at most 1; 1 if never seen)."""
    tick = obs.scalars[:, 0].float().view(-1, 1, 1)
    seen_tick = memory[:, SEEN_TICK].float()
    stale = torch.where(seen_tick < 0, 1.0, ((tick - seen_tick) / STALE_TICKS).clamp(0.0, 1.0))
    enemy = memory[:, ENEMY].float()
    return torch.stack(
        [
            torch.log1p(memory[:, ARMY].float().clamp(min=0)) * enemy,
            enemy,
            memory[:, GENERAL].float(),
            memory[:, CITY].float(),
            stale,
        ],
        dim=1,
    )


def unroll_memory(first: Tensor, obs: Observation, dones: Tensor) -> Tensor:
    """Every step's memory (N, T + 1, MEMORY_STATE, H, W) of trajectories whose observations
    ``obs`` are (N, T + 1, ...) and whose step-t action ended its game where ``dones`` (N, T):
    ``first`` (N, ...) is the memory at step 0 (its observation included); after a done the next
    step's memory starts empty."""
    steps = obs.armies.shape[1]
    states = [first]
    for t in range(1, steps):
        view = Observation(
            armies=obs.armies[:, t],
            planes=obs.planes[:, t],
            scalars=obs.scalars[:, t],
            action_mask=obs.action_mask[:, t],
        )
        states.append(remember(forget(states[-1], dones[:, t - 1]), view))
    return torch.stack(states, dim=1)


class Memory:
    """The memory of a batch of seats acting step after step: ``observe`` each step's views,
    ``forget`` the seats whose games ended. Starts empty, and again when the batch's shape changes
    (a game on another board)."""

    def __init__(self) -> None:
        self.state: Tensor | None = None

    def observe(self, obs: Observation) -> Tensor:
        """The memory including ``obs`` (the state to act on)."""
        n, h, w = obs.armies.shape
        if self.state is None or tuple(self.state.shape) != (n, MEMORY_STATE, h, w):
            self.state = empty_memory(n, h, w, obs.armies.device)
        self.state = remember(self.state.to(obs.armies.device), obs)
        return self.state

    def forget(self, rows: Tensor | None = None) -> None:
        """Empty the memory of the seats where ``rows`` (bool (N,)) is true, or of all."""
        if rows is None or self.state is None:
            self.state = None
        else:
            self.state = forget(self.state, rows.to(self.state.device))
