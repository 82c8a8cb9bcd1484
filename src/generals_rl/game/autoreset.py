"""Auto-reset: finished games of a batch start again on fresh maps, the others go on."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from generals_rl.game.maps import Maps, initial_state
from generals_rl.game.state import GameState


class MapSource(Protocol):
    """Where new games take their maps: a ``MapPool``, or fixed maps played in turn."""

    def take(self, k: int) -> Maps: ...


class FixedMaps:
    """Fixed maps played in turn, as a ``MapSource``."""

    def __init__(self, maps: Maps) -> None:
        self.maps = maps
        self._next = 0

    def take(self, k: int) -> Maps:
        index = (torch.arange(k) + self._next) % self.maps.batch_size
        self._next = (self._next + k) % self.maps.batch_size
        return self.maps.select(index.to(self.maps.mountains.device))


def restart_games(
    state: GameState, games: Tensor, source: MapSource, teams: Tensor | None = None
) -> GameState:
    """A new state in which the games where ``games`` (bool (B,)) is true start again at tick 0
    on the next maps of ``source``; the other games keep their tensors. ``state`` is unchanged."""
    index = games.nonzero().squeeze(1)
    if index.numel() == 0:
        return state
    maps = source.take(int(index.numel())).to(state.device)
    if maps.shape != (state.height, state.width):
        raise ValueError(f"new maps are {maps.shape}, the batch is {(state.height, state.width)}")
    fresh = initial_state(maps, None if teams is None else teams[index])
    out = {}
    for name, tensor in state.tensors().items():
        replaced = tensor.clone()
        replaced[index] = getattr(fresh, name)
        out[name] = replaced
    return GameState(**out)


def reset_finished(
    state: GameState, source: MapSource, teams: Tensor | None = None
) -> tuple[GameState, Tensor]:
    """Restart every finished game; returns the new state and bool (B,): which games restarted."""
    finished = state.done.clone()
    return restart_games(state, finished, source, teams), finished


def new_games(batch: int, source: MapSource, teams: Tensor | None = None) -> GameState:
    """A batch of games at tick 0 on the next maps of ``source``."""
    return initial_state(source.take(batch), teams)
