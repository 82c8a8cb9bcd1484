"""The agent interface: a policy that plays one seat of B games from that seat's observations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from generals_rl.game.observations import Observation


class Agent(ABC):
    """Plays one seat of a batch of games.

    ``act`` receives the seat's single-player views (``Observation.player(p)``: tensors of shape
    (B, ...)) and returns int64 (B,) flat actions that must be legal under ``obs.action_mask``.
    Agents with memory keep it per game and forget it in ``reset``.
    """

    name: ClassVar[str] = "agent"

    def __init__(self, seed: int | None = None) -> None:
        self.generator = torch.Generator()
        self.generator.manual_seed(seed if seed is not None else int(torch.seed() % 2**63))

    def reset(self, games: Tensor | None = None) -> None:
        """Forget what was remembered about the games where ``games`` (bool (B,)) is true, or all."""
        return  # memoryless agents have nothing to forget

    def played(self, actions: Tensor) -> None:
        """The int64 (B,) actions played in the seat of the last ``act``, when someone else chose
        them: a teacher advising a learner (kickstarting) sees the learner's moves here, so that
        what it remembers of its own moves follows the game actually played. Memoryless agents
        and those whose memory holds only what they observe ignore it."""
        return

    @abstractmethod
    def act(self, obs: Observation) -> Tensor:
        """int64 (B,): one legal flat action per game."""

    def rand(self, *shape: int, device: torch.device | None = None) -> Tensor:
        """Uniform [0, 1) numbers from the agent's own seeded stream (on the CPU, then moved)."""
        values = torch.rand(*shape, generator=self.generator)
        return values if device is None else values.to(device)


def sample_legal(mask: Tensor, uniform: Tensor) -> Tensor:
    """int64 (...,): for each row of ``mask`` (..., A) the legal index chosen uniformly by
    ``uniform`` (...,) in [0, 1). Rows with no legal action give 0 (pass)."""
    counts = mask.cumsum(-1, dtype=torch.int32)
    total = counts[..., -1]
    k = (uniform * total).long().clamp(max=total.long() - 1) + 1
    chosen = torch.searchsorted(counts, k.to(torch.int32).unsqueeze(-1)).squeeze(-1)
    return torch.where(total > 0, chosen, torch.zeros_like(chosen))
