"""Between generals.io's view of a game and our engine's: observations in, attacks out.

``observation(map_state, update, start)`` rebuilds, from the server's patched map, cities,
generals and scores, the ``Observation`` our engine's ``observe`` gives that player (a batch of
one): the same armies, the nine planes (fog and obstacle-in-fog included), the scalars and the
legal-action mask. The server's terrain codes are trusted for what is in sight (game modifiers
may widen vision beyond RULES 15). With ``pad_to`` the board is padded with mountains at the
bottom and right, as our maps are; tiles outside the real map count as visible mountains.

``attack_of(action, ...)`` turns one of our flat actions (``1 + (half*4 + dir)*H*W + tile`` on the
padded board) into generals.io's ``attack(start, end, is50)``; ``action_of`` is its inverse (the
local test server uses it on the attacks it receives).
"""

from __future__ import annotations

import torch
from torch import Tensor

from generals_rl.bridge.protocol import (
    TILE_EMPTY,
    TILE_FOG,
    TILE_FOG_OBSTACLE,
    TILE_MOUNTAIN,
    Attack,
    GameStart,
    GameUpdate,
    MapState,
)
from generals_rl.game.engine import decode_actions, encode_action
from generals_rl.game.observations import Observation, action_mask
from generals_rl.game.state import DIRECTIONS, NEUTRAL, GameState


class BoardTooLargeError(ValueError):
    """The server's map does not fit the board the policy plays on (``pad_to``)."""


def board_shape(width: int, height: int, pad_to: tuple[int, int] | None = None) -> tuple[int, int]:
    """(H, W) of our board for a generals.io map of ``width`` x ``height``."""
    if pad_to is None:
        return height, width
    if height > pad_to[0] or width > pad_to[1]:
        raise BoardTooLargeError(
            f"the server's map is {height}x{width} (rows x cols), larger than the {pad_to[0]}x{pad_to[1]} "
            "board this policy plays on"
        )
    return pad_to


def observation(
    maps: MapState, update: GameUpdate, start: GameStart, pad_to: tuple[int, int] | None = None
) -> Observation:
    """What our engine would show ``start.player_index`` now: an ``Observation`` of one game."""
    width, height = maps.width, maps.height
    rows, cols = board_shape(width, height, pad_to)
    me, players = start.player_index, start.num_players

    terrain = torch.full((rows, cols), TILE_MOUNTAIN, dtype=torch.int64)
    terrain[:height, :width] = torch.tensor(maps.terrain, dtype=torch.int64).view(height, width)
    armies = torch.zeros(rows, cols, dtype=torch.int32)
    armies[:height, :width] = torch.tensor(maps.armies, dtype=torch.int32).view(height, width)

    fog = (terrain == TILE_FOG) | (terrain == TILE_FOG_OBSTACLE)
    visible = ~fog
    owned = terrain >= 0
    teams = torch.tensor(start.teams if start.teams is not None else range(players), dtype=torch.int64)
    mine = terrain == me
    same_team = owned & (teams[terrain.clamp(min=0)] == teams[me])
    mountain = terrain == TILE_MOUNTAIN
    city = _tiles(maps.cities, width, rows, cols) & visible
    general = _tiles([g for g in update.generals if g >= 0], width, rows, cols) & visible
    planes = torch.stack(
        [
            mine,
            same_team & ~mine,
            owned & ~same_team,
            terrain == TILE_EMPTY,
            mountain,
            city,
            general,
            fog,
            terrain == TILE_FOG_OBSTACLE,
        ]
    )
    armies = torch.where(visible, armies, torch.zeros((), dtype=torch.int32))

    by_player = {score.index: score for score in update.scores}
    scalars = [update.turn]
    for k in range(players):
        score = by_player[(me + k) % players]
        scalars += [score.tiles, score.total]

    # The legal moves as the engine decides them (RULES 6), on the state as far as this player
    # knows it: every neighbour of an own tile is in sight, so the mountains that matter are known.
    known = GameState(
        armies=armies.unsqueeze(0),
        owner=torch.where(owned, terrain, NEUTRAL).to(torch.int8).unsqueeze(0),
        mountains=mountain.unsqueeze(0),
        cities=city.unsqueeze(0),
        generals=torch.tensor([update.generals], dtype=torch.int64),
        alive=torch.tensor([[not by_player[q].dead for q in range(players)]]),
        teams=teams.unsqueeze(0),
        tick=torch.tensor([update.turn]),
        done=torch.zeros(1, dtype=torch.bool),
        winner=torch.full((1,), -1, dtype=torch.int64),
        map_size=torch.tensor([[height, width]]),
    )
    mask = action_mask(known)
    return Observation(
        armies=armies.unsqueeze(0),
        planes=planes.unsqueeze(0),
        scalars=torch.tensor([scalars], dtype=torch.int32),
        action_mask=mask[:, me],
    )


def attack_of(action: int, width: int, height: int, pad_to: tuple[int, int] | None = None) -> Attack | None:
    """generals.io's attack for one of our flat actions (None for a pass)."""
    if action == 0:
        return None
    rows, cols = board_shape(width, height, pad_to)
    moves = decode_actions(torch.tensor([action]), rows, cols)
    if not bool(moves.is_move[0]):
        raise ValueError(f"action {action} is not a move on a {rows}x{cols} board")
    source, dest = int(moves.source[0]), int(moves.dest[0])
    (sr, sc), (dr, dc) = divmod(source, cols), divmod(dest, cols)
    if max(sr, dr) >= height or max(sc, dc) >= width:
        raise ValueError(f"action {action} moves off the real {height}x{width} map")
    return Attack(start=sr * width + sc, end=dr * width + dc, is50=bool(moves.half[0]))


def action_of(attack: Attack, width: int, height: int, pad_to: tuple[int, int] | None = None) -> int:
    """Our flat action for a generals.io attack; ``ValueError`` unless it joins two adjacent tiles."""
    size = width * height
    if not (0 <= attack.start < size and 0 <= attack.end < size):
        raise ValueError(f"attack {attack.start}->{attack.end} leaves the {width}x{height} map")
    rows, cols = board_shape(width, height, pad_to)
    (sr, sc), (dr, dc) = divmod(attack.start, width), divmod(attack.end, width)
    try:
        direction = DIRECTIONS.index((dr - sr, dc - sc))
    except ValueError:
        raise ValueError(f"attack {attack.start}->{attack.end} does not join adjacent tiles") from None
    return int(encode_action(sr * cols + sc, direction, attack.is50, rows * cols))


def _tiles(indices: list[int], width: int, rows: int, cols: int) -> Tensor:
    """bool (rows, cols): the generals.io tiles ``indices`` (of a ``width``-wide map) on our board."""
    out = torch.zeros(rows * cols, dtype=torch.bool)
    if indices:
        flat = torch.tensor(indices, dtype=torch.int64)
        out[(flat // width) * cols + flat % width] = True
    return out.view(rows, cols)
