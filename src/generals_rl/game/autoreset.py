"""Auto-reset: finished games of a batch start again on fresh maps, the others go on."""

from __future__ import annotations

from torch import Tensor

from generals_rl.game.generators import MapPool
from generals_rl.game.maps import initial_state
from generals_rl.game.state import GameState


def reset_finished(state: GameState, pool: MapPool, teams: Tensor | None = None) -> tuple[GameState, Tensor]:
    """Replace every finished game with a new one drawn from ``pool``.

    Returns the new state and bool (B,): which games were replaced. Games still playing keep
    their tensors untouched. The pool must pad its maps to the state's board.
    """
    finished = state.done.clone()
    index = finished.nonzero().squeeze(1)
    if index.numel() == 0:
        return state, finished
    maps = pool.take(int(index.numel())).to(state.device)
    if maps.shape != (state.height, state.width):
        raise ValueError(f"pool maps are {maps.shape}, the batch is {(state.height, state.width)}")
    fresh = initial_state(maps, None if teams is None else teams[index])
    out = {}
    for name, tensor in state.tensors().items():
        replaced = tensor.clone()
        replaced[index] = getattr(fresh, name)
        out[name] = replaced
    return GameState(**out), finished


def new_games(batch: int, pool: MapPool, teams: Tensor | None = None) -> GameState:
    """A batch of games at tick 0 on the pool's next maps."""
    return initial_state(pool.take(batch).to(pool.device), teams)


__all__ = ["new_games", "reset_finished"]
