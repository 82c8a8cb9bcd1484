"""A neural policy as an ``Agent``: any ``PolicyNetwork`` plays a seat of B games."""

from __future__ import annotations

import torch
from torch import Tensor

from generals_rl.agents.base import Agent
from generals_rl.game.observations import Observation
from generals_rl.training.memory import Memory
from generals_rl.training.networks import PolicyNetwork


class NeuralAgent(Agent):
    """Samples from (or, ``greedy``, takes the mode of) the network's legal-only distribution.

    A network with memory (``uses_memory``) acts on what this agent has seen in each game so far:
    ``reset`` forgets the games that ended, and acting on a batch of another shape starts afresh.
    """

    def __init__(
        self,
        network: PolicyNetwork,
        seed: int | None = None,
        greedy: bool = False,
        device: torch.device | str = "cpu",
        name: str = "model",
    ) -> None:
        super().__init__(seed)
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.greedy = greedy
        self.name = name  # type: ignore[misc]  # an instance name: which version plays
        self.memory = Memory()

    def reset(self, games: Tensor | None = None) -> None:
        self.memory.forget(games)

    def act(self, obs: Observation) -> Tensor:
        view = Observation(
            armies=obs.armies.to(self.device),
            planes=obs.planes.to(self.device),
            scalars=obs.scalars.to(self.device),
            action_mask=obs.action_mask.to(self.device),
        )
        generator = self.generator if self.device.type == "cpu" else None
        memory = self.memory.observe(view) if self.network.uses_memory else None
        actions, _, _ = self.network.act(view, generator=generator, greedy=self.greedy, memory=memory)
        return actions.to(obs.action_mask.device)
