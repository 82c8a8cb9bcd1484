"""Translation: the observation rebuilt from a server's updates is what our engine shows that player,
and our flat actions map to generals.io attacks and back."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.agents import sample_legal
from generals_rl.bridge.encode import PlayerView, player_update, scores
from generals_rl.bridge.protocol import Attack, GameStart, GameUpdate, MapState
from generals_rl.bridge.translate import BoardTooLargeError, action_of, attack_of, board_shape, observation
from generals_rl.game import EngineConfig, Maps, initial_state, observe, step
from generals_rl.game.engine import encode_action

pytestmark = pytest.mark.usefixtures("one_thread")


def random_maps(gen: torch.Generator, height: int, width: int, players: int) -> Maps:
    """A map of any shape (not only square), generals on distinct free tiles."""
    n = height * width
    order = torch.randperm(n, generator=gen)
    generals = order[:players]
    rest = order[players:]
    kinds = torch.randint(0, 10, (n,), generator=gen)
    mountains = torch.zeros(n, dtype=torch.bool)
    cities = torch.zeros(n, dtype=torch.bool)
    mountains[rest] = kinds[rest] < 2
    cities[rest] = kinds[rest] == 2
    armies = torch.where(cities, torch.randint(0, 6, (n,), generator=gen), 0).int()  # weak: they get taken
    return Maps(
        mountains=mountains.view(1, height, width),
        cities=cities.view(1, height, width),
        armies=armies.view(1, height, width),
        generals=generals.view(1, players).long(),
        size=torch.tensor([[height, width]]),
    )


def assert_same(rebuilt: object, expected: object, where: str, names: tuple[str, ...]) -> None:
    for name in names:
        a, b = getattr(rebuilt, name), getattr(expected, name)
        assert a.shape == b.shape, f"{where}: {name} shape {tuple(a.shape)} != {tuple(b.shape)}"
        assert a.dtype == b.dtype, f"{where}: {name} dtype {a.dtype} != {b.dtype}"
        assert torch.equal(a, b), f"{where}: {name} differs"


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    height=st.integers(2, 8),
    width=st.integers(2, 8),
    players=st.integers(2, 4),
    teams=st.booleans(),
    pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
)
def test_observation_from_server_updates_equals_the_engines(
    seed: int, height: int, width: int, players: int, teams: bool, pad: tuple[int, int]
) -> None:
    players = min(players, height * width)
    gen = torch.Generator().manual_seed(seed)
    maps = random_maps(gen, height, width, players)
    pad_to = (height + pad[0], width + pad[1])
    team_ids = torch.tensor([i // 2 for i in range(players)]) if teams and players >= 3 else None
    state = initial_state(maps.pad(*pad_to), teams=team_ids)
    start = [
        GameStart(
            player_index=p,
            usernames=tuple(f"p{i}" for i in range(players)),
            teams=None if team_ids is None else tuple(team_ids.tolist()),
        )
        for p in range(players)
    ]
    sent = [PlayerView() for _ in range(players)]
    held = [MapState(players) for _ in range(players)]
    config = EngineConfig(max_ticks=200)
    for tick in range(120):
        expected = observe(state)
        for p in range(players):
            update, sent[p] = player_update(state, p, sent[p])
            # Through the wire format, as a client receives it.
            update = GameUpdate.parse(update.to_payload(), players)
            held[p].apply(update)
            assert (held[p].width, held[p].height) == (width, height)
            rebuilt = observation(held[p], update, start[p], pad_to=pad_to)
            # A finished game has no legal moves in the engine; a server sends no update then.
            names = ("armies", "planes", "scalars") + (() if bool(state.done[0]) else ("action_mask",))
            assert_same(rebuilt, expected.player(p), f"tick {tick}, player {p}", names)
        if bool(state.done[0]):
            break
        actions = sample_legal(expected.action_mask[0], torch.rand(players, generator=gen)).unsqueeze(0)
        leave = (torch.rand(1, players, generator=gen) < 0.01) if tick > 20 else None
        state = step(state, actions, config, leave=leave)


def test_scores_are_sorted_like_the_real_servers_and_name_players() -> None:
    maps = Maps.from_string("A..\n.B.\n..C")
    state = initial_state(maps)
    armies = state.armies.clone()
    armies[0, 1, 1] = 9  # B's general
    state = state.replace(armies=armies, alive=torch.tensor([[True, True, False]]))
    table = scores(state)
    assert [s.index for s in table] == [1, 0, 2]
    assert table[0].total == 9 and table[2].dead


def test_attack_of_an_action_on_a_padded_board() -> None:
    # A 2-row, 3-column map padded to 4 x 5: tile (1, 2) is 7 on our board, 5 on generals.io's.
    up_half = int(encode_action(1 * 5 + 2, 0, True, 4 * 5))
    assert attack_of(up_half, width=3, height=2, pad_to=(4, 5)) == Attack(start=5, end=2, is50=True)
    left_full = int(encode_action(1 * 5 + 2, 2, False, 4 * 5))
    assert attack_of(left_full, width=3, height=2, pad_to=(4, 5)) == Attack(start=5, end=4, is50=False)
    assert attack_of(0, width=3, height=2) is None
    right_off_map = int(encode_action(1 * 5 + 2, 3, False, 4 * 5))
    with pytest.raises(ValueError, match="off the real 2x3 map"):
        attack_of(right_off_map, width=3, height=2, pad_to=(4, 5))
    with pytest.raises(ValueError, match="not a move"):
        attack_of(10**6, width=3, height=2)


@given(
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    data=st.data(),
)
def test_action_of_inverts_attack_of(
    height: int, width: int, pad: tuple[int, int], data: st.DataObject
) -> None:
    pad_to = (height + pad[0], width + pad[1])
    rows, cols = board_shape(width, height, pad_to)
    start = data.draw(st.integers(0, width * height - 1))
    r, c = divmod(start, width)
    neighbours = [(r + dr, c + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
    inside = [(nr, nc) for nr, nc in neighbours if 0 <= nr < height and 0 <= nc < width]
    if not inside:
        return
    nr, nc = data.draw(st.sampled_from(inside))
    attack = Attack(start=start, end=nr * width + nc, is50=data.draw(st.booleans()))
    action = action_of(attack, width, height, pad_to)
    assert 1 <= action < 1 + 8 * rows * cols
    assert attack_of(action, width, height, pad_to) == attack


def test_action_of_refuses_attacks_that_are_not_moves() -> None:
    with pytest.raises(ValueError, match="adjacent"):
        action_of(Attack(0, 2), width=3, height=3)
    with pytest.raises(ValueError, match="adjacent"):
        action_of(Attack(2, 3), width=3, height=3)  # the end of one row to the start of the next
    with pytest.raises(ValueError, match="leaves"):
        action_of(Attack(8, 9), width=3, height=3)


def test_a_map_larger_than_the_policy_board_is_refused() -> None:
    with pytest.raises(BoardTooLargeError, match="larger than the 4x4 board"):
        board_shape(5, 3, pad_to=(4, 4))
