"""Spectators of the Game Service's domain (WatchGame): the whole board or one seat's fog each tick,
bounded feeds that lose the oldest frames of a spectator that does not read (the game never
waits), the last frame with the result, and the spectator's bad requests. Driven by a
``GameManager`` on a ``ManualClock``: no sleeping."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from generals_rl.game import observe
from generals_rl.game.observations import PLANE
from generals_rl.services.common import errors
from generals_rl.services.game.clocks import ManualClock
from generals_rl.services.game.core import GameManager
from generals_rl.services.game.domain import (
    EngineOptions,
    GameResult,
    GameSpec,
    MapText,
    PlayerRef,
    SeatSpec,
    SpectatorFrame,
)
from generals_rl.services.game.rooms import EndedGame
from generals_rl.services.game.spectators import (
    MAX_SPECTATORS,
    TERRAIN_GENERAL,
    TERRAIN_MOUNTAIN,
    WATCH_BUFFER,
    SpectatorFeed,
)

pytestmark = pytest.mark.timeout(120)

torch.set_num_threads(1)

MAP = "\n".join(["A.....", "..#...", "......", "...1..", "......", ".....B"])
"""6 x 6: general A on tile 0, a mountain on tile 8, a city on tile 21, general B on tile 35."""


class Ended:
    """A listener that keeps the ended games."""

    def __init__(self) -> None:
        self.ended: list[EndedGame] = []

    def game_changed(self, info: object) -> None:
        return None

    def game_ended(self, ended: EndedGame) -> None:
        self.ended.append(ended)


def bots_game(m: GameManager, max_ticks: int = 300) -> str:
    """A lock-step game of two hosted random bots, still PENDING: seat 1 is reserved, not joined."""
    seats = (SeatSpec(PlayerRef("bot", "random"), hosted=True), SeatSpec(PlayerRef("bot", "random")))
    spec = GameSpec(map=MapText(MAP), seed=3, seats=seats, engine=EngineOptions(max_ticks=max_ticks))
    return m.create_game(spec).game_id


def start(m: GameManager, game_id: str) -> None:
    m.join_game(game_id, PlayerRef("bot", "random"), hosted=True)


def run_to_end(m: GameManager, listener: Ended) -> EndedGame:
    for _ in range(5000):
        if listener.ended:
            return listener.ended[-1]
        m.advance()
    raise AssertionError("the game did not end")


def drain(feed: SpectatorFeed) -> list[SpectatorFrame]:
    """Every frame waiting, oldest first."""
    return list(iter(feed.pop, None))


def frame(tick: int, done: bool = False) -> SpectatorFrame:
    return SpectatorFrame("g", tick, None, None, None, (True, True), "running", done)


def test_a_full_feed_loses_its_oldest_frames_and_counts_them() -> None:
    feed = SpectatorFeed("g", None, capacity=3)
    for tick in range(10):
        feed.push(frame(tick, done=tick == 9))
    got = drain(feed)
    assert [f.tick for f in got] == [7, 8, 9] and got[-1].done
    assert [f.skipped for f in got] == [7, 0, 0]  # ticks 0..6 were lost before tick 7
    feed.push(frame(10))
    assert [(f.tick, f.skipped) for f in drain(feed)] == [(10, 0)]  # nothing lost since


def test_a_spectator_that_never_reads_does_not_hold_the_game_back() -> None:
    listener = Ended()
    m = GameManager(clock=ManualClock(), listener=listener)
    game_id = bots_game(m)
    slow = m.spectate(game_id)  # opened while PENDING: nothing yet
    assert drain(slow) == []
    start(m, game_id)
    ended = run_to_end(m, listener)  # the game played every tick with nobody reading
    ticks = ended.result.ticks
    assert ticks > WATCH_BUFFER
    frames = drain(slow)
    assert len(frames) == WATCH_BUFFER
    last = frames[-1]
    assert last.done and last.status == "finished" and last.tick == ticks
    assert last.result == ended.result
    assert frames[0].skipped == ticks + 1 - WATCH_BUFFER  # tick 0 was the first frame pushed
    assert [f.tick for f in frames] == list(range(ticks + 1 - WATCH_BUFFER, ticks + 1))


def test_frames_show_the_board_or_one_seat_s_fog_without_its_queue() -> None:
    m = GameManager(clock=ManualClock())
    spec = GameSpec(map=MapText(MAP), clock="lock_step")
    game_id = m.create_game(spec).game_id
    token0 = m.join_game(game_id, PlayerRef("model", "1")).player_token
    token1 = m.join_game(game_id, PlayerRef("model", "2")).player_token
    seat_feed = m.watch(game_id, token1)
    board_feed, fog_feed = m.spectate(game_id, -1), m.spectate(game_id, 1)
    assert m.get_game(game_id).seats[0].connected is False  # spectators are not seats
    m.submit_moves(game_id, token0, [0, 0])
    m.submit_moves(game_id, token1, [0, 0, 0])  # two ticks play; one move stays queued
    own = seat_feed.take()[-1]
    fogged = drain(fog_feed)[-1]
    board_frames = drain(board_feed)
    assert [f.tick for f in board_frames] == [0, 1, 2]
    full = board_frames[-1]
    assert fogged.fog_of == 1 and fogged.view is not None and fogged.board is None
    assert own.queued_actions == (0,) and fogged.view.queued_actions == ()
    for name in ("armies", "planes", "scalars", "action_mask"):
        assert torch.equal(getattr(fogged.view.observation, name), getattr(own.observation, name))
    assert full.fog_of is None and full.view is None and full.board is not None
    state = m._room(game_id).state
    board = full.board
    assert board.armies.dtype == torch.int32 and board.owners.dtype == torch.int8
    assert torch.equal(board.owners, state.owner[0].to(torch.int8))
    assert torch.equal(board.armies, state.armies[0])
    terrain = board.terrain.flatten().tolist()
    assert terrain[0] == terrain[35] == TERRAIN_GENERAL and terrain[8] == TERRAIN_MOUNTAIN
    assert terrain[21] == 2 and terrain[1] == 0  # a city, plain land
    assert torch.equal(board.scalars, observe(state).scalars[0, 0])  # seat 0 first: seat order
    visible = ~own.observation.planes[PLANE["fog"]]
    assert torch.equal(own.observation.armies[visible], board.armies[visible])
    assert full.alive == (True, True) and not full.done and full.result is None


def test_a_game_over_or_aborted_sends_its_last_frame() -> None:
    listener = Ended()
    m = GameManager(clock=ManualClock(), listener=listener)
    game_id = bots_game(m, max_ticks=20)
    start(m, game_id)
    ended = run_to_end(m, listener)
    late = drain(m.spectate(game_id, 0))
    assert len(late) == 1 and late[0].done and late[0].tick == 20 and late[0].result == ended.result
    assert late[0].view is not None and late[0].view.done and late[0].view.outcome == "draw"
    pending = bots_game(m)
    feed = m.spectate(pending, 1)
    m.abort_all()
    (last,) = drain(feed)
    assert last.done and last.status == "aborted" and last.tick == 0 and last.view is not None
    assert isinstance(last.result, GameResult) and last.result.reason == "aborted"


@given(fog_of=st.one_of(st.integers(max_value=-2), st.integers(min_value=2), st.text(max_size=3)))
def test_a_bad_fog_seat_is_invalid_and_changes_nothing(fog_of: object) -> None:
    m = GameManager(clock=ManualClock())
    game_id = bots_game(m)
    with pytest.raises(errors.InvalidArgument, match="fog_of"):
        m.spectate(game_id, fog_of)  # type: ignore[arg-type]
    assert not m._room(game_id).spectators
    with pytest.raises(errors.NotFound):
        m.spectate("no-such-game")


def test_a_game_takes_a_bounded_number_of_spectators() -> None:
    m = GameManager(clock=ManualClock())
    game_id = bots_game(m)
    feeds = [m.spectate(game_id) for _ in range(MAX_SPECTATORS)]
    with pytest.raises(errors.ResourceExhausted, match="spectators"):
        m.spectate(game_id)
    m.unspectate(feeds[0])
    m.spectate(game_id, 0)  # a place freed
