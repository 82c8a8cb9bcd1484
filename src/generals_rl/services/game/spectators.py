"""Spectators of seated games (WatchGame): frames of the whole board or of one seat's fog, in
bounded buffers, so that no spectator ever slows a game.

A ``Room`` (rooms) keeps its ``SpectatorFeed``s. After every tick it builds each distinct frame
once (the whole board; the view of each seat someone watches by its fog) and pushes it to every
feed that asked for it: a push is O(1) and never waits. A feed holds at most ``WATCH_BUFFER``
frames; pushing onto a full one drops the oldest and counts it (``SpectatorFrame.skipped``), so a
spectator that reads slower than the game plays jumps ticks. The last frame (``done``) is the
newest one and is never dropped.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable

import torch

from generals_rl.game.observations import player_scalars
from generals_rl.game.state import GameState
from generals_rl.services.game.domain import FullBoard, SpectatorFrame

WATCH_BUFFER = 64
"""Frames a spectator's feed holds before the oldest go."""

MAX_SPECTATORS = 256
"""Spectators one game may have at once (beyond it WatchGame is RESOURCE_EXHAUSTED)."""

TERRAIN_PLAIN, TERRAIN_MOUNTAIN, TERRAIN_CITY, TERRAIN_GENERAL = range(4)
"""``FullBoard.terrain`` codes (game.proto): plain land, mountain, city, a standing general."""


class SpectatorFeed:
    """The frames waiting to be sent on one open WatchGame stream (module docstring). ``wake`` is
    called after every push (the stream's sender waits on it)."""

    def __init__(
        self,
        game_id: str,
        fog_of: int | None,
        wake: Callable[[], None] = lambda: None,
        capacity: int = WATCH_BUFFER,
    ) -> None:
        self.game_id = game_id
        self.fog_of = fog_of
        self.wake = wake
        self._frames: deque[tuple[SpectatorFrame, int]] = deque()  # with the frames lost before each
        self.capacity = capacity

    def push(self, frame: SpectatorFrame) -> None:
        lost = 0
        if len(self._frames) >= self.capacity:
            _, before = self._frames.popleft()
            lost = 1 + before
            if self._frames:  # the next one now follows the gap
                head, skipped = self._frames[0]
                self._frames[0] = (head, skipped + lost)
                lost = 0
        self._frames.append((frame, lost))
        self.wake()

    def pop(self) -> SpectatorFrame | None:
        """The oldest frame waiting (with the count of frames lost just before it), or None."""
        if not self._frames:
            return None
        frame, lost = self._frames.popleft()
        return dataclasses.replace(frame, skipped=lost) if lost else frame


def full_board(state: GameState, game: int = 0) -> FullBoard:
    """Game ``game`` of ``state`` without fog: owners, armies and terrain of every tile, and the
    totals of every seat in seat order."""
    mountains = state.mountains[game]
    terrain = torch.full(mountains.shape, TERRAIN_PLAIN, dtype=torch.uint8)
    terrain[state.cities[game]] = TERRAIN_CITY
    terrain[state.general_tiles()[game]] = TERRAIN_GENERAL
    terrain[mountains] = TERRAIN_MOUNTAIN
    zero = torch.zeros((), dtype=state.armies.dtype)
    return FullBoard(
        armies=torch.where(mountains, zero, state.armies[game]).to(torch.int32),
        owners=torch.where(mountains, torch.tensor(-1, dtype=torch.int8), state.owner[game].to(torch.int8)),
        terrain=terrain,
        scalars=player_scalars(state)[game, 0].clone(),
    )
