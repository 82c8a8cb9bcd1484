"""Replaying an official replay on the engine (RULES 23), tick by tick.

For each tick ``t`` (from 0): apply every logged move with ``turn <= t`` in list order, then
every AFK record with ``turn <= t``, then the tick counter, growth and the end check. The
engine's own primitives do the work (``apply_moves``, ``eliminate``, ``neutralize_players``,
``advance_tick``); there is no second implementation of the rules here.

- A move applies iff its player owns the source and the source holds >= 2 army, and the target
  is on the board, adjacent and not a mountain (RULES 6). A player out of the game by an AFK
  record who still owns tiles still moves, as in the official simulator.
- The first AFK record of a live player eliminates it, its land untouched; a later one, for a
  player already out, neutralizes it if its general was never captured (RULES 14).
- Version < 6 regenerates neutral cities below 40 (RULES 5).

Records are taken from the front of each list while their ``turn <= t``, as the official
simulator does (logs are in tick order, so this is "every record with ``turn <= t``").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from generals_rl.game.engine import (
    MAX_TICKS_LIMIT,
    EngineConfig,
    advance_tick,
    apply_moves,
    eliminate,
    neutralize_players,
)
from generals_rl.game.maps import initial_state
from generals_rl.game.replay_format import Replay, ReplayError
from generals_rl.game.state import GameState

_Prepared = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""A move's (mover, source, dest, half) as engine tensors of shape (1,)."""

UNSUPPORTED_FEATURES = ("swamps", "deserts", "lookouts", "observatories", "modifiers")
"""Newer map features and game modifiers the engine does not implement."""


class ReplaySimulator:
    """Steps one replay. ``state`` is a batch of one; ``step()`` plays the next tick.

    The game is ``over`` when one player (or team) is left. Without ``max_ticks`` it is also over
    once every record has been applied (nothing but growth could follow); with it, a game still
    running at tick ``max_ticks`` ends there (a draw, as a truncated live game does).
    """

    def __init__(
        self, replay: Replay, device: torch.device | str = "cpu", max_ticks: int | None = None
    ) -> None:
        for name in UNSUPPORTED_FEATURES:
            value = replay.swamps if name == "swamps" else replay.extra.get(name)
            if value:
                raise ReplayError(f"replays with {name} cannot be simulated: the engine has no such rule")
        self.replay = replay
        self.device = torch.device(device)
        teams = None if replay.teams is None else torch.tensor(replay.teams, dtype=torch.int64)
        self.state = initial_state(replay.maps().to(self.device), teams)
        self.config = EngineConfig(
            max_ticks=max_ticks or MAX_TICKS_LIMIT, city_regeneration=replay.version < 6
        )
        self._last_turn = replay.last_turn if max_ticks is None else MAX_TICKS_LIMIT
        self._moves = [self._prepare(m.index, m.start, m.end, m.is50) for m in replay.moves]
        self._next_move = 0
        self._next_afk = 0

    def _prepare(self, index: int, start: int, end: int, is50: bool) -> _Prepared | None:
        """The move's engine arguments, or None if it can never apply (off the board, not adjacent)."""
        w, n = self.replay.map_width, self.replay.num_tiles
        if not (0 <= start < n and 0 <= end < n):
            return None
        if abs(start // w - end // w) + abs(start % w - end % w) != 1:
            return None

        def one(value: int | bool, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor([value], dtype=dtype, device=self.device)

        # The board is unpadded, so an official index is the engine's flat index.
        return (
            one(index, torch.int64),
            one(start, torch.int64),
            one(end, torch.int64),
            one(is50, torch.bool),
        )

    @property
    def tick(self) -> int:
        return int(self.state.tick[0])

    @property
    def over(self) -> bool:
        return bool(self.state.done[0]) or self.tick > self._last_turn

    def step(self) -> GameState:
        """Play tick ``self.tick``; returns the state after its growth and end check."""
        if self.over:
            raise ReplayError("the replay is over")
        t = self.tick
        state = self.state.clone()  # states are values: one yielded earlier must not change
        playing = ~state.done
        moves = self.replay.moves
        active = torch.ones(1, dtype=torch.bool, device=self.device)
        while self._next_move < len(moves) and moves[self._next_move].turn <= t:
            prepared = self._moves[self._next_move]
            self._next_move += 1
            if prepared is not None:
                mover, source, dest, half = prepared
                apply_moves(state, mover, source, dest, half, active)
        afks = self.replay.afks
        while self._next_afk < len(afks) and afks[self._next_afk].turn <= t:
            player = afks[self._next_afk].index
            self._next_afk += 1
            mask = torch.zeros_like(state.alive)
            mask[0, player] = True
            if bool(state.alive[0, player]):
                state = eliminate(state, mask, neutralize=False)
            else:
                neutralize_players(state, mask)
        advance_tick(state, self.config, playing)
        self.state = state
        return state


def simulate(
    replay: Replay, device: torch.device | str = "cpu", max_ticks: int | None = None
) -> Iterator[GameState]:
    """The state after each tick's growth (a batch of one), until the game is over (see
    ``ReplaySimulator`` for ``max_ticks``)."""
    sim = ReplaySimulator(replay, device, max_ticks)
    while not sim.over:
        yield sim.step()


def trace_line(state: GameState, height: int, width: int) -> dict[str, Any]:
    """One tick of a trace: tick, players not eliminated, and every tile's owner (official codes:
    player >= 0, -1 neutral or empty, -2 mountain) and army, by official index."""
    return {
        "tick": int(state.tick[0]),
        "alive": int(state.alive[0].sum()),
        "owners": state.owner_codes()[0, :height, :width].flatten().tolist(),
        "armies": state.armies[0, :height, :width].flatten().tolist(),
    }


def trace_lines(replay: Replay, max_ticks: int | None = None) -> Iterator[dict[str, Any]]:
    """``trace_line`` of every tick of ``simulate(replay)``."""
    for state in simulate(replay, max_ticks=max_ticks):
        yield trace_line(state, replay.map_height, replay.map_width)
