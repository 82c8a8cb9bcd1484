"""The generals.io protocol: diff patching, payload checks, queues."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.bridge.protocol import (
    GameStart,
    GameUpdate,
    MapState,
    ProtocolError,
    Queue,
    Score,
    diff,
    patch,
)

values = st.lists(st.integers(-4, 300), max_size=60)


def test_patch_follows_the_documented_examples() -> None:
    # The first update patches an empty array: nothing kept, then every value new.
    assert patch([], [0, 4, 2, 2, 0, 1]) == [2, 2, 0, 1]
    # Keep 2, change 1 (to 9), keep 1: the last item is dropped because the diff ends.
    assert patch([5, 6, 7, 8, 10], [2, 1, 9, 1]) == [5, 6, 9, 8]
    # Keep everything.
    assert patch([1, 2, 3], [3]) == [1, 2, 3]
    # Empty result.
    assert patch([1, 2, 3], [0]) == []


def test_diff_of_a_small_change_is_short() -> None:
    old = list(range(100))
    new = old.copy()
    new[40] = -1
    assert diff(old, new) == [40, 1, -1, 59]
    assert patch(old, diff(old, new)) == new


@given(values, values)
def test_patch_of_diff_rebuilds_the_new_array(old: list[int], new: list[int]) -> None:
    assert patch(old, diff(old, new)) == new


@given(values, st.lists(st.tuples(st.integers(0, 59), st.integers(-4, 300)), max_size=8))
def test_diff_of_point_changes_carries_only_the_changes(old: list[int], edits: list[tuple[int, int]]) -> None:
    new = old.copy()
    for i, v in edits:
        if i < len(new):
            new[i] = v
    changed = sum(a != b for a, b in zip(old, new, strict=True))
    d = diff(old, new)
    # The diff holds run lengths plus exactly the changed values, never the whole array again.
    assert len(d) <= 1 + 2 * changed + changed
    assert patch(old, d) == new


@pytest.mark.parametrize(
    ("old", "bad", "message"),
    [
        ([1, 2], [3], "keeps 3 items"),
        ([1, 2], [0, 3, 1, 2], "ends before them"),
        ([1, 2], [-1], "negative"),
        ([1, 2], [0, 1, "x"], "must be an integer"),
        ([1, 2], [1.5], "must be an integer"),
        ([1, 2], [True], "must be an integer"),
    ],
)
def test_malformed_diffs_are_refused_with_what_was_wrong(
    old: list[int], bad: list[Any], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        patch(old, bad)


@given(
    values, st.lists(st.one_of(st.integers(-5, 80), st.text(max_size=2), st.none(), st.floats()), max_size=20)
)
def test_any_diff_patches_or_raises_protocol_error(old: list[int], junk: list[Any]) -> None:
    try:
        out = patch(old, junk)
    except ProtocolError:
        return
    assert all(isinstance(v, int) for v in out)


def _update(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "turn": 3,
        "map_diff": [0, 6, 2, 1, 0, 0, 0, -1],
        "cities_diff": [],
        "generals": [0, -1],
        "scores": [
            {"i": 1, "total": 1, "tiles": 1, "dead": False},
            {"i": 0, "total": 2, "tiles": 1, "dead": False},
        ],
        "attackIndex": 0,
        "stars": [0, 0],
    }
    payload.update(changes)
    return payload


def test_game_update_parses_scores_by_player_index() -> None:
    update = GameUpdate.parse(_update(), num_players=2)
    assert update.turn == 3
    assert update.scores[0] == Score(index=1, total=1, tiles=1, dead=False)
    maps = MapState(2)
    maps.apply(update)
    assert (maps.width, maps.height, maps.armies, maps.terrain) == (2, 1, [0, 0], [0, -1])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"turn": None}, "turn must be an integer"),
        ({"turn": -1}, "must not be negative"),
        ({"map_diff": "0,1"}, "map_diff must be a list"),
        ({"generals": [0]}, "1 entries for 2 players"),
        ({"scores": [{"i": 0, "total": 1, "tiles": 1}]}, "one entry per player"),
        ({"scores": [{"i": 0, "total": 1, "tiles": 1}, {"i": 5, "total": 1, "tiles": 1}]}, "player 5"),
        ({"scores": [{"i": 0, "total": 1, "tiles": 1}, {"i": 1, "total": -1, "tiles": 1}]}, "negative"),
        ({"scores": [{"i": 0, "total": 1, "tiles": 1}, {"i": 1, "tiles": 1}]}, "no 'total'"),
        (
            {"scores": [{"i": 0, "total": 1, "tiles": 1, "dead": "no"}, {"i": 1, "total": 1, "tiles": 1}]},
            "dead",
        ),
        ({"attackIndex": "a"}, "attackIndex"),
    ],
)
def test_malformed_game_updates_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        GameUpdate.parse(_update(**changes), num_players=2)


@pytest.mark.parametrize(
    ("map_diff", "cities_diff", "generals", "message"),
    [
        ([0, 1, 2], [], [-1, -1], "no width and height"),
        ([0, 2, 0, 1], [], [-1, -1], "not a board"),
        ([0, 5, 2, 1, 0, 0, 0], [], [-1, -1], "needs 6"),
        ([0, 6, 2, 1, -3, 0, 0, 0], [], [-1, -1], "negative armies"),
        ([0, 6, 2, 1, 0, 0, 0, 7], [], [-1, -1], "terrain codes"),
        ([0, 6, 2, 1, 0, 0, 0, -5], [], [-1, -1], "terrain codes"),
        ([0, 6, 2, 1, 0, 0, 0, 0], [0, 1, 2], [-1, -1], "cities outside"),
        ([0, 6, 2, 1, 0, 0, 0, 0], [], [2, -1], "generals outside"),
    ],
)
def test_patched_maps_that_are_not_boards_are_refused(
    map_diff: list[int], cities_diff: list[int], generals: list[int], message: str
) -> None:
    maps = MapState(2)
    update = GameUpdate.parse(_update(map_diff=map_diff, cities_diff=cities_diff, generals=generals), 2)
    with pytest.raises(ProtocolError, match=message):
        maps.apply(update)
    assert maps.map == [] and maps.cities == []  # a refused update changes nothing


@given(
    st.dictionaries(
        st.sampled_from(["turn", "map_diff", "cities_diff", "generals", "scores", "attackIndex"]),
        st.one_of(
            st.none(), st.integers(-3, 3), st.text(max_size=3), st.lists(st.integers(-5, 5), max_size=8)
        ),
    )
)
def test_any_junk_update_parses_and_patches_or_raises_protocol_error(junk: dict[str, Any]) -> None:
    with contextlib.suppress(ProtocolError):
        MapState(2).apply(GameUpdate.parse(_update(**junk), num_players=2))


def test_game_start_parses_and_checks_the_seat() -> None:
    start = GameStart.parse(
        {"playerIndex": 1, "replay_id": "r1", "chat_room": "c", "usernames": ["a", "b"], "teams": None}
    )
    assert (start.player_index, start.usernames, start.teams, start.num_players) == (1, ("a", "b"), None, 2)
    assert GameStart.parse(start.to_payload()) == start
    with pytest.raises(ProtocolError, match="not a seat"):
        GameStart.parse({"playerIndex": 2, "usernames": ["a", "b"]})
    with pytest.raises(ProtocolError, match="one team per player"):
        GameStart.parse({"playerIndex": 0, "usernames": ["a", "b"], "teams": [1]})
    with pytest.raises(ProtocolError, match="usernames"):
        GameStart.parse({"playerIndex": 0})
    with pytest.raises(ProtocolError, match="object"):
        GameStart.parse(["playerIndex", 0])


def test_queues_name_their_join_and_force_start_events() -> None:
    assert Queue.parse("1v1").join("u") == ("join_1v1", ("u",))
    assert Queue.parse("1v1").force_start() is None
    assert Queue.parse("ffa").join("u") == ("play", ("u",))
    assert Queue.parse("ffa").force_start() == ("set_force_start", ("", True))
    room = Queue.parse("private:my room")
    assert room.join("u") == ("join_private", ("my room", "u"))
    assert room.force_start() == ("set_force_start", ("my room", True))
    assert str(room) == "private:my room"
    for bad in ("2v2", "private:", ""):
        with pytest.raises(ValueError, match="1v1, ffa or private:ROOM"):
            Queue.parse(bad)
