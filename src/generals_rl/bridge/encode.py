"""The server's side of the protocol: what a generals.io server sends a player about one of our games.

From an engine ``GameState`` this builds, per player, the fogged ``map`` array
(``[width, height, armies..., terrain...]``), the cities and generals in sight and the score table,
the way the real server describes its own state; ``player_update`` diffs them against what that
player was sent last. The local test server (``testing``) drives games with it, and the tests
check that ``translate.observation`` of these messages is exactly ``observe(state)``.

Only the real map is described (padding dropped): a tile is ``row * width + col`` with the real
width, as on generals.io.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from generals_rl.bridge.protocol import (
    TILE_EMPTY,
    TILE_FOG,
    TILE_FOG_OBSTACLE,
    TILE_MOUNTAIN,
    GameUpdate,
    Score,
    diff,
)
from generals_rl.game.observations import visibility
from generals_rl.game.state import GameState


@dataclass(frozen=True)
class PlayerView:
    """The arrays one player holds after an update (what the next update is diffed against)."""

    map: tuple[int, ...] = ()
    cities: tuple[int, ...] = ()


def player_view(state: GameState, player: int, game: int = 0) -> tuple[PlayerView, list[int]]:
    """The fogged map and cities ``player`` sees in game ``game``, and the generals in sight."""
    height, width = (int(v) for v in state.map_size[game])
    seen = visibility(state)[game, player, :height, :width]
    owner = state.owner[game, :height, :width].long()
    mountains = state.mountains[game, :height, :width]
    cities = state.cities[game, :height, :width]
    terrain = torch.where(mountains, TILE_MOUNTAIN, torch.where(owner >= 0, owner, TILE_EMPTY))
    fogged = torch.where(mountains | cities, TILE_FOG_OBSTACLE, TILE_FOG)
    terrain = torch.where(seen, terrain, fogged)
    armies = torch.where(seen, state.armies[game, :height, :width], 0)
    flat_seen = seen.flatten()
    city_tiles = torch.nonzero(cities.flatten() & flat_seen).flatten().tolist()
    generals = []
    for tile in state.generals[game].tolist():
        row, col = divmod(tile, state.width)
        visible = tile >= 0 and bool(flat_seen[row * width + col])
        generals.append(row * width + col if visible else -1)
    values = (width, height, *armies.flatten().tolist(), *terrain.flatten().tolist())
    return PlayerView(map=values, cities=tuple(city_tiles)), generals


def scores(state: GameState, game: int = 0) -> list[Score]:
    """The score table as the real server orders it: live players by army then land, then the dead
    (by index here: the engine does not record the order of deaths)."""
    land, army = state.land()[game].tolist(), state.army()[game].tolist()
    alive = state.alive[game].tolist()
    table = [
        Score(index=i, total=army[i], tiles=land[i], dead=not alive[i]) for i in range(state.num_players)
    ]
    return sorted(
        table, key=lambda s: (s.dead, -s.total if not s.dead else 0, -s.tiles if not s.dead else 0, s.index)
    )


def player_update(
    state: GameState, player: int, previous: PlayerView, attack_index: int = 0, game: int = 0
) -> tuple[GameUpdate, PlayerView]:
    """The ``game_update`` for ``player`` after ``previous``, and the view it leaves them with."""
    view, generals = player_view(state, player, game)
    update = GameUpdate(
        turn=int(state.tick[game]),
        map_diff=tuple(diff(previous.map, view.map)),
        cities_diff=tuple(diff(previous.cities, view.cities)),
        generals=tuple(generals),
        scores=tuple(scores(state, game)),
        attack_index=attack_index,
    )
    return update, view
