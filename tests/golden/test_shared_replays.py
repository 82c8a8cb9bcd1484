"""Golden: the two real 8-player replays (RULES 24; copies in tests/golden/data) replay to their end,
tick for tick equal to an independent scalar implementation of RULES 23 (reference_replay.py)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generals_rl.game.replay import Afk, Replay, load_replay, simulate, trace_lines

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_replay import reference_trace

REPLAYS = Path(__file__).resolve().parent / "data"  # the official replays, kept in the repo

# name -> (ticks to the end, winner): what replaying gives, pinned.
EXPECTED = {"example.gioreplay": (703, 6), "output.gioreplay": (646, 4)}


def read_json(name: str) -> dict[str, Any]:
    return json.loads((REPLAYS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replays_to_the_end_with_one_player_left(name: str) -> None:
    states = list(simulate(load_replay(REPLAYS / name)))
    last = states[-1]
    ticks, winner = EXPECTED[name]
    assert len(states) == ticks and int(last.tick[0]) == ticks
    assert bool(last.done[0]) and int(last.winner[0]) == winner
    assert last.alive[0].tolist() == [p == winner for p in range(8)]
    assert all(not bool(s.done[0]) for s in states[:-1])


def test_gior_decodes_to_the_gioreplay() -> None:
    from_gior = load_replay(REPLAYS / "input.gior")
    assert from_gior.to_json() == read_json("output.gioreplay")
    assert from_gior == load_replay(REPLAYS / "output.gioreplay")
    assert from_gior.to_gior() == (REPLAYS / "input.gior").read_bytes()  # byte for byte


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_tick_matches_the_reference(name: str) -> None:
    ours = list(trace_lines(load_replay(REPLAYS / name)))
    reference = list(reference_trace(read_json(name)))
    assert len(ours) == len(reference) == EXPECTED[name][0]
    for mine, theirs in zip(ours, reference, strict=True):
        assert mine == theirs, f"{name} differs from the reference at tick {theirs['tick']}"


def test_version5_city_regeneration_is_exercised() -> None:
    replay = load_replay(REPLAYS / "example.gioreplay")
    assert replay.version == 5
    v5 = list(trace_lines(replay))
    v6 = list(trace_lines(dataclasses.replace(replay, version=6)))
    differ = [a["tick"] for a, b in zip(v5, v6, strict=False) if a != b]
    assert differ and differ[0] % 2 == 0
    # At the first difference a neutral city below 40 gained 1 in version 5 only.
    t = differ[0] - 1
    grown = [i for i in replay.cities if v5[t]["armies"][i] != v6[t]["armies"][i]]
    assert grown and all(
        v5[t]["owners"][i] == -1 and v5[t]["armies"][i] == v6[t]["armies"][i] + 1 for i in grown
    )
    assert all(v6[t]["armies"][i] < 40 for i in grown)


def test_example_afk_records_eliminate_without_neutralizing() -> None:
    replay = load_replay(REPLAYS / "example.gioreplay")
    assert replay.afks == (Afk(index=3, turn=121), Afk(index=4, turn=702))
    lines = {line["tick"]: line for line in trace_lines(replay)}
    general3 = replay.generals[3]
    # Player 3's AFK (tick 121) takes it out; its land stays its own, general included.
    assert lines[121]["alive"] == lines[122]["alive"] + 1
    assert lines[122]["owners"].count(3) == lines[121]["owners"].count(3) > 1
    assert lines[122]["owners"][general3] == 3
    # A move later captures that general: the land passes to the capturer, not to neutral.
    taken = next(t for t in sorted(lines) if lines[t]["owners"][general3] != 3)
    assert lines[taken]["owners"][general3] >= 0 and lines[taken]["owners"].count(3) == 0
    # Player 4's AFK (tick 702) leaves one player: the game ends, player 4 keeps its land.
    assert max(lines) == 703 and lines[703]["alive"] == 1
    assert lines[703]["owners"].count(4) == lines[702]["owners"].count(4) > 0


def test_a_second_afk_neutralizes_and_matches_the_reference() -> None:
    # example.gioreplay with a second AFK record for player 3 at tick 125 (before its general
    # falls at tick 136): its land turns neutral and its general becomes a city.
    obj = read_json("example.gioreplay")
    obj["afks"] = [obj["afks"][0], {"index": 3, "turn": 125}, obj["afks"][1]]
    replay = Replay.from_json(obj)
    ours = list(trace_lines(replay))
    assert ours == list(reference_trace(obj))
    lines = {line["tick"]: line for line in ours}
    general3 = replay.generals[3]
    assert lines[125]["owners"].count(3) > 0 and lines[126]["owners"].count(3) == 0
    assert lines[126]["owners"][general3] == -1
    neutral_city = next(s for s in simulate(replay) if int(s.tick[0]) == 126)
    assert bool(neutral_city.cities.flatten()[general3])


@pytest.mark.parametrize(
    ("name", "source"), [("example.gioreplay", None), ("output.gioreplay", "input.gior")]
)
def test_cli_trace(name: str, source: str | None) -> None:
    from generals_rl.cli.main import app

    result = CliRunner().invoke(app, ["replay", "trace", str(REPLAYS / (source or name))])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["tick"] == 1 and lines[0]["alive"] == 8
    assert lines[-1]["alive"] == 1
    assert len(lines) == EXPECTED[name][0] == lines[-1]["tick"]
    assert len(lines[0]["owners"]) == len(lines[0]["armies"]) == read_json(name)["mapWidth"] ** 2
