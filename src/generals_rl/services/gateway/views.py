"""What the browser receives and sends while playing and spectating: games, seat views and
spectator frames as JSON, moves as flat actions.

A view's board is one integer per tile, row-major (``tile = row * width + col``):
``code & 7`` is what the tile is to the viewer (``TILE_*``), ``code & 8`` marks a city and
``code & 16`` a general. A spectator's whole board (``board_json``) is three lists of the same
layout: owners (seat, -1 nobody), armies and terrain (0 plain, 1 mountain, 2 city, 3 general), as
the replay viewer's frames (``frames``). Moves travel as ``{"row", "col", "direction", "half"}``
and become the engine's flat action ``1 + (half * 4 + direction) * H * W + tile``
(``generals_rl.game.engine``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import torch

from generals_rl.game.observations import PLANE
from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.game.domain import GameInfo, SeatView, SpectatorFrame

TILE_EMPTY, TILE_MINE, TILE_ENEMY, TILE_ALLY, TILE_MOUNTAIN, TILE_FOG, TILE_FOG_OBSTACLE = range(7)
"""The low three bits of a tile code: neutral land, the viewer's, an enemy's, a teammate's, a
mountain, fog, fog over a mountain or city (both look alike in fog: RULES 16)."""
CITY_BIT, GENERAL_BIT = 8, 16

DIRECTIONS = ("up", "down", "left", "right")
"""Direction names in the engine's order (``generals_rl.game.state.DIRECTIONS``)."""


def when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def game_json(info: GameInfo) -> dict[str, Any]:
    """A game as the API shows it (``schemas.GameOut``): never a token."""
    result = info.result
    return {
        "game_id": info.game_id,
        "mode": info.mode,
        "status": info.status,
        "clock": info.clock,
        "speed": info.speed,
        "tick": info.tick,
        "width": info.board.width,
        "height": info.board.height,
        "max_ticks": info.engine.max_ticks,
        "unrated": info.unrated,
        "seats": [
            {
                "index": s.index,
                "player": None if s.player is None else s.player.key,
                "name": s.display_name,
                "hosted": s.hosted,
                "joined": s.joined,
                "connected": s.connected,
                "alive": s.alive,
            }
            for s in info.seats
        ],
        "created_at": when(info.created_at),
        "started_at": when(info.started_at),
        "ended_at": when(info.ended_at),
        "result": None
        if result is None
        else {
            "reason": result.reason,
            "ticks": result.ticks,
            "winner": result.winner,
            "players": [
                {"player": p.player.key, "seat": p.seat, "outcome": p.outcome, "place": p.place}
                for p in result.players
            ],
        },
    }


def tile_codes(view: SeatView) -> list[int]:
    """The board of a view as tile codes (module docstring)."""
    planes = view.observation.planes.to(torch.int32)

    def plane(name: str) -> torch.Tensor:
        return planes[PLANE[name]]

    base = torch.full_like(plane("mine"), TILE_EMPTY)
    for name, code in (
        ("mountain", TILE_MOUNTAIN),
        ("enemy", TILE_ENEMY),
        ("ally", TILE_ALLY),
        ("mine", TILE_MINE),
        ("fog", TILE_FOG),
        ("obstacle_in_fog", TILE_FOG_OBSTACLE),
    ):
        base = torch.where(plane(name).bool(), code, base)
    codes = base + CITY_BIT * plane("city") + GENERAL_BIT * plane("general")
    return [int(c) for c in codes.flatten().tolist()]


def decode_move(action: int, height: int, width: int) -> dict[str, Any] | None:
    """A flat action as a move (None for a pass)."""
    n = height * width
    if action <= 0 or action > 8 * n:
        return None
    index = action - 1
    tile, rest = index % n, index // n
    return {
        "row": tile // width,
        "col": tile % width,
        "direction": DIRECTIONS[rest % 4],
        "half": rest >= 4,
    }


def scores_json(scalars: torch.Tensor, first: int, info: GameInfo) -> list[dict[str, Any]]:
    """Every seat's ``{seat, name, land, army}`` in seat order, from observation scalars that list
    seat ``first`` first and the others after it in seat order."""
    players = info.board.num_players
    values = [int(x) for x in scalars.tolist()]
    scores: list[dict[str, Any]] = []
    for j in range(players):
        seat = (first + j) % players
        name = info.seats[seat].display_name if seat < len(info.seats) else f"player {seat}"
        scores.append({"seat": seat, "name": name, "land": values[1 + 2 * j], "army": values[2 + 2 * j]})
    scores.sort(key=lambda s: int(s["seat"]))
    return scores


def view_json(view: SeatView, info: GameInfo) -> dict[str, Any]:
    """One seat view for the browser: board codes, armies, the move queue, everyone's totals."""
    height, width = info.board.height, info.board.width
    scores = scores_json(view.observation.scalars, view.seat, info)
    queue = [decode_move(a, height, width) for a in view.queued_actions]
    return {
        "type": "view",
        "game_id": view.game_id,
        "tick": view.tick,
        "seat": view.seat,
        "width": width,
        "height": height,
        "tiles": tile_codes(view),
        "armies": [int(a) for a in view.observation.armies.flatten().tolist()],
        "queue": [m for m in queue if m is not None],
        "scores": scores,
        "alive": view.alive,
        "status": view.status,
        "done": view.done,
        "winner": view.winner,
        "outcome": view.outcome,
        "next_tick_at": when(view.next_tick_at),
    }


def spectator_json(frame: SpectatorFrame, info: GameInfo) -> dict[str, Any]:
    """One spectator frame for the browser: a ``view`` (one seat's fog, as its player sees it but
    without the queue) or a ``board`` (everything), with ``fog_of`` and ``skipped``."""
    extra = {"fog_of": frame.fog_of, "skipped": frame.skipped}
    if frame.view is not None:
        return {**view_json(frame.view, info), **extra}
    board = frame.board
    assert board is not None
    result = frame.result
    return {
        "type": "board",
        "game_id": frame.game_id,
        "tick": frame.tick,
        "width": info.board.width,
        "height": info.board.height,
        "owners": [int(x) for x in board.owners.flatten().tolist()],
        "armies": [int(x) for x in board.armies.flatten().tolist()],
        "terrain": [int(x) for x in board.terrain.flatten().tolist()],
        "scores": scores_json(board.scalars, 0, info),
        "alive": list(frame.alive),
        "status": frame.status,
        "done": frame.done,
        "winner": None if result is None else result.winner,
        "next_tick_at": when(frame.next_tick_at),
        **extra,
    }


def encode_move(message: dict[str, Any], height: int, width: int) -> int:
    """The flat action of a ``move`` message; ``InvalidArgument`` saying which field is wrong."""
    row, col = message.get("row"), message.get("col")
    for name, value, size in (("row", row, height), ("col", col, width)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < size:
            raise InvalidArgument(f"move: {name} must be a whole number in 0..{size - 1}, got {value!r:.40}")
    direction = message.get("direction")
    if direction not in DIRECTIONS:
        raise InvalidArgument(
            f"move: direction must be one of {', '.join(DIRECTIONS)}, got {direction!r:.40}"
        )
    half = message.get("half", False)
    if not isinstance(half, bool):
        raise InvalidArgument(f"move: half must be true or false, got {half!r:.40}")
    assert isinstance(row, int) and isinstance(col, int)
    tile = row * width + col
    return 1 + (int(half) * 4 + DIRECTIONS.index(direction)) * height * width + tile
