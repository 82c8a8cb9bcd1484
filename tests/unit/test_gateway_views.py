"""What the gateway sends the browser: moves encode to the engine's flat actions and back, and
replay frames (first board + per-tick changes) rebuild every tick of the engine's simulation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.game.engine import encode_action
from generals_rl.game.replay import load_replay, trace_lines
from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.gateway.frames import TERRAIN_MOUNTAIN, replay_frames
from generals_rl.services.gateway.views import DIRECTIONS, decode_move, encode_move

GOLDEN = Path(__file__).parents[1] / "golden" / "data"


@given(
    h=st.integers(1, 64),
    w=st.integers(1, 64),
    data=st.data(),
)
def test_moves_encode_as_the_engine_and_decode_back(h: int, w: int, data: st.DataObject) -> None:
    row, col = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    direction, half = data.draw(st.sampled_from(DIRECTIONS)), data.draw(st.booleans())
    move = {"type": "move", "row": row, "col": col, "direction": direction, "half": half}
    action = encode_move(move, h, w)
    assert action == int(encode_action(row * w + col, DIRECTIONS.index(direction), half, h * w))
    assert decode_move(action, h, w) == {"row": row, "col": col, "direction": direction, "half": half}
    assert decode_move(0, h, w) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"row": 8, "col": 0, "direction": "up"},
        {"row": -1, "col": 0, "direction": "up"},
        {"row": True, "col": 0, "direction": "up"},
        {"row": "1", "col": 0, "direction": "up"},
        {"row": 0, "col": 0, "direction": "north"},
        {"row": 0, "col": 0, "direction": "up", "half": 1},
        {"col": 0, "direction": "up"},
    ],
)
def test_bad_moves_name_the_field(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument, match=r"move: (row|col|direction|half)"):
        encode_move({"type": "move", **bad}, 8, 8)


def test_frames_rebuild_every_tick_of_the_simulation() -> None:
    torch.set_num_threads(1)
    replay = load_replay(GOLDEN / "input.gior")
    frames = replay_frames(replay, "x", max_ticks=10_000)
    trace = list(trace_lines(replay))
    assert frames["ticks"] == len(trace) and not frames["truncated"]
    owners, armies = list(frames["initial"]["owners"]), list(frames["initial"]["armies"])
    terrain = list(frames["initial"]["terrain"])
    for delta, line in zip(frames["deltas"], trace, strict=True):
        for k in range(0, len(delta), 4):
            tile, owners[tile], armies[tile], terrain[tile] = delta[k : k + 4]
        # the trace's owner codes: player, -1 nobody, -2 mountain
        assert [-2 if t == TERRAIN_MOUNTAIN else o for o, t in zip(owners, terrain, strict=True)] == line[
            "owners"
        ]
        assert armies == line["armies"]
    short = replay_frames(replay, "x", max_ticks=5)
    assert short["ticks"] == 5 and short["truncated"] and short["deltas"] == frames["deltas"][:5]
