"""Replays: the official formats (``replay_format``), replaying them on the engine
(``replay_sim``), and recording our own games as replays (``ReplayRecorder``, here).

A recorded game replays on ``simulate`` to exactly the live game, tick by tick: the recorder logs
each tick's moves in the order the engine executes them (``engine.move_order``), so replaying
needs no move-order rule (RULES 23).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import torch

from generals_rl.game.engine import RULES_VERSION, EngineConfig, decode_actions, move_order
from generals_rl.game.maps import Maps
from generals_rl.game.replay_format import (
    POSITIONAL_FIELDS,
    Afk,
    Move,
    Replay,
    ReplayError,
    load_replay,
)
from generals_rl.game.replay_sim import ReplaySimulator, simulate, trace_line, trace_lines
from generals_rl.game.state import GameState

__all__ = [
    "POSITIONAL_FIELDS",
    "Afk",
    "Move",
    "Replay",
    "ReplayError",
    "ReplayRecorder",
    "ReplaySimulator",
    "load_replay",
    "simulate",
    "trace_line",
    "trace_lines",
]

_ALIVE, _OUT, _GONE = 0, 1, 2
"""A player's standing as the recorder last saw it: playing; eliminated with its land still
standing (``eliminate(neutralize=False)``); eliminated with no land (captured or neutralized)."""


class ReplayRecorder:
    """Records B live games (the maps they started from) as B replays.

    Call ``record(state, actions, leave)`` before every ``engine.step(state, actions, config,
    leave)``, with the same config; then ``replays(final_state)`` or ``save(final_state, directory)``.

    Players that leave through ``step``'s ``leave`` are exported as two AFK records of that tick
    (the first eliminates, the second neutralizes, RULES 14 and 23): exact. Players taken out by
    ``engine.eliminate`` between ticks are exported the same way with the previous tick, so that
    they apply before the leaver's next move would have. That is exact for
    ``eliminate(neutralize=False)``; for ``neutralize=True`` after an even tick, the leaver's
    generals and cities grew once in the live game before turning neutral and do not in the
    replay — live games should remove leavers through ``step``.
    """

    def __init__(self, maps: Maps, names: list[str], config: EngineConfig | None = None) -> None:
        if len(names) != maps.num_players:
            raise ValueError(f"{len(names)} names for maps with {maps.num_players} players")
        self.maps = maps.to("cpu")
        self.names = list(names)
        self.config = config or EngineConfig()
        b, p = maps.batch_size, maps.num_players
        h, w = maps.shape
        self._moves: list[list[Move]] = [[] for _ in range(b)]
        self._afks: list[list[Afk]] = [[] for _ in range(b)]
        self._standing = [[_ALIVE] * p for _ in range(b)]
        self._teams: torch.Tensor | None = None
        # Official index (row * width + col of the real map) of every padded tile, -1 outside.
        flat = torch.arange(h * w)
        rows, cols = flat // w, flat % w
        real_h, real_w = self.maps.size[:, 0:1], self.maps.size[:, 1:2]
        inside = (rows < real_h) & (cols < real_w)
        self._official = torch.where(
            inside, rows * real_w + cols, torch.full_like(inside, -1, dtype=torch.int64)
        )

    def record(self, state: GameState, actions: torch.Tensor, leave: torch.Tensor | None = None) -> None:
        """Log the moves ``actions`` (int (B, P)) will make in ``state``, in execution order, and
        the players ``leave`` (bool (B, P)) takes out after them."""
        if (state.batch_size, state.num_players) != (self.maps.batch_size, self.maps.num_players) or (
            state.height,
            state.width,
        ) != self.maps.shape:
            raise ValueError("the state does not match the recorder's maps (batch, players or board)")
        self._observe(state)
        if leave is not None:
            self._leave(state, leave)
        moves = decode_actions(actions.to(state.device), state.height, state.width)
        order = move_order(state, moves, self.config)
        alive = state.alive.gather(1, order)
        logged = moves.is_move.gather(1, order) & alive & ~state.done.unsqueeze(1)
        if not bool(logged.any()):
            return
        official = self._official.to(state.device)
        start = official.gather(1, moves.source.gather(1, order))
        end = official.gather(1, moves.dest.gather(1, order))
        logged &= (start >= 0) & (end >= 0)  # a move into the padding is a no-op
        half = moves.half.gather(1, order)
        games, ks = logged.nonzero(as_tuple=True)
        rows = torch.stack(
            [
                games,
                order[games, ks],
                start[games, ks],
                end[games, ks],
                half[games, ks].long(),
                state.tick[games],
            ]
        )
        for g, player, src, dst, is50, tick in rows.t().tolist():
            self._moves[g].append(Move(index=player, start=src, end=dst, is50=bool(is50), turn=tick))

    def _leave(self, state: GameState, leave: torch.Tensor) -> None:
        """Two AFK records of this tick for every live player that leaves (applied after moves)."""
        leaving = (leave.to(state.device) & state.alive & ~state.done.unsqueeze(1)).cpu()
        ticks = state.tick.cpu().tolist()
        for b, p in leaving.nonzero().tolist():
            self._afks[b].extend([Afk(index=p, turn=ticks[b]), Afk(index=p, turn=ticks[b])])
            self._standing[b][p] = _GONE

    def _observe(self, state: GameState) -> None:
        """Turn eliminations since the last look into AFK records (captures need none: the
        capturing move is in the log)."""
        if self._teams is None:
            self._teams = state.teams.cpu()
        alive = state.alive.cpu().tolist()
        generals = state.generals.cpu().tolist()
        if all(all(row) for row in alive):
            return
        ticks = state.tick.cpu().tolist()
        owner = state.owner.view(state.batch_size, -1).cpu()
        teams = state.teams.cpu()
        for b, standing in enumerate(self._standing):
            for p, before in enumerate(standing):
                now = _ALIVE if alive[b][p] else _OUT if generals[b][p] >= 0 else _GONE
                if now == before:
                    continue
                standing[p] = now
                holder = int(owner[b, int(self.maps.generals[b, p])])
                captured = now == _GONE and holder >= 0 and int(teams[b, holder]) != int(teams[b, p])
                records = 0 if captured else (now - before)
                turn = max(ticks[b] - 1, 0)
                self._afks[b].extend(Afk(index=p, turn=turn) for _ in range(records))

    def replays(self, final_state: GameState) -> list[Replay]:
        """One replay per game, version 7 (version 5 when the config regenerates cities)."""
        self._observe(final_state)
        teams = self._teams if self._teams is not None else final_state.teams.cpu()
        return [self._replay(b, teams[b].tolist()) for b in range(self.maps.batch_size)]

    def _replay(self, b: int, teams: list[int]) -> Replay:
        h, w = (int(v) for v in self.maps.size[b])
        mountains = self.maps.mountains[b, :h, :w].flatten()
        cities = self.maps.cities[b, :h, :w].flatten()
        armies = self.maps.armies[b, :h, :w].flatten()
        official = self._official[b]
        generals = official[self.maps.generals[b]].tolist()
        is_general = torch.zeros(h * w, dtype=torch.bool)
        is_general[generals] = True
        neutral = (armies > 0) & ~cities & ~mountains & ~is_general
        city_tiles = cities.nonzero().flatten()
        neutral_tiles = neutral.nonzero().flatten()
        moves = tuple(self._moves[b])
        afks = tuple(self._afks[b])
        replay = Replay(
            version=5 if self.config.city_regeneration else 7,
            id="",
            map_width=w,
            map_height=h,
            usernames=tuple(self.names),
            stars=(0,) * len(self.names),
            cities=tuple(city_tiles.tolist()),
            city_armies=tuple(armies[city_tiles].tolist()),
            generals=tuple(generals),
            mountains=tuple(mountains.nonzero().flatten().tolist()),
            moves=moves,
            afks=afks,
            teams=None if teams == list(range(len(teams))) else tuple(teams),
            map_title=f"generals-rl (rules v{RULES_VERSION}, {self.config.move_order} order)",
            neutrals=tuple(neutral_tiles.tolist()) if len(neutral_tiles) else None,
            neutral_armies=tuple(armies[neutral_tiles].tolist()) if len(neutral_tiles) else None,
        )
        digest = hashlib.sha1(replay.to_gioreplay().encode("utf-8")).digest()
        return dataclasses.replace(replay, id=base64.urlsafe_b64encode(digest).decode("ascii")[:9])

    def save(self, final_state: GameState, directory: str | Path) -> list[Path]:
        """Write every game as ``game-NNNN-<id>.gioreplay`` in ``directory`` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [
            r.save(directory / f"game-{b:04d}-{r.id}.gioreplay")
            for b, r in enumerate(self.replays(final_state))
        ]
