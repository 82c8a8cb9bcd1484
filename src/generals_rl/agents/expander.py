"""The ``expander`` bot: greedy land and city taking, the first fixed opponent above random.

Each tick it makes the best capture it has (the enemy general, then enemy tiles, then neutral
plain tiles, then cities it can afford; the largest sent army first), otherwise moves its largest
army one step toward the nearest tile it does not own. It passes only when neither exists.
It keeps no memory: every choice comes from the current fogged observation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from generals_rl.agents.base import Agent
from generals_rl.agents.tactics import NO_MOVE, Board, Pick, expansion, legal_moves, rank, tie_noise
from generals_rl.game.observations import Observation


class ExpanderAgent(Agent):
    """Greedy expansion, batched over games; seeded noise only breaks ties."""

    name = "expander"

    def act(self, obs: Observation) -> Tensor:
        board = Board.of(obs)
        b, h, w = board.armies.shape
        noise = tie_noise(self.rand(b, 1, h, w, device=board.armies.device))
        value, wanted = expansion(board)
        pick = Pick.of(rank(value, noise), wanted & legal_moves(obs))
        return torch.where(pick.rank > NO_MOVE, pick.action, 0)
