"""The ``random`` bot: a uniformly random legal action (pass included) every tick."""

from __future__ import annotations

from torch import Tensor

from generals_rl.agents.base import Agent, sample_legal
from generals_rl.game.observations import Observation


class RandomAgent(Agent):
    """Uniform over the legal flat actions; the weakest fixed opponent."""

    name = "random"

    def act(self, obs: Observation) -> Tensor:
        mask = obs.action_mask
        return sample_legal(mask, self.rand(*mask.shape[:-1], device=mask.device))
