"""Maps (text format, validation, padding) and the seeded generators (RULES 19-20)."""

from __future__ import annotations

import re
from collections import deque

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.game import MapConfig, MapError, MapPool, Maps, generate_maps, initial_state
from generals_rl.game.maps import MAX_INITIAL_ARMY, bfs_distances

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same_maps(a: Maps, b: Maps) -> None:
    for name, value in a.tensors().items():
        assert torch.equal(value, getattr(b, name)), name


def bfs(passable: list[list[bool]], start: tuple[int, int]) -> dict[tuple[int, int], int]:
    h, w = len(passable), len(passable[0])
    dist = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < h and 0 <= nc < w and passable[nr][nc] and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


@st.composite
def map_texts(draw: st.DrawFn) -> str:
    """Map texts in the format, playable or not (unreachable generals are common)."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    players = draw(st.integers(2, min(8, h * w)))
    cells = draw(st.lists(st.sampled_from(list("....#0123456789x")), min_size=h * w, max_size=h * w))
    for p, spot in enumerate(draw(st.permutations(range(h * w)))[:players]):
        cells[spot] = chr(ord("A") + p)
    return "\n".join("".join(cells[r * w : (r + 1) * w]) for r in range(h))


# Text format


@SETTINGS
@given(text=map_texts())
def test_text_round_trip(text: str) -> None:
    try:
        maps = Maps.from_string(text)
    except MapError as err:
        assert "cannot be reached" in str(err)
        return
    assert maps.to_string() == text
    assert_same_maps(Maps.from_string(maps.to_string()), maps)
    padded = Maps.from_string(text, pad_to=(7, 8))
    assert padded.to_string() == text
    assert_same_maps(Maps.from_string(padded.to_string(), pad_to=(7, 8)), padded)


def test_generated_maps_round_trip_through_text() -> None:
    maps = generate_maps(4, seed=5)
    for b in range(maps.batch_size):
        back = Maps.from_string(maps.to_string(b), pad_to=maps.shape)
        assert_same_maps(back, maps.select(b))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n \n", "empty"),
        ("A..\nB.", "row 1 has 2 tiles, row 0 has 3"),
        ("A.?\n..B", "unknown tile '?' at row 0, col 2"),
        ("A.I\n..B", "unknown tile 'I'"),
        ("a..\n..B", "unknown tile 'a'"),
        ("A.A\n..B", "general 'A' appears twice"),
        ("A..\n...", "at least two generals"),
        ("...\n...", "at least two generals"),
        ("A..\n..C", "consecutive letters from A"),
        ("A#.\n#.B", "general 1 cannot be reached from general 0"),
        ("A.#\n.#.\n#.B", "cannot be reached"),
    ],
)
def test_map_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MapError, match=re.escape(message)):
        Maps.from_string(text)


def test_map_errors_for_built_maps() -> None:
    maps = Maps.from_string("A.3\n..B")
    with pytest.raises(MapError, match="smaller"):
        maps.pad(1, 3)
    with pytest.raises(MapError, match="smaller"):
        Maps.from_string("A.3\n..B", pad_to=(2, 2))
    with pytest.raises(MapError, match="same number of players"):
        Maps.cat([maps, Maps.from_string("A.C\n..B")])
    too_big = Maps(**{**maps.tensors(), "armies": maps.armies + MAX_INITIAL_ARMY})
    with pytest.raises(MapError, match="starting armies"):
        too_big.validate()
    negative = Maps(**{**maps.tensors(), "armies": maps.armies - 50})
    with pytest.raises(MapError, match="starting armies"):
        negative.validate()
    on_mountain = Maps(
        **{**maps.tensors(), "mountains": maps.mountains | (torch.arange(6).view(1, 2, 3) == 5)}
    )
    with pytest.raises(MapError, match="general 1 is not on a free tile"):
        on_mountain.validate()
    off_board = Maps(**{**maps.tensors(), "generals": torch.tensor([[0, 6]])})
    with pytest.raises(MapError, match="not on a free tile"):
        off_board.validate()


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=40)
    | st.text(alphabet=st.sampled_from(list(".#ABCDHIx09 \t\n\r\x0b\x0c\u2028\u00a0é")), max_size=40)
)
def test_any_text_parses_or_raises_map_error(text: str) -> None:
    try:
        maps = Maps.from_string(text)
    except MapError:
        return
    assert maps.batch_size == 1 and maps.num_players >= 2


def test_load_and_save_use_the_text_format(tmp_path) -> None:
    path = tmp_path / "m.txt"
    path.write_text("\n# x 5\nA . .\n", encoding="utf-8")
    with pytest.raises(MapError, match="unknown tile ' '"):
        Maps.load(path)
    maps = Maps.from_string("A#x\n..B")
    maps.save(path)
    assert path.read_text(encoding="utf-8") == "A#x\n..B\n"
    assert_same_maps(Maps.load(path), maps)


# Padding


def test_padding_adds_mountains_bottom_right_and_moves_generals() -> None:
    maps = Maps.from_string("A.5\n#.B")
    padded = maps.pad(3, 5)
    assert padded.shape == (3, 5)
    assert padded.size.tolist() == [[2, 3]]
    assert padded.generals.tolist() == [[0, 1 * 5 + 2]]
    assert padded.mountains[0].tolist() == [
        [False, False, False, True, True],
        [True, False, False, True, True],
        [True] * 5,
    ]
    assert padded.cities[0, :2, :3].tolist() == maps.cities[0].tolist() and not padded.cities[0, 2:].any()
    assert padded.armies[0, 0].tolist() == [0, 0, 45, 0, 0]
    assert maps.pad(2, 3) is maps
    state = initial_state(padded)
    assert not state.in_bounds()[0, 2].any() and state.in_bounds()[0, :2, :3].all()


def test_cat_pads_maps_of_different_sizes() -> None:
    small, large = Maps.from_string("AB"), Maps.from_string("A..\n...\n..B")
    both = Maps.cat([small, large])
    assert both.shape == (3, 3)
    assert both.size.tolist() == [[1, 2], [3, 3]]
    assert both.generals.tolist() == [[0, 1], [0, 8]]
    assert both.to_string(0) == "AB" and both.to_string(1) == "A..\n...\n..B"


def test_bfs_ignores_missing_starts_and_keeps_tile_0() -> None:
    # Regression: an ignored start (-1) used to race with a real start at tile 0.
    passable = torch.ones(1, 1, 4, dtype=torch.bool)
    for start in ([[0, -1]], [[-1, 0]], [[-1, 0, -1, -1]]):
        assert bfs_distances(torch.tensor(start), passable).tolist() == [[0, 1, 2, 3]]
    assert bfs_distances(torch.tensor([[0, 3]]), passable).tolist() == [[0, 1, 1, 0]]
    assert bfs_distances(torch.tensor([[-1]]), passable).tolist() == [[-1, -1, -1, -1]]
    assert bfs_distances(torch.tensor([[0]]), passable, limit=2).tolist() == [[0, 1, 2, -1]]


# Generators


def test_generator_is_reproducible_for_a_seed() -> None:
    a = generate_maps(6, seed=123)
    b = generate_maps(6, seed=123)
    assert_same_maps(a, b)
    c = generate_maps(6, seed=124)
    assert not torch.equal(a.mountains, c.mountains)
    gen1, gen2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    first = [generate_maps(2, generator=gen1) for _ in range(2)]
    again = [generate_maps(2, generator=gen2) for _ in range(2)]
    for x, y in zip(first, again, strict=True):
        assert_same_maps(x, y)
    assert not torch.equal(first[0].mountains, first[1].mountains)  # the stream moves on


def test_generator_pads_to_the_requested_board() -> None:
    maps = generate_maps(3, seed=1, pad_to=(25, 24))
    assert maps.shape == (25, 24)
    for b in range(3):
        h, w = maps.size[b].tolist()
        assert maps.mountains[b, h:].all() and maps.mountains[b, :, w:].all()
    with pytest.raises(MapError, match="smaller than the largest map side"):
        generate_maps(1, seed=1, pad_to=(20, 20))


def test_map_config_validation() -> None:
    with pytest.raises(ValueError, match="players"):
        MapConfig(players=1)
    with pytest.raises(ValueError, match="players"):
        MapConfig(players=9)
    with pytest.raises(ValueError, match="side: low"):
        MapConfig(side=(20, 18))
    with pytest.raises(ValueError, match="side of at least 4"):
        MapConfig(side=(3, 5))
    with pytest.raises(ValueError, match="mountain density"):
        MapConfig(mountain_density=(0.1, 0.7))
    with pytest.raises(ValueError, match="players"):
        MapConfig.ffa(9)
    assert MapConfig.generalsio_1v1() == MapConfig()
    assert MapConfig().with_side(10).side == (10, 10)


def test_impossible_config_raises_map_error() -> None:
    config = MapConfig(side=(5, 5), min_distance=(30, 30), min_room=1)
    with pytest.raises(MapError, match="could not draw"):
        generate_maps(1, config, seed=0)


def test_small_side_maps_keep_every_promise() -> None:
    config = MapConfig(side=(8, 10), cities=(2, 3), min_distance=(5, 6), fair_radius=3, min_room=4)
    maps = generate_maps(8, config, seed=8)
    for b in range(8):
        h, w = maps.size[b].tolist()
        mountains = maps.mountains[b, :h, :w]
        share = int(mountains.sum()) / (h * w)
        assert config.mountain_density[0] <= share <= config.mountain_density[1]
        assert config.cities[0] <= int(maps.cities[b].sum()) <= config.cities[1]


def test_map_pool_is_deterministic() -> None:
    def draws(pool: MapPool) -> list[Maps]:
        return [pool.take(k) for k in (3, 2, 4)]

    one = draws(MapPool(seed=7, block=4))
    two = draws(MapPool(seed=7, block=4))
    for x, y in zip(one, two, strict=True):
        assert_same_maps(x, y)
    assert [m.batch_size for m in one] == [3, 2, 4]
    assert all(m.shape == (23, 23) for m in one)
    # Within one block, taking in pieces gives the same maps as taking at once.
    whole = MapPool(seed=7, block=8).take(8)
    pieces = MapPool(seed=7, block=8)
    parts = [pieces.take(3), pieces.take(5)]
    assert_same_maps(Maps.cat(parts), whole)
    # No map is handed out twice.
    seen = {tuple(m.mountains[b].flatten().tolist()) for m in one for b in range(m.batch_size)}
    assert len(seen) == 9


@pytest.mark.parametrize("players", range(3, 9))
def test_ffa_maps_for_3_to_8_players(players: int) -> None:
    config = MapConfig.ffa(players)
    maps = generate_maps(2, config, seed=players)
    assert maps.num_players == players
    assert maps.shape == (config.side[1], config.side[1])
    width = maps.shape[1]
    for b in range(2):
        h, w = maps.size[b].tolist()
        assert config.side[0] <= h <= config.side[1] and config.side[0] <= w <= config.side[1]
        mountains = maps.mountains[b, :h, :w].tolist()
        cities = maps.cities[b, :h, :w].tolist()
        share = sum(map(sum, mountains)) / (h * w)
        assert config.mountain_density[0] <= share <= config.mountain_density[1]
        assert config.cities[0] <= sum(map(sum, cities)) <= config.cities[1]
        generals = [divmod(g, width) for g in maps.generals[b].tolist()]
        assert len(set(generals)) == players
        free = [
            [not m and not c for m, c in zip(mr, cr, strict=True)]
            for mr, cr in zip(mountains, cities, strict=True)
        ]
        for i, g in enumerate(generals):
            assert free[g[0]][g[1]]
            dist = bfs(free, g)
            for other in generals[i + 1 :]:
                assert dist.get(other, -1) >= config.min_distance[0]
        maps.select(b).validate()


def test_maps_larger_than_the_engine_plays_are_refused() -> None:
    row = "A" + "." * 63 + "B"  # 65 tiles wide
    with pytest.raises(MapError, match="at most 64x64"):
        Maps.from_string(row)
    assert Maps.from_string("A" + "." * 62 + "B").size.tolist() == [[1, 64]]
