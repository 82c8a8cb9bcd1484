"""Play agents against each other on a batch of games, one agent a seat, to the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from generals_rl.agents.base import Agent
from generals_rl.game.engine import EngineConfig, step
from generals_rl.game.maps import Maps, initial_state
from generals_rl.game.observations import observe
from generals_rl.game.state import GameState

TickCallback = Callable[[GameState, Tensor], None]
"""Called before every tick with the state and the int64 (B, P) actions about to be played."""


@dataclass(frozen=True)
class MatchResult:
    """How a batch of games ended.

    Attributes:
        seats: the name of the agent in each seat.
        winners: int64 (G,), the winning team of each game (the seat, without teams), -1 a draw.
        ticks: int64 (G,), how long each game lasted.
        final: the state every game ended in.
    """

    seats: tuple[str, ...]
    winners: Tensor
    ticks: Tensor
    final: GameState

    @property
    def games(self) -> int:
        return int(self.winners.shape[0])

    def wins(self, seat: int) -> int:
        """Games won by the team of ``seat``."""
        team = int(self.final.teams[0, seat])
        return int((self.winners == team).sum())

    @property
    def draws(self) -> int:
        return int((self.winners < 0).sum())


def play_games(
    agents: Sequence[Agent],
    maps: Maps,
    config: EngineConfig | None = None,
    teams: Tensor | None = None,
    on_tick: TickCallback | None = None,
) -> MatchResult:
    """Play every map of ``maps`` to its end (a winner or the tick limit), one agent a seat."""
    config = config or EngineConfig()
    if len(agents) != maps.num_players:
        raise ValueError(f"{len(agents)} agents for maps with {maps.num_players} players")
    state = initial_state(maps, teams)
    for agent in agents:
        agent.reset()
    while not bool(state.done.all()):
        obs = observe(state)
        actions = torch.stack([agent.act(obs.player(p)) for p, agent in enumerate(agents)], dim=1)
        if on_tick is not None:
            on_tick(state, actions)
        state = step(state, actions, config)
    return MatchResult(
        seats=tuple(agent.name for agent in agents),
        winners=state.winner.clone(),
        ticks=state.tick.clone(),
        final=state,
    )
