"""Gymnasium and PettingZoo adapters over the engine (docs/envs.md).

Importing this package registers ``generals_rl/Generals-v1`` with Gymnasium:
``gymnasium.make`` gives ``GeneralsEnv`` (one learner against scripted bots) and
``gymnasium.make_vec`` gives ``GeneralsVectorEnv`` (all games as one engine batch; pass
``mode="self_play"`` for every seat a sub-env). ``parallel_env(...)`` gives the PettingZoo
``GeneralsParallelEnv``.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from generals_rl.envs.core import BOARD_CHANNELS, GameBatch, observation_space
from generals_rl.envs.parallel import GeneralsParallelEnv
from generals_rl.envs.single import GeneralsEnv
from generals_rl.envs.vector import GeneralsVectorEnv

ENV_ID = "generals_rl/Generals-v1"
"""The Gymnasium id; the version follows breaking changes of spaces, rewards or rules."""

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="generals_rl.envs.single:GeneralsEnv",
        vector_entry_point="generals_rl.envs.vector:GeneralsVectorEnv",
    )


def parallel_env(**kwargs: Any) -> GeneralsParallelEnv:
    """The PettingZoo environment (PettingZoo's ``module.parallel_env()`` convention)."""
    return GeneralsParallelEnv(**kwargs)


__all__ = [
    "BOARD_CHANNELS",
    "ENV_ID",
    "GameBatch",
    "GeneralsEnv",
    "GeneralsParallelEnv",
    "GeneralsVectorEnv",
    "observation_space",
    "parallel_env",
]
