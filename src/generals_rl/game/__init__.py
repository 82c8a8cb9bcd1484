"""The generals.io engine: batched state, rules, maps, observations, rewards (pure: no I/O)."""

from generals_rl.game.engine import (
    RULES_VERSION,
    EngineConfig,
    decode_actions,
    eliminate,
    encode_action,
    num_actions,
    step,
)
from generals_rl.game.generators import MapConfig, MapPool, generate_maps
from generals_rl.game.maps import MapError, Maps, initial_state
from generals_rl.game.observations import PLANES, Observation, action_mask, observe, scalar_names
from generals_rl.game.state import NEUTRAL, GameState

__all__ = [
    "NEUTRAL",
    "PLANES",
    "RULES_VERSION",
    "EngineConfig",
    "GameState",
    "MapConfig",
    "MapError",
    "MapPool",
    "Maps",
    "Observation",
    "action_mask",
    "decode_actions",
    "eliminate",
    "encode_action",
    "generate_maps",
    "initial_state",
    "num_actions",
    "observe",
    "scalar_names",
    "step",
]
