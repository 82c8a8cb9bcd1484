"""Replays: the formats (parse, write, bad input), the simulator's rules on small hand-made logs,
and the recorder (our games replay to exactly the live game, tick by tick)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.game import EngineConfig, MapConfig, Maps, eliminate, encode_action, generate_maps, step
from generals_rl.game.maps import initial_state
from generals_rl.game.observations import observe
from generals_rl.game.replay import (
    POSITIONAL_FIELDS,
    Afk,
    Move,
    Replay,
    ReplayError,
    ReplayRecorder,
    ReplaySimulator,
    load_replay,
    simulate,
    trace_lines,
)
from generals_rl.game.state import GameState

RIGHT, DOWN = 3, 1


def small_replay(**changes: Any) -> Replay:
    """A 3x4 two-player map: generals at 0 and 11, a city at 5 (garrison 3), a mountain at 6."""
    base = Replay(
        version=7,
        id="test",
        map_width=4,
        map_height=3,
        usernames=("a", "b"),
        stars=(10, 20),
        cities=(5,),
        city_armies=(3,),
        generals=(0, 11),
        mountains=(6,),
        moves=(),
        afks=(),
        map_title="small",
    )
    return dataclasses.replace(base, **changes)


def final(replay: Replay, **kwargs: Any) -> GameState:
    states = list(simulate(replay, **kwargs))
    return states[-1]


# -- formats ---------------------------------------------------------------------------------


def test_json_and_gior_round_trip_keep_every_field(tmp_path: Path) -> None:
    replay = small_replay(
        version=13,
        moves=(Move(0, 0, 1, False, 3), Move(1, 11, 10, True, 3)),
        afks=(Afk(1, 9),),
        teams=(1, 2),
        neutrals=(2,),
        neutral_armies=(7,),
        swamps=(3,),
        extra={"chat": [["hi", "a", 0, 4]], "options": [1, 0.5], "modifiers": [], "field30": "x"},
    )
    for name in ("r.gioreplay", "r.gior", "no-suffix"):
        path = replay.save(tmp_path / name)
        assert load_replay(path) == replay
    assert Replay.from_json(json.loads(replay.to_gioreplay())) == replay
    positional = replay.to_positional()
    assert positional[:4] == [13, "test", 4, 3]
    assert positional[13] == "small" and positional[17] == [["hi", "a", 0, 4]] and positional[30] == "x"
    assert positional[10][0] == [0, 0, 1, 0, 3]


def test_format_is_read_from_content(tmp_path: Path) -> None:
    replay = small_replay(moves=(Move(0, 0, 1, False, 1),))
    (tmp_path / "looks-like.gioreplay").write_bytes(replay.to_gior())
    (tmp_path / "looks-like.gior").write_text("  \n" + replay.to_gioreplay(), encoding="utf-8")
    assert load_replay(tmp_path / "looks-like.gioreplay") == replay
    assert load_replay(tmp_path / "looks-like.gior") == replay
    assert Replay.from_bytes(b"\xef\xbb\xbf" + replay.to_gioreplay().encode()) == replay


def test_version5_json_keeps_teams_null_and_omits_absent_fields() -> None:
    obj = small_replay(version=5, map_title=None).to_json()
    assert obj["teams"] is None
    assert "map_title" not in obj and "neutrals" not in obj


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o.pop("mapWidth"), "'mapWidth' is missing"),
        (lambda o: o.update(mapWidth="4"), "'mapWidth' must be an integer"),
        (lambda o: o.update(mapHeight=0), "'mapHeight' must lie in 1..64"),
        (lambda o: o.update(generals=[0, 99]), "'generals[1]' must lie in 0..11"),
        (lambda o: o.update(cityArmies=[]), "'cityArmies' has 0 values for 1 cities"),
        (lambda o: o.update(usernames=["a"]), "'usernames' has 1 names for 2 generals"),
        (
            lambda o: o["moves"].append({"index": 5, "start": 0, "end": 1, "is50": 0, "turn": 1}),
            "moves[0].index",
        ),
        (
            lambda o: o["moves"].append({"index": 0, "start": 0, "end": 1, "is50": 2, "turn": 1}),
            "moves[0].is50",
        ),
        (
            lambda o: o["moves"].append({"index": 0, "start": 0, "end": 1, "is50": 0}),
            "moves[0] has no 'turn'",
        ),
        (lambda o: o["afks"].append({"index": 0, "turn": -1}), "'afks[0].turn' must lie in 0..100000"),
        (lambda o: o.update(teams=[1]), "'teams' has 1 values"),
        (lambda o: o.update(generals=[0, 6]), "generals[1] = 6 is also a mountain or a city"),
    ],
)
def test_bad_fields_are_named(change: Any, field: str) -> None:
    obj = small_replay().to_json()
    change(obj)
    with pytest.raises(ReplayError, match=field.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        Replay.from_bytes(json.dumps(obj).encode())


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read"):
        load_replay(tmp_path / "missing.gior")
    for data, message in [
        (b"", "empty"),
        (b'{"version": ', "not a valid .gioreplay"),
        (b"[1, 2, 3]", "neither a .gioreplay"),
        (b"\x00\x01\x02", "even length"),
    ]:
        with pytest.raises(ReplayError, match=message):
            Replay.from_bytes(data)
    with pytest.raises(ReplayError, match="at least 13 fields"):
        Replay.from_positional([5, "x"])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
KEYS = list(POSITIONAL_FIELDS[:17])


def _survives(data: bytes) -> None:
    """Parsing (and, when it parses, simulating a few ticks) raises nothing but ReplayError."""
    try:
        replay = Replay.from_bytes(data)
        sim = ReplaySimulator(replay)
        for _ in range(30):
            if sim.over:
                break
            sim.step()
    except ReplayError:
        pass


@given(
    key=st.sampled_from(KEYS),
    value=JSON_VALUES | st.just(KeyError),
    move_field=st.sampled_from([None, 0, 1, 2, 3, 4]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_replays_raise_only_replay_error(key: str, value: Any, move_field: int | None) -> None:
    replay = small_replay(moves=(Move(0, 0, 1, False, 2), Move(1, 11, 7, False, 2)), afks=(Afk(0, 5),))
    obj = replay.to_json()
    if move_field is not None:  # break one value of a move instead
        names = ["index", "start", "end", "is50", "turn"]
        if value is KeyError:
            del obj["moves"][0][names[move_field]]
        else:
            obj["moves"][0][names[move_field]] = value
    elif value is KeyError:
        obj.pop(key, None)
    else:
        obj[key] = value
    _survives(json.dumps(obj).encode())
    positional = replay.to_positional()
    if move_field is not None:
        if value is KeyError:
            del positional[10][0][move_field]
        else:
            positional[10][0][move_field] = value
    elif KEYS.index(key) < len(positional):
        positional[KEYS.index(key)] = None if value is KeyError else value
    _survives(json.dumps(positional).encode())


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_random_bytes_raise_only_replay_error(data: bytes) -> None:
    _survives(data)


# -- simulator -------------------------------------------------------------------------------


def test_moves_follow_rules_6_to_8() -> None:
    replay = small_replay(
        moves=(
            Move(0, 0, 1, False, 0),  # the general holds 1: too few, skipped
            Move(0, 0, 1, False, 4),  # the general holds 3: sends 2 to tile 1
            Move(0, 1, 5, False, 5),  # sends 1 against the city's 3: the city keeps 2
            Move(0, 1, 2, False, 5),  # tile 1 is down to 1: skipped
            Move(0, 0, 4, True, 6),  # the general holds 2: half sends 1
            Move(1, 0, 1, False, 6),  # not the mover's tile: skipped
            Move(1, 11, 7, False, 8),  # player 1's general holds 5: sends 4 up
            Move(1, 7, 8, False, 9),  # 7 -> 8 wraps to the next row: not adjacent, skipped
            Move(1, 7, 6, False, 9),  # onto a mountain: skipped
            Move(1, 11, 15, False, 10),  # off the board: skipped
        )
    )
    lines = {line["tick"]: line for line in trace_lines(replay)}
    assert lines[4]["owners"][1] == -1
    assert lines[5]["owners"][1] == 0 and lines[5]["armies"][1] == 2
    assert lines[6]["armies"][5] == 2 and lines[6]["owners"][5] == -1 and lines[6]["armies"][1] == 1
    assert lines[7]["owners"][4] == 0 and lines[7]["armies"][4] == 1 and lines[7]["armies"][0] == 1
    assert lines[9]["owners"][7] == 1 and lines[9]["armies"][7] == 4
    assert lines[11]["armies"][7] == 4 and lines[11]["owners"][8] == -1 and lines[11]["owners"][6] == -2
    assert lines[11]["armies"][11] == 2  # 1 after sending, +1 at tick 10
    assert max(lines) == 11  # one tick past the last record


def test_afk_eliminates_then_neutralizes_and_eliminated_players_still_move() -> None:
    replay = small_replay(
        generals=(0, 11, 3),
        usernames=("a", "b", "c"),
        moves=(Move(2, 3, 7, False, 6),),  # player 2 is out (AFK at 2) but owns tile 3: it moves
        afks=(Afk(2, 2), Afk(2, 8)),
    )
    lines = {line["tick"]: line for line in trace_lines(replay)}
    assert lines[2]["alive"] == 3 and lines[3]["alive"] == 2
    assert lines[7]["owners"][7] == 2 and lines[7]["armies"][7] == 3
    assert lines[8]["owners"][3] == 2
    assert lines[9]["owners"][3] == -1 and lines[9]["owners"][7] == -1 and lines[9]["alive"] == 2
    state = final(replay)
    assert bool(state.cities[0, 0, 3])  # the neutralized general became a city


def test_afk_of_last_opponent_ends_the_game_without_neutralizing() -> None:
    replay = small_replay(afks=(Afk(1, 4),))
    states = list(simulate(replay))
    last = states[-1]
    assert int(last.tick[0]) == 5 and bool(last.done[0]) and int(last.winner[0]) == 0
    assert int(last.owner[0, 2, 3]) == 1  # its land stays its own


def test_general_capture_halves_and_ends_1v1() -> None:
    # Player 1 sends its army away at tick 19; player 0 walks 0 -> 1 -> 2 -> 3 -> 7 -> 11.
    moves = [Move(1, 11, 10, False, 19), Move(0, 0, 1, False, 20), Move(0, 1, 2, False, 21)]
    moves += [Move(0, 2, 3, False, 22), Move(0, 3, 7, False, 23), Move(0, 7, 11, False, 24)]
    replay = small_replay(moves=tuple(moves))
    lines = list(trace_lines(replay))
    assert lines[-2]["owners"][10] == 1 and lines[-2]["armies"][10] == 9
    last = final(replay)
    assert int(last.tick[0]) == 25 and bool(last.done[0]) and int(last.winner[0]) == 0
    assert bool(last.cities[0, 2, 3]) and int(last.owner[0, 2, 3]) == 0
    assert int(last.armies[0, 2, 3]) == 6 - 4  # sent 6 against a general of 4
    assert int(last.owner[0, 2, 2]) == 0 and int(last.armies[0, 2, 2]) == 5  # 9 halved, half up
    assert int(last.generals[0, 1]) == -1 and lines[-1]["alive"] == 1


def test_version5_regenerates_neutral_cities_below_40() -> None:
    # The city at 1 (3 army) is hit at tick 4; the city at 9 holds 40 and never regrows.
    replay = small_replay(
        cities=(1, 9), city_armies=(3, 40), moves=(Move(0, 0, 1, False, 4), Move(1, 11, 10, False, 30))
    )
    v5 = final(dataclasses.replace(replay, version=5))
    v7 = final(replay)
    assert int(v7.armies[0, 0, 1]) == 3 - 2
    assert int(v5.armies[0, 0, 1]) == 3 + 15 - 2  # +1 at each even tick 2..30
    assert int(v5.armies[0, 2, 1]) == int(v7.armies[0, 2, 1]) == 40


def test_unsupported_features_are_refused() -> None:
    with pytest.raises(ReplayError, match="swamps"):
        ReplaySimulator(small_replay(swamps=(2,)))
    with pytest.raises(ReplayError, match="modifiers"):
        ReplaySimulator(small_replay(extra={"modifiers": [3]}))


def test_maps_pad() -> None:
    maps = small_replay().maps(pad_to=(5, 6))
    assert maps.shape == (5, 6) and maps.generals.tolist() == [[0, 2 * 6 + 3]]
    assert maps.size.tolist() == [[3, 4]] and bool(maps.mountains[0, 4, 5])


# -- recorder --------------------------------------------------------------------------------


def random_actions(state: GameState, gen: torch.Generator) -> torch.Tensor:
    """Uniform legal actions, passing rarely (so that games see many moves)."""
    weights = observe(state).action_mask.float()
    weights[..., 0] *= 0.05
    b, p, a = weights.shape
    return torch.multinomial(weights.view(b * p, a), 1, generator=gen).view(b, p)


def small_maps(games: int, players: int, seed: int) -> Maps:
    config = MapConfig(
        players=players,
        side=(6, 9),
        mountain_density=(0.1, 0.2),
        cities=(1, 3),
        min_distance=(3, 5),
        fair_radius=2,
        fair_tolerance=1.0,
        min_room=1,
    )
    return generate_maps(games, config, seed=seed)


Snapshot = tuple[int, list[int], list[int]]


def snapshot(state: GameState, b: int) -> Snapshot:
    h, w = (int(v) for v in state.map_size[b])
    return (
        int(state.tick[b]),
        state.owner_codes()[b, :h, :w].flatten().tolist(),
        state.armies[b, :h, :w].flatten().tolist(),
    )


def play_and_record(
    maps: Maps,
    config: EngineConfig,
    policy: Any,
    teams: torch.Tensor | None = None,
    leave: dict[tuple[int, int], tuple[int, bool]] | None = None,
) -> tuple[list[Replay], list[list[Snapshot]], GameState]:
    """Play to the end, recording; ``leave[(game, tick)] = (player, neutralize)`` calls
    ``eliminate`` at that tick. Returns the replays and each game's live snapshots."""
    leave = leave or {}
    names = [f"p{i}" for i in range(maps.num_players)]
    recorder = ReplayRecorder(maps, names, config)
    state = initial_state(maps, teams)
    live: list[list[Snapshot]] = [[] for _ in range(maps.batch_size)]
    while not bool(state.done.all()):
        actions = policy(state)
        recorder.record(state, actions)
        playing = (~state.done).tolist()
        state = step(state, actions, config)
        for (game, tick), (player, neutralize) in leave.items():
            if int(state.tick[game]) == tick and bool(state.alive[game, player]):
                mask = torch.zeros_like(state.alive)
                mask[game, player] = True
                state = eliminate(state, mask, neutralize=neutralize)
        for b in range(maps.batch_size):
            if playing[b]:
                live[b].append(snapshot(state, b))
    return recorder.replays(state), live, state


def assert_replays_match(replays: list[Replay], live: list[list[Snapshot]], max_ticks: int) -> None:
    for b, replay in enumerate(replays):
        replayed = [snapshot(s, 0) for s in simulate(replay, max_ticks=max_ticks)]
        assert len(replayed) == len(live[b]), (
            f"game {b}: {len(replayed)} ticks replayed, {len(live[b])} played"
        )
        for mine, theirs in zip(replayed, live[b], strict=True):
            assert mine == theirs, f"game {b} differs at tick {theirs[0]}"


@pytest.mark.parametrize(("players", "order"), [(2, "alternating"), (2, "generals-bots"), (3, "alternating")])
def test_random_games_replay_exactly(players: int, order: str) -> None:
    maps = small_maps(4, players, seed=players)
    config = EngineConfig(move_order=order, max_ticks=120)  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(7)
    replays, live, _ = play_and_record(maps, config, lambda s: random_actions(s, gen))
    assert all(len(r.moves) > 100 for r in replays)
    assert_replays_match(replays, live, config.max_ticks)
    # The moves of each tick are in the engine's execution order: alternating by tick parity.
    if order == "alternating":
        for move, after in zip(replays[0].moves, replays[0].moves[1:], strict=False):
            if move.turn == after.turn:
                assert (move.index < after.index) == (move.turn % 2 == 0)


def test_team_games_replay_exactly() -> None:
    maps = small_maps(3, 4, seed=11)
    teams = torch.tensor([0, 0, 1, 1])
    config = EngineConfig(max_ticks=100)
    gen = torch.Generator().manual_seed(3)
    replays, live, _ = play_and_record(maps, config, lambda s: random_actions(s, gen), teams=teams)
    assert replays[0].teams == (0, 0, 1, 1)
    assert_replays_match(replays, live, config.max_ticks)


def scripted(state: GameState) -> torch.Tensor:
    """On the 1-row map ``A.B..C.D``: B keeps moving its general's army right (2 -> 3), so that
    from tick 10 A walks 0 -> 1 -> 2 and takes B's general; everyone else passes."""
    n = state.num_tiles
    actions = torch.zeros(state.batch_size, state.num_players, dtype=torch.int64)
    for b in range(state.batch_size):
        owner, armies = state.owner[b, 0].tolist(), state.armies[b, 0].tolist()
        if owner[2] == 1 and armies[2] >= 2:
            actions[b, 1] = encode_action(2, RIGHT, False, n)
        if int(state.tick[b]) >= 10:
            if owner[1] == 0 and armies[1] >= 2:
                actions[b, 0] = encode_action(1, RIGHT, False, n)
            elif armies[0] >= 2:
                actions[b, 0] = encode_action(0, RIGHT, False, n)
    return actions


def test_capture_and_leavers_replay_exactly() -> None:
    # Game 0: A captures B, the game goes on, C leaves (land kept) at tick 30 -> D leaves at 40.
    # Game 1: the same capture, then C leaves and is neutralized at tick 31 (odd: exact), D at 45.
    # Game 2: D leaves at tick 1; A captures B; C leaves at tick 50 (land kept).
    maps = Maps.cat([Maps.from_string("A.B..C.D")] * 3)
    config = EngineConfig(max_ticks=200)
    leave = {(0, 30): (2, False), (0, 40): (3, False), (1, 31): (2, True), (1, 45): (3, False)}
    leave |= {(2, 1): (3, False), (2, 50): (2, False)}
    replays, live, state = play_and_record(maps, config, scripted, leave=leave)
    assert state.winner.tolist() == [0, 0, 0]
    assert state.tick.tolist() == [40, 45, 50]
    assert int(state.generals[1, 2]) == -1 and bool(state.cities[1, 0, 5])  # neutralized
    assert [a.turn for a in replays[0].afks] == [29, 39]
    assert [a.turn for a in replays[1].afks] == [30, 30, 44]  # eliminated and neutralized
    assert all(a.index != 1 for r in replays for a in r.afks)  # B was captured: no AFK record
    assert_replays_match(replays, live, config.max_ticks)


def test_capture_ends_1v1_in_both_orders() -> None:
    maps = Maps.from_string("A.B.")
    for order in ("alternating", "generals-bots"):
        config = EngineConfig(move_order=order, max_ticks=100)  # type: ignore[arg-type]
        replays, live, state = play_and_record(maps, config, scripted)
        assert bool(state.done[0]) and int(state.winner[0]) == 0 and int(state.tick[0]) < 20
        assert_replays_match(replays, live, config.max_ticks)
        replayed = list(simulate(replays[0]))  # no tick limit needed: the log ends the game
        assert int(replayed[-1].winner[0]) == 0


def test_padded_batches_record_official_indices(tmp_path: Path) -> None:
    maps = Maps.cat([Maps.from_string("A.B."), Maps.from_string("A..\n...\n..B")])
    assert maps.shape == (3, 4)
    config = EngineConfig(max_ticks=60)
    gen = torch.Generator().manual_seed(5)
    replays, live, final_state = play_and_record(maps, config, lambda s: random_actions(s, gen))
    assert (replays[0].map_width, replays[0].map_height, replays[0].generals) == (4, 1, (0, 2))
    assert (replays[1].map_width, replays[1].map_height, replays[1].generals) == (3, 3, (0, 8))
    assert all(0 <= m.start < 9 and 0 <= m.end < 9 for m in replays[1].moves)
    assert_replays_match(replays, live, config.max_ticks)
    recorder = ReplayRecorder(maps, ["x", "y"], config)  # saw no tick: the maps alone
    paths = recorder.save(final_state, tmp_path / "out")
    assert [p.suffix for p in paths] == [".gioreplay", ".gioreplay"]
    loaded = load_replay(paths[1])
    assert loaded.version == 7 and loaded.usernames == ("x", "y") and loaded.teams is None
    assert loaded.map_title and "rules v" in loaded.map_title and len(loaded.id) == 9


def test_recorder_exports_city_regeneration_as_version_5() -> None:
    maps = Maps.from_string("A.B.")
    replays, _, _ = play_and_record(maps, EngineConfig(max_ticks=5, city_regeneration=True), scripted)
    assert replays[0].version == 5


def test_recorder_checks_its_inputs() -> None:
    maps = Maps.from_string("A.B.")
    with pytest.raises(ValueError, match="names"):
        ReplayRecorder(maps, ["only one"])
    recorder = ReplayRecorder(maps, ["a", "b"])
    other = initial_state(Maps.from_string("A..\n..B"))
    with pytest.raises(ValueError, match="does not match"):
        recorder.record(GameState.cat([other, other]), torch.zeros(2, 2, dtype=torch.int64))


# -- grl replay ------------------------------------------------------------------------------


def test_cli_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from generals_rl.cli.main import app

    replay = small_replay(moves=(Move(0, 0, 1, False, 2), Move(1, 11, 10, False, 2)), afks=(Afk(1, 6),))
    path = replay.save(tmp_path / "small.gior")
    runner = CliRunner()
    traced = runner.invoke(app, ["replay", "trace", str(path)])
    assert traced.exit_code == 0
    lines = [json.loads(line) for line in traced.output.splitlines()]
    assert [line["tick"] for line in lines] == list(range(1, 8)) and lines[-1]["alive"] == 1
    assert lines[0] == next(iter(trace_lines(replay)))
    longer = runner.invoke(app, ["replay", "trace", str(path), "--max-ticks", "3"])
    assert len(longer.output.splitlines()) == 3
    info = runner.invoke(app, ["replay", "info", str(path)])
    assert info.exit_code == 0 and "won by 0 (a)" in info.output and "tick 7" in info.output
    shown = runner.invoke(app, ["replay", "show", str(path), "--delay", "0"])
    assert shown.exit_code == 0 and "tick 7" in shown.output
    one = runner.invoke(app, ["replay", "show", str(path), "--tick", "4", "--fog", "1"])
    assert one.exit_code == 0 and "tick 4" in one.output


@pytest.mark.parametrize("command", ["trace", "show", "info"])
def test_cli_bad_files_exit_2_with_one_line(tmp_path: Path, command: str) -> None:
    from typer.testing import CliRunner

    from generals_rl.cli.main import app

    runner = CliRunner()
    bad = tmp_path / "bad.gioreplay"
    bad.write_text('{"version": 5, "id": "x"}', encoding="utf-8")
    for path, message in [(bad, "'mapWidth' is missing"), (tmp_path / "none.gior", "cannot read")]:
        result = runner.invoke(app, ["replay", command, str(path)])
        assert result.exit_code == 2
        assert result.output.strip().count("\n") == 0 and message in result.output
        assert "Traceback" not in result.output
    fogged = runner.invoke(
        app, ["replay", "show", str(small_replay().save(tmp_path / "s.gior")), "--fog", "5"]
    )
    assert fogged.exit_code == 2 and "players 0..1" in fogged.output


def test_leavers_through_step_replay_exactly_on_even_and_odd_ticks() -> None:
    # C leaves on an even tick, D on an odd one; both are neutralized at once, before growth,
    # the way the replay format applies AFK records: every tick must match.
    maps = Maps.cat([Maps.from_string("A.B..C.D")] * 2)
    config = EngineConfig(max_ticks=200)
    leaving_at = {(0, 20): 2, (0, 33): 3, (1, 7): 3, (1, 44): 2}
    recorder = ReplayRecorder(maps, ["a", "b", "c", "d"], config)
    state = initial_state(maps)
    live: list[list[Snapshot]] = [[], []]
    while not bool(state.done.all()):
        actions = scripted(state)
        leave = torch.zeros_like(state.alive)
        for (game, tick), player in leaving_at.items():
            leave[game, player] |= int(state.tick[game]) == tick
        recorder.record(state, actions, leave)
        playing = (~state.done).tolist()
        state = step(state, actions, config, leave=leave)
        for b in range(2):
            if playing[b]:
                live[b].append(snapshot(state, b))
    replays = recorder.replays(state)
    assert [a.turn for a in replays[0].afks] == [20, 20, 33, 33]
    assert bool(state.cities[0, 0, 5]) and int(state.owner[0, 0, 5]) == -1  # C's general: neutral city
    assert_replays_match(replays, live, config.max_ticks)
