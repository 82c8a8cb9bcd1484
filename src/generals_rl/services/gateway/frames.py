"""Replays for the browser's viewer: an official replay simulated on the engine, every tick's
board as changes to the one before.

The viewer scrubs to any tick and draws any player's fog itself (a player sees the 3 x 3 block
around each of its tiles and its teammates', RULES 15), so it gets the whole board:

    {"id", "width", "height", "names", "teams", "ticks": N, "truncated": bool,
     "initial": {"owners": [...], "armies": [...], "terrain": [...]},
     "deltas": [[tile, owner, army, terrain, tile, owner, army, terrain, ...], ...]}

``initial`` is the board before the first tick (row-major tiles); ``deltas[t]`` lists the tiles
that changed in tick ``t + 1``, four numbers each. Owners: a player index, or -1 for nobody.
Terrain: ``TERRAIN_*`` (as the Game Service's spectator frames, ``services.game.spectators``).
The simulation is ``game.replay_sim`` (no second copy of the rules).
"""

from __future__ import annotations

from typing import Any

import torch

from generals_rl.game.replay_format import Replay
from generals_rl.game.replay_sim import ReplaySimulator
from generals_rl.game.state import GameState
from generals_rl.services.game.spectators import (
    TERRAIN_CITY,
    TERRAIN_GENERAL,
    TERRAIN_MOUNTAIN,
    TERRAIN_PLAIN,
    full_board,
)

__all__ = ["TERRAIN_CITY", "TERRAIN_GENERAL", "TERRAIN_MOUNTAIN", "TERRAIN_PLAIN", "replay_frames"]


def _board(state: GameState, height: int, width: int) -> torch.Tensor:
    """int64 (3, H * W): owner, army and terrain of every tile of the unpadded map."""
    board = full_board(state)
    planes = [board.owners, board.armies, board.terrain]
    return torch.stack([t[:height, :width].long() for t in planes]).reshape(3, -1)


def replay_frames(replay: Replay, replay_id: str, max_ticks: int) -> dict[str, Any]:
    """The viewer's JSON for ``replay`` (module docstring), at most ``max_ticks`` ticks.

    Raises ``ReplayError`` for a replay the engine cannot play (newer map features).
    """
    sim = ReplaySimulator(replay)
    height, width = replay.map_height, replay.map_width
    before = _board(sim.state, height, width)
    initial = before
    deltas: list[list[int]] = []
    while not sim.over and len(deltas) < max_ticks:
        after = _board(sim.step(), height, width)
        changed = (after != before).any(dim=0).nonzero().flatten()
        rows = torch.cat([changed.unsqueeze(0), after[:, changed]]).T
        deltas.append([int(x) for x in rows.flatten().tolist()])
        before = after
    return {
        "id": replay_id,
        "width": width,
        "height": height,
        "names": [name or f"player {i}" for i, name in enumerate(replay.usernames)],
        "teams": None if replay.teams is None else list(replay.teams),
        "ticks": len(deltas),
        "truncated": not sim.over,
        "initial": {
            "owners": [int(x) for x in initial[0].tolist()],
            "armies": [int(x) for x in initial[1].tolist()],
            "terrain": [int(x) for x in initial[2].tolist()],
        },
        "deltas": deltas,
    }
