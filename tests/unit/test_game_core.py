"""The Game Service's domain: move queues, both clocks (driven by a ManualClock, no sleeping), AFK and
surrender, what a seat may see, bad requests, StepBatch sessions, and storage at game end on every
backend (the stored replay replays to the same final state)."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.game import encode_action, observe
from generals_rl.game.observations import Observation
from generals_rl.game.replay import Replay, simulate
from generals_rl.game.rewards import RewardConfig, rewards
from generals_rl.game.state import GameState
from generals_rl.services.common import errors, sessions
from generals_rl.services.game import convert
from generals_rl.services.game.archive import PENDING_KEY, REJECTED_KEY, REPLAYS, GameArchive, replay_key
from generals_rl.services.game.clocks import ManualClock
from generals_rl.services.game.core import GameManager, GameServiceConfig, joiner_player
from generals_rl.services.game.domain import (
    BatchSpec,
    EngineOptions,
    GameFilter,
    GameInfo,
    GameResult,
    GameSpec,
    GeneratorSpec,
    Joiner,
    MapList,
    MapText,
    PlayerRef,
    ReplayStart,
    RewardOptions,
    SeatSpec,
)
from generals_rl.services.game.host import GameHost
from generals_rl.services.game.lockstep import BatchSession
from generals_rl.services.game.queues import MAX_QUEUE, MoveQueue
from generals_rl.services.game.rooms import EndedGame
from generals_rl.storage import open_blobs, open_cache, open_sql
from generals_rl.storage.cache.memory import MemoryCache
from generals_rl.training.networks import PolicyOutput, ResNetConfig, ResNetPolicy
from generals_rl.v1 import common_pb2, game_pb2

pytestmark = pytest.mark.timeout(120)

DATA = Path(__file__).resolve().parent.parent / "golden" / "data"

MAP = "\n".join(["A.....", "......", "......", "......", "......", ".....B"])
"""6 x 6, general A on tile 0 (row 0, col 0), general B on tile 35."""

MAP3 = "\n".join(["A.....", "......", "..C...", "......", "......", ".....B"])

SMALL = "\n".join(
    ["A..#....", "........", "..#..1..", "........", "....#...", ".2......", "........", "......#B"]
)

UP, DOWN, LEFT, RIGHT = range(4)


def move(tile: int, direction: int, half: bool = False, tiles: int = 36) -> int:
    return int(encode_action(tile, direction, half, tiles))


class Listener:
    """Collects what the manager tells."""

    def __init__(self) -> None:
        self.changed: list[GameInfo] = []
        self.ended: list[EndedGame] = []

    def game_changed(self, info: GameInfo) -> None:
        self.changed.append(info)

    def game_ended(self, ended: EndedGame) -> None:
        self.ended.append(ended)


def manager(clock: ManualClock | None = None, **config: float) -> tuple[GameManager, Listener, ManualClock]:
    clock = clock or ManualClock()
    listener = Listener()
    return GameManager(GameServiceConfig(**config), clock, listener), listener, clock  # type: ignore[arg-type]


def two_models(m: GameManager, **spec: object) -> tuple[str, str, str]:
    """A lock-step 1v1 on MAP between remote model versions 1 and 2: (game id, token 0, token 1)."""
    options = {"map": MapText(MAP), "clock": "lock_step", **spec}
    game = m.create_game(GameSpec(**options))  # type: ignore[arg-type]
    a = m.join_game(game.game_id, PlayerRef("model", "1"))
    b = m.join_game(game.game_id, PlayerRef("model", "2"))
    return game.game_id, a.player_token, b.player_token


def humans(m: GameManager, **spec: object) -> tuple[str, str, str]:
    """A real-time 1v1 on MAP between alice (seat 0) and bob (seat 1)."""
    game = m.create_game(GameSpec(map=MapText(MAP), **spec))  # type: ignore[arg-type]
    a = m.join_game(game.game_id, PlayerRef("human", "alice"))
    b = m.join_game(game.game_id, PlayerRef("human", "bob"))
    return game.game_id, a.player_token, b.player_token


def state_of(m: GameManager, game_id: str) -> GameState:
    return m._room(game_id).state


def replays_to(replay: Replay, final: GameState, max_ticks: int) -> bool:
    """``replay`` replays on ``simulate`` to exactly ``final`` (a batch of one, maybe padded)."""
    states = list(simulate(replay, max_ticks=max_ticks))
    last = states[-1]
    h, w = (int(v) for v in final.map_size[0])
    board = ("armies", "owner", "cities")
    same_board = all(torch.equal(getattr(last, n)[0], getattr(final, n)[0, :h, :w]) for n in board)
    generals = final.generals[0]
    unpadded = torch.where(generals >= 0, generals // final.width * w + generals % final.width, generals)
    return (
        same_board
        and torch.equal(last.generals[0], unpadded)
        and all(torch.equal(getattr(last, n), getattr(final, n)) for n in ("alive", "tick", "winner"))
    )


def run_to_end(m: GameManager, listener: Listener, limit: int = 5000) -> EndedGame:
    for _ in range(limit):
        if listener.ended:
            return listener.ended[-1]
        m.advance()
    raise AssertionError("the game did not end")


class SlowPolicy(ResNetPolicy):
    """A tiny network that takes 10 ms a call and remembers its batch sizes."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        super().__init__(ResNetConfig(channels=4, blocks=0))
        self.batches: list[int] = []

    def forward(self, obs: Observation, memory: torch.Tensor | None = None) -> PolicyOutput:
        self.batches.append(int(obs.armies.shape[0]))
        time.sleep(0.01)
        return super().forward(obs, memory)


def test_hosted_model_seats_act_in_one_batch_and_yield_to_other_games() -> None:
    m, listener, _ = manager(tick_budget_s=0.02)
    model, network = PlayerRef("model", "5"), SlowPolicy()
    spec = GameSpec(map=MapText(SMALL), engine=EngineOptions(max_ticks=60), seats=(SeatSpec(model, True),))
    game = m.create_game(spec, networks={5: network})
    with pytest.raises(errors.Unavailable, match="model version 5 is not loaded"):
        m.join_game(game.game_id, model, hosted=True)  # no network given: not hosted
    info = m.join_game(game.game_id, model, hosted=True, network=network).game
    assert info.status == "running" and info.clock == "lock_step"
    assert [s.display_name for s in info.seats] == ["model:5", "model:5"]
    m.advance()
    assert 1 <= m.get_game(game.game_id).tick <= 3  # 10 ms a tick, 20 ms a turn: others go next
    ended = run_to_end(m, listener)
    assert network.batches[:10] == [2] * 10  # both seats of version 5 in one forward pass a tick
    assert len(network.batches) == ended.result.ticks
    assert replays_to(ended.replay, state_of(m, game.game_id), 60)  # type: ignore[arg-type]


# -- move queues ------------------------------------------------------------------------------


def test_queue_checks_every_move_and_queues_nothing_on_a_bad_one() -> None:
    queue = MoveQueue(6, 6)
    owned = torch.zeros(36, dtype=torch.bool)
    owned[0] = True
    assert queue.submit([0, move(0, RIGHT), move(1, RIGHT), move(2, DOWN, half=True)], owned) == 4
    bad = [
        ([move(20, RIGHT)], "not yours"),
        ([move(0, UP)], "leaves the board"),
        ([1 + 8 * 36], "out of range"),
        ([-1], "out of range"),
        ([move(0, DOWN), move(14, RIGHT)], "actions[1]"),
        ([], "1 to 256"),
    ]
    for actions, words in bad:
        with pytest.raises(errors.InvalidArgument, match=words.replace("[", r"\[").replace("]", r"\]")):
            queue.submit(actions, owned)
        assert len(queue) == 4
    with pytest.raises(errors.ResourceExhausted, match="256"):
        queue.submit([0] * 257, owned)
    for _ in range(3):
        queue.submit([0] * 256, owned)
    with pytest.raises(errors.ResourceExhausted, match=str(MAX_QUEUE)):
        queue.submit([0] * 256, owned)
    assert queue.clear() == 4 + 3 * 256 and len(queue) == 0


def test_queue_pops_moves_until_one_is_legal() -> None:
    queue = MoveQueue(6, 6)
    owned = torch.zeros(36, dtype=torch.bool)
    owned[0] = True
    queue.submit([move(0, RIGHT), move(0, DOWN), 0, move(6, RIGHT)], owned)
    legal = torch.zeros(1 + 8 * 36, dtype=torch.bool)
    legal[0] = True
    legal[move(0, DOWN)] = True
    assert queue.pop_playable(legal) == move(0, DOWN)  # the first was dropped
    assert queue.pop_playable(legal) == 0  # a queued pass is played as a pass
    assert queue.pop_playable(legal) == 0 and len(queue) == 0  # the last dropped, then empty


# -- lock-step --------------------------------------------------------------------------------


def test_lock_step_ticks_when_every_remote_seat_has_a_move() -> None:
    m, _, _ = manager()
    game_id, a, b = two_models(m)
    assert m.get_game(game_id).status == "running" and m.get_game(game_id).clock == "lock_step"
    feed = m.watch(game_id, a)
    assert [v.tick for v in feed.take()] == [0]  # the current view at once
    assert m.submit_moves(game_id, a, [0]).tick == 0
    assert m.get_game(game_id).tick == 0  # waits for seat 1
    m.submit_moves(game_id, b, [0])
    assert m.get_game(game_id).tick == 1
    m.submit_moves(game_id, a, [0, 0, 0])
    queued = m.submit_moves(game_id, b, [0, 0])
    assert queued.tick == 1 and m.get_game(game_id).tick == 3
    views = feed.take()
    assert [v.tick for v in views] == [1, 2, 3]  # lock-step: no view skipped
    assert views[-1].queued_actions == (0,)


def test_lock_step_hosted_bots_never_block() -> None:
    m, listener, _ = manager()
    spec = GameSpec(map=MapText(MAP), seats=(SeatSpec(PlayerRef("bot", "random"), hosted=True),))
    game = m.create_game(spec)
    assert game.status == "pending" and game.seats[0].joined and game.seats[0].connected
    token = m.join_game(game.game_id, PlayerRef("bot", "expander"), display_name="me").player_token
    assert m.get_game(game.game_id).clock == "lock_step"
    m.submit_moves(game.game_id, token, [0, 0])
    assert m.get_game(game.game_id).tick == 2
    hosted_only = m.create_game(
        GameSpec(
            map=MapText(SMALL),
            engine=EngineOptions(max_ticks=150),
            seats=(SeatSpec(PlayerRef("bot", "expander"), True), SeatSpec(PlayerRef("bot", "random"), True)),
        )
    )
    assert hosted_only.status == "running"
    ended = run_to_end(m, listener)
    assert ended.info.game_id == hosted_only.game_id
    assert replays_to(ended.replay, state_of(m, hosted_only.game_id), 150)  # type: ignore[arg-type]


def test_moves_play_one_per_tick_in_queue_order() -> None:
    m, _, _ = manager()
    game_id, a, b = two_models(m)
    for _ in range(10):
        m.submit_moves(game_id, a, [0])
        m.submit_moves(game_id, b, [0])
    state = state_of(m, game_id)
    assert int(state.armies[0, 0, 0]) == 6  # the general grew on every even tick
    with pytest.raises(errors.InvalidArgument, match="not yours"):
        m.submit_moves(game_id, a, [move(1, RIGHT)])
    m.submit_moves(game_id, a, [move(0, RIGHT), move(0, DOWN), move(1, RIGHT)])
    m.submit_moves(game_id, b, [0])
    state = state_of(m, game_id)
    assert (int(state.owner[0, 0, 1]), int(state.armies[0, 0, 1])) == (0, 5)
    m.submit_moves(game_id, b, [0])  # the stale second move is dropped, the third plays
    state = state_of(m, game_id)
    assert (int(state.owner[0, 0, 2]), int(state.armies[0, 0, 2])) == (0, 4)
    assert int(state.owner[0, 1, 0]) == -1
    assert m.clear_moves(game_id, a) == 0


def test_views_show_only_the_seat_s_own_observation() -> None:
    m, _, _ = manager()
    game_id, a, b = two_models(m)
    feed_a = m.watch(game_id, a)
    feed_b = m.watch(game_id, b)
    m.submit_moves(game_id, a, [0, 0])
    m.submit_moves(game_id, b, [0, 0])
    expected = observe(state_of(m, game_id))
    for feed, seat in ((feed_a, 0), (feed_b, 1)):
        view = feed.take()[-1]
        assert view.seat == seat and view.tick == 2
        mine = expected.player(seat)
        for name in ("armies", "planes", "scalars", "action_mask"):
            assert torch.equal(getattr(view.observation, name), getattr(mine, name)[0])
        other_general = 35 if seat == 0 else 0
        row, col = divmod(other_general, 6)
        assert int(view.observation.armies[row, col]) == 0  # the enemy general is fogged
        assert bool(view.observation.planes[7, row, col])  # fog plane


# -- real time --------------------------------------------------------------------------------


def test_real_time_ticks_follow_the_clock() -> None:
    m, _, clock = manager()
    game_id, a, _ = humans(m, speed=2.0)
    info = m.get_game(game_id)
    assert info.clock == "real_time" and info.speed == 2.0
    feed = m.watch(game_id, a)
    first = feed.take()[0]
    assert first.tick == 0 and first.next_tick_at is not None
    assert (first.next_tick_at - clock.now()).total_seconds() == pytest.approx(0.25)
    m.advance()
    assert m.get_game(game_id).tick == 0
    clock.advance(0.25)
    m.advance()
    assert m.get_game(game_id).tick == 1  # no moves needed
    clock.advance(0.1)
    assert m.advance() == pytest.approx(0.15)
    assert m.get_game(game_id).tick == 1
    clock.advance(10.0)  # a stalled server catches up a little, then skips ahead
    m.advance()
    assert m.get_game(game_id).tick == 5
    views = feed.take()
    assert [v.tick for v in views] == [5]  # real time: only the newest view is kept
    clock.advance(0.25)
    m.advance()
    assert m.get_game(game_id).tick == 6


def test_a_disconnected_seat_without_moves_goes_afk_and_is_neutralized() -> None:
    m, listener, clock = manager()
    game_id, a, b = humans(m, afk_ticks=4)
    feed_a = m.watch(game_id, a)
    feed_b = m.watch(game_id, b)
    for _ in range(10):  # both connected: nobody is AFK
        clock.advance(0.5)
        m.advance()
    assert m.get_game(game_id).tick == 10 and not listener.ended
    m.unwatch(feed_b)
    assert not m.get_game(game_id).seats[1].connected
    for _ in range(3):
        clock.advance(0.5)
        m.advance()
    assert m.get_game(game_id).status == "running"
    clock.advance(0.5)
    m.advance()  # 4 ticks (2 s) after the disconnect: bob leaves in tick 14
    info = m.get_game(game_id)
    assert info.status == "finished" and info.tick == 14
    result = info.result
    assert result is not None and result.reason == "eliminated" and result.winner == 0
    assert [(p.outcome, p.place, p.eliminated_tick) for p in result.players] == [
        ("win", 1, 0),
        ("loss", 2, 14),
    ]
    state = state_of(m, game_id)
    assert int(state.owner[0, 5, 5]) == -1 and bool(state.cities[0, 5, 5])  # neutralized: a city
    views = feed_a.take()
    assert views[-1].done and views[-1].outcome == "win" and views[-1].winner == 0
    ended = listener.ended[0]
    assert ended.rated and replays_to(ended.replay, state, 2000)  # type: ignore[arg-type]


def test_lock_step_stops_waiting_for_an_afk_seat() -> None:
    m, listener, clock = manager()
    game_id, a, _ = two_models(m, afk_ticks=6)
    m.watch(game_id, a)
    m.submit_moves(game_id, a, [0])
    clock.advance(2.9)
    m.advance()
    assert m.get_game(game_id).tick == 0  # still waiting for seat 1 (3 s of AFK allowed)
    clock.advance(0.1)
    m.advance()
    info = m.get_game(game_id)
    assert info.status == "finished" and info.result is not None
    assert info.result.winner == 0 and info.result.players[1].eliminated_tick == 1
    assert listener.ended[0].result.reason == "eliminated"


def test_surrender_leaves_in_the_next_tick() -> None:
    m, listener, _ = manager()
    game = m.create_game(GameSpec(mode="ffa", map=MapText(MAP3), clock="lock_step"))
    tokens = [m.join_game(game.game_id, PlayerRef("model", str(i + 1))).player_token for i in range(3)]
    for _ in range(4):
        for token in tokens:
            m.submit_moves(game.game_id, token, [0])
    assert m.surrender(game.game_id, tokens[2]) == 5
    assert m.surrender(game.game_id, tokens[2]) == 5  # twice: a no-op
    with pytest.raises(errors.FailedPrecondition, match="eliminated"):
        m.submit_moves(game.game_id, tokens[2], [0])
    m.submit_moves(game.game_id, tokens[0], [0])
    m.submit_moves(game.game_id, tokens[1], [0])  # seat 2 no longer blocks: tick 5 plays
    info = m.get_game(game.game_id)
    assert info.tick == 5 and info.status == "running"
    assert [s.alive for s in info.seats] == [True, True, False]
    state = state_of(m, game.game_id)
    assert not bool((state.owner == 2).any()) and bool(state.cities[0, 2, 2])
    assert m.surrender(game.game_id, tokens[1]) == 6
    m.submit_moves(game.game_id, tokens[0], [0])
    info = m.get_game(game.game_id)
    assert info.status == "finished" and info.result is not None
    assert [(p.outcome, p.place) for p in info.result.players] == [("win", 1), ("loss", 2), ("loss", 3)]
    with pytest.raises(errors.FailedPrecondition):
        m.surrender(game.game_id, tokens[0])
    assert replays_to(listener.ended[0].replay, state_of(m, game.game_id), 2000)  # type: ignore[arg-type]


def test_stale_games_are_aborted() -> None:
    m, listener, clock = manager(pending_timeout_s=30, idle_timeout_s=80)
    pending = m.create_game(GameSpec(map=MapText(MAP)))
    token = m.join_game(pending.game_id, PlayerRef("model", "1")).player_token
    feed = m.watch(pending.game_id, token)
    game_id, a, _ = two_models(m, afk_ticks=1000)
    clock.advance(30)
    m.advance()
    assert m.get_game(pending.game_id).status == "aborted"
    last = feed.take()[-1]
    assert last.done and last.status == "aborted"
    m.watch(game_id, a)  # connected and idle: not AFK, but the game is idle
    clock.advance(30)
    m.advance()
    assert m.get_game(game_id).status == "running"
    clock.advance(30)
    m.advance()
    info = m.get_game(game_id)
    assert info.status == "aborted" and info.result is not None and info.result.reason == "aborted"
    assert len(listener.ended) == 1 and not listener.ended[0].rated  # the running one, unrated


# -- requests ---------------------------------------------------------------------------------

BAD_SPECS = [
    (GameSpec(mode="2v2"), errors.InvalidArgument, "mode"),  # type: ignore[arg-type]
    (GameSpec(num_players=3), errors.InvalidArgument, "1v1 game has 2"),
    (GameSpec(mode="ffa"), errors.InvalidArgument, "num_players"),
    (GameSpec(speed=100.0), errors.InvalidArgument, "speed"),
    (GameSpec(speed=math.nan), errors.InvalidArgument, "speed"),
    (GameSpec(map=MapText("A..\n.B")), errors.InvalidArgument, "row 1"),
    (GameSpec(map=MapText("A.?\n..B")), errors.InvalidArgument, "row 0, col 2"),
    (GameSpec(map=MapText(MAP3)), errors.InvalidArgument, "3 generals"),
    (GameSpec(map=ReplayStart(b"{not json")), errors.InvalidArgument, "replay"),
    (GameSpec(map=ReplayStart(b"\x00\x01junk")), errors.InvalidArgument, "replay"),
    (GameSpec(map=ReplayStart(b"{" + b" " * 4 * 2**20 + b"}")), errors.InvalidArgument, "at most"),
    (GameSpec(map=MapText("." * 70_000)), errors.InvalidArgument, "at most"),
    (GameSpec(map=GeneratorSpec(side=(2, 3))), errors.InvalidArgument, "generator.side"),
    (GameSpec(map=GeneratorSpec(side=(10, 8))), errors.InvalidArgument, "generator.side"),
    (GameSpec(engine=EngineOptions(max_ticks=10**6)), errors.InvalidArgument, "max_ticks"),
    (GameSpec(seats=(SeatSpec(PlayerRef("bot", "nobody")),)), errors.InvalidArgument, "unknown bot"),
    (GameSpec(seats=(SeatSpec(PlayerRef("human", "al"), hosted=True),)), errors.InvalidArgument, "hosted"),
    (GameSpec(seats=(SeatSpec(PlayerRef("model", "3"), hosted=True),)), errors.Unavailable, "model"),
    (GameSpec(seats=(SeatSpec(),) * 3), errors.InvalidArgument, "3 reservations"),
    (GameSpec(request_id="x" * 129), errors.InvalidArgument, "request_id"),
]


@pytest.mark.parametrize(("spec", "error", "words"), BAD_SPECS)
def test_bad_create_requests_are_refused_and_change_nothing(
    spec: GameSpec, error: type[errors.ServiceError], words: str
) -> None:
    m, listener, _ = manager()
    with pytest.raises(error, match=words):
        m.create_game(spec)
    assert m.list_games(GameFilter()).total_size == 0 and not listener.changed


def test_join_rules() -> None:
    m, _, _ = manager()
    game = m.create_game(GameSpec(map=MapText(MAP), seats=(SeatSpec(PlayerRef("human", "alice")),)))
    with pytest.raises(errors.NotFound):
        m.join_game("nope", PlayerRef("bot", "random"))
    with pytest.raises(errors.InvalidArgument, match="seat"):
        m.join_game(game.game_id, PlayerRef("bot", "random"), seat=2)
    with pytest.raises(errors.InvalidArgument, match="hosted"):
        m.join_game(game.game_id, PlayerRef("human", "bob"), hosted=True)
    with pytest.raises(errors.FailedPrecondition, match="no free seat"):
        m.join_game(game.game_id, PlayerRef("bot", "random"), seat=0)  # reserved for alice
    bob = m.join_game(game.game_id, PlayerRef("human", "bob"))
    assert bob.seat == 1 and bob.game.status == "pending"
    assert m.join_game(game.game_id, PlayerRef("human", "bob")).player_token == bob.player_token  # reconnect
    with pytest.raises(errors.FailedPrecondition, match="no free seat"):
        m.join_game(game.game_id, PlayerRef("human", "carol"))
    alice = m.join_game(game.game_id, PlayerRef("human", "alice"), display_name="Alice")
    assert alice.seat == 0 and alice.game.status == "running" and alice.game.seats[0].display_name == "Alice"
    with pytest.raises(errors.PermissionDenied):
        m.submit_moves(game.game_id, "not-a-token", [0])
    with pytest.raises(errors.PermissionDenied):
        m.watch(game.game_id, "")


def test_sessions_resolve_humans() -> None:
    cache = MemoryCache()
    token = sessions.create_session(cache, "alice", ttl=60)
    assert sessions.resolve(cache, token) == "alice"
    assert joiner_player(Joiner(session_token=token), lambda t: sessions.resolve(cache, t)) == PlayerRef(
        "human", "alice"
    )
    for bad in ("", "short", "x" * 200, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(errors.Unauthenticated):
            joiner_player(Joiner(session_token=bad), lambda t: sessions.resolve(cache, t))
    assert sessions.end_session(cache, token)
    with pytest.raises(errors.Unauthenticated):
        sessions.resolve(cache, token)
    with pytest.raises(errors.InvalidArgument):
        sessions.create_session(cache, "")
    with pytest.raises(errors.InvalidArgument, match="exactly one"):
        joiner_player(Joiner(bot="random", model_version=3))


def test_request_ids_list_and_pages() -> None:
    m, _, clock = manager()
    first = m.create_game(GameSpec(map=MapText(MAP), request_id="r1"))
    assert m.create_game(GameSpec(map=MapText(MAP3), mode="ffa", request_id="r1")).game_id == first.game_id
    ids = [first.game_id]
    for i in range(4):
        clock.advance(1)
        ids.append(m.create_game(GameSpec(map=MapText(MAP), mode="ffa" if i % 2 else "1v1")).game_id)
    seen, token = [], ""
    while True:
        page = m.list_games(GameFilter(), page_size=2, page_token=token)
        seen += [g.game_id for g in page.games]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids[::-1] and page.total_size == 5
    assert m.list_games(GameFilter(mode="ffa")).total_size == 2
    m.join_game(ids[0], PlayerRef("model", "9"))
    assert [g.game_id for g in m.list_games(GameFilter(player=PlayerRef("model", "9"))).games] == [ids[0]]
    with pytest.raises(errors.InvalidArgument, match="page_token"):
        m.list_games(
            GameFilter(mode="ffa"), page_size=2, page_token=m.list_games(GameFilter(), 2).next_page_token
        )
    with pytest.raises(errors.InvalidArgument, match="page_token"):
        m.list_games(GameFilter(), page_token="%%%")


def test_a_game_continues_a_replay_and_its_replay_is_exact() -> None:
    m, listener, _ = manager()
    data = (DATA / "example.gioreplay").read_bytes()
    bots = ("random", "expander") * 4
    spec = GameSpec(
        mode="ffa",
        map=ReplayStart(data, start_tick=40),
        engine=EngineOptions(max_ticks=70),
        seats=tuple(SeatSpec(PlayerRef("bot", b), hosted=True) for b in bots),
    )
    game = m.create_game(spec)
    assert game.tick == 40 and game.board.num_players == 8 and game.engine.city_regeneration
    ended = run_to_end(m, listener)
    assert ended.result.ticks == 70
    assert replays_to(ended.replay, state_of(m, game.game_id), 70)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgument, match="start_tick"):
        m.create_game(GameSpec(mode="ffa", map=ReplayStart(data, start_tick=5000)))


# -- StepBatch sessions -----------------------------------------------------------------------


def random_actions(mask: torch.Tensor) -> torch.Tensor:
    from generals_rl.agents import sample_legal

    return sample_legal(mask, torch.rand(mask.shape[:-1]))


def test_batch_session_steps_all_games_with_hosted_bots_and_autoreset() -> None:
    spec = BatchSpec(
        num_games=16,
        maps=MapList((SMALL,)),
        hosted_bots=("", "random"),
        autoreset=True,
        engine=EngineOptions(max_ticks=30),
        reward=RewardOptions(land=1.0),
    )
    session = BatchSession(spec)
    first = session.first()
    assert first.controlled_seats == (0,) and first.board is not None and first.board.height == 8
    assert first.observation.armies.shape == (16, 1, 8, 8)
    assert first.observation.action_mask.shape == (16, 1, 1 + 8 * 64)
    result = first
    ended = 0
    for step in range(1, 31):
        result = session.step(step, random_actions(result.observation.action_mask))
        assert result.rewards.shape == (16, 1) and result.rewards.dtype == torch.float32
        ended += int(result.dones.sum())
        if bool(result.dones.any()):
            assert result.final_observation is not None
            assert result.final_observation.armies.shape[0] == int(result.dones.sum())
    assert ended == 16  # every game hits the tick limit by step 30
    assert bool(result.truncated.all()) and bool((result.winners == -1).all())
    assert int(result.observation.scalars[0, 0, 0]) == 0  # the next games started
    with pytest.raises(errors.InvalidArgument, match="expected step 31"):
        session.step(33, random_actions(result.observation.action_mask))
    with pytest.raises(errors.InvalidArgument, match="shape"):
        session.step(31, torch.zeros(16, 2, dtype=torch.int64))


def test_batch_session_without_autoreset_and_recorded() -> None:
    players = (PlayerRef("model", "4"), PlayerRef("bot", "expander"))
    spec = BatchSpec(
        num_games=4,
        maps=MapList((MAP, SMALL)),
        hosted_bots=("", "expander"),
        engine=EngineOptions(max_ticks=40),
        record=True,
        players=players,
    )
    session = BatchSession(spec)
    result = session.first()
    finished: list[str] = []
    for step in range(1, 46):
        result = session.step(step, random_actions(result.observation.action_mask))
        finished += result.finished_game_ids
    assert bool(result.dones.all())  # finished games stay finished
    assert len(finished) == 4 and len(set(finished)) == 4
    ended = session.drain_ended()
    assert [e.info.game_id for e in ended] == finished
    for k, game in enumerate(ended):
        assert game.result.players[1].player == players[1]
        assert replays_to(game.replay, session.state.select(k), 40)  # type: ignore[arg-type]


def test_batch_session_shapes_rewards_with_the_guard_term() -> None:
    # 14 steps: each general (opposite corners of the 8 x 8 board) is near the other
    options = RewardOptions(guard=1.0, guard_radius=14, gamma=0.9)
    spec = BatchSpec(num_games=8, maps=MapList((SMALL,)), engine=EngineOptions(max_ticks=60), reward=options)
    session = BatchSession(spec)
    guarded, plain = RewardConfig(guard=1.0, guard_radius=14, gamma=0.9), RewardConfig(gamma=0.9)
    result = session.first()
    differs = 0
    for step in range(1, 41):
        before = session.state
        result = session.step(step, random_actions(result.observation.action_mask))
        assert torch.allclose(result.rewards, rewards(before, session.state, guarded))
        differs += int(not torch.allclose(result.rewards, rewards(before, session.state, plain)))
    assert differs > 0  # the guard term was at work
    again = convert.batch_spec_from_proto(convert.batch_spec_to_proto(spec))
    assert again.reward == options  # the guard options cross the wire


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (BatchSpec(num_games=2, reward=RewardOptions(guard=math.nan)), errors.InvalidArgument),
        (BatchSpec(num_games=2, reward=RewardOptions(guard_radius=65)), errors.InvalidArgument),
        (BatchSpec(num_games=0), errors.InvalidArgument),
        (BatchSpec(num_games=10**6), errors.ResourceExhausted),
        (BatchSpec(num_games=2, hosted_bots=("random", "random")), errors.InvalidArgument),
        (BatchSpec(num_games=2, hosted_bots=("",)), errors.InvalidArgument),
        (BatchSpec(num_games=2, hosted_bots=("", "nobody")), errors.InvalidArgument),
        (BatchSpec(num_games=2, maps=MapList(("A.\n.#",))), errors.InvalidArgument),
        (BatchSpec(num_games=2, record=True), errors.InvalidArgument),
        (BatchSpec(num_games=60_000, maps=MapList((MAP,)), autoreset=True), errors.ResourceExhausted),
    ],
)
def test_bad_batch_specs(spec: BatchSpec, error: type[errors.ServiceError]) -> None:
    with pytest.raises(error):
        BatchSession(spec, GameServiceConfig(max_batch_games=65_536, max_message_bytes=64 * 2**20))


# -- fuzzing ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(st.integers(-3, 1 + 8 * 36 + 3), max_size=300))
def test_fuzzed_moves_get_documented_errors_and_change_nothing(actions: list[int]) -> None:
    m, _, _ = manager()
    game_id, a, b = two_models(m)
    m.submit_moves(game_id, b, [0] * 4)
    before = state_of(m, game_id)
    room = m._room(game_id)
    try:
        queued = m.submit_moves(game_id, a, actions)
    except (errors.InvalidArgument, errors.ResourceExhausted):
        assert state_of(m, game_id) is before and len(room.seats[0].queue) == 0
    else:
        assert queued.tick == 0 and len(actions) >= 1


player_refs = st.builds(
    common_pb2.PlayerRef, kind=st.integers(0, 4), id=st.sampled_from(["", "random", "alice", "7", "x" * 130])
)
create_requests = st.builds(
    game_pb2.CreateGameRequest,
    mode=st.integers(0, 3),
    num_players=st.integers(0, 10),
    map_text=st.one_of(
        st.none(), st.text(alphabet="..#AB01x\nCz ", max_size=80), st.sampled_from([MAP, MAP3, SMALL])
    ),
    seed=st.integers(0, 2**64 - 1),
    speed=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0, 16.0])),
    clock=st.integers(0, 3),
    engine=st.builds(game_pb2.EngineOptions, move_order=st.integers(0, 3), max_ticks=st.integers(0, 200_000)),
    seats=st.lists(st.builds(game_pb2.SeatSpec, player=player_refs, hosted=st.booleans()), max_size=3),
    afk_ticks=st.integers(0, 2_000_000),
    request_id=st.text(max_size=130),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=create_requests, replay=st.one_of(st.none(), st.binary(max_size=120)))
def test_fuzzed_create_requests_get_documented_errors(
    request: game_pb2.CreateGameRequest, replay: bytes | None
) -> None:
    if replay is not None:
        request.replay.CopyFrom(game_pb2.ReplaySource(data=replay, start_tick=len(replay) % 3))
    elif not request.HasField("map_text"):
        request.map_text = MAP  # keep the generator out: drawing maps is slow and tested elsewhere
    m, listener, _ = manager()
    try:
        info = m.create_game(convert.spec_from_proto(request))
    except (errors.InvalidArgument, errors.Unavailable):
        assert m.list_games(GameFilter()).total_size == 0 and not listener.changed
    else:
        assert convert.game_from_proto(convert.game_to_proto(info)) == info


# -- storage at game end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_game() -> tuple[EndedGame, GameState]:
    m, listener, _ = manager()
    game = m.create_game(
        GameSpec(
            map=MapText(SMALL),
            engine=EngineOptions(max_ticks=120),
            seats=(SeatSpec(PlayerRef("bot", "expander"), True), SeatSpec(PlayerRef("bot", "random"), True)),
        )
    )
    ended = run_to_end(m, listener)
    return ended, state_of(m, game.game_id)


def test_a_finished_game_is_stored_on_every_backend(
    finished_game: tuple[EndedGame, GameState], sql_uri: str, cache_uri: str, blob_uri: str
) -> None:
    ended, final = finished_game
    database, cache, blobs = open_sql(sql_uri), open_cache(cache_uri), open_blobs(blob_uri)
    try:
        archive = GameArchive(database, cache, blobs)
        result = archive.store(ended)
        game_id = ended.info.game_id
        assert result.replay_uri.startswith(("file://", "s3://"))
        assert "replays" in result.replay_uri and result.replay_uri.endswith(f"/{game_id}.gioreplay")
        replay = Replay.from_bytes(blobs.get(REPLAYS, replay_key(game_id)))
        assert replays_to(replay, final, 120)
        row = database.games.get(game_id)
        assert row.status == "finished" and row.ticks == result.ticks and row.map == SMALL
        stored = database.games.results(game_id)
        assert [(r.seat, r.outcome, r.placement) for r in stored] == [
            (p.seat, p.outcome, p.place) for p in result.players
        ]
        assert archive.store(ended) == result  # idempotent
        assert database.games.results(game_id) == stored
        archive.queue_result(result)
        assert archive.pending() == [result]
        archive.delivered(game_id)
        assert archive.pending() == [] and cache.hgetall(PENDING_KEY) == {}
        archive.publish_active([ended.info], [], ended.info.created_at, 60)
        assert archive.active()[game_id]["status"] == "finished"
        archive.publish_active([], [game_id], ended.info.created_at, 60)
        assert archive.active() == {}
    finally:
        database.close()
        cache.close()
        blobs.close()


@pytest.mark.parametrize("sql_uri", ["sqlite"], indirect=True)
def test_results_wait_in_the_cache_until_the_elo_service_takes_them(sql_uri: str, tmp_path: Path) -> None:
    cache = MemoryCache()
    blobs = open_blobs(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    archive = GameArchive(open_sql(sql_uri), cache, blobs)
    calls: list[tuple[str, bool]] = []  # (first bot, the result was pending in the cache)

    async def flaky(result: GameResult) -> None:
        first = result.players[0].player.id
        calls.append((first, result.game_id in {r.game_id for r in archive.pending()}))
        if first == "expander" and len(calls) - calls.count(("random", True)) <= 3:
            raise errors.Unavailable("the Elo Service is down")
        if first == "random":
            raise errors.InvalidArgument("two winners")

    async def scenario() -> None:
        async with GameHost(archive, flaky, backoff=(0.01, 0.02)) as host:
            games = []
            for first in ("expander", "random"):
                seats = (
                    SeatSpec(PlayerRef("bot", first), True),
                    SeatSpec(PlayerRef("bot", "gatherer"), True),
                )
                spec = GameSpec(map=MapText(MAP), engine=EngineOptions(max_ticks=20), seats=seats)
                games.append(await host.create_game(spec))
            for _ in range(500):
                if not cache.hgetall(PENDING_KEY) and cache.hgetall(REJECTED_KEY) and len(calls) == 5:
                    break
                await asyncio.sleep(0.02)
            for game in games:
                assert (await host.get_game(game.game_id)).status == "finished"

    asyncio.run(scenario())
    # Three failures, then delivered; pending in the cache at every try; the refused one tried once.
    assert [c for c in calls if c[0] == "expander"] == [("expander", True)] * 4
    assert calls.count(("random", True)) == 1
    assert cache.hgetall(PENDING_KEY) == {}
    rejected = cache.hgetall(REJECTED_KEY)
    assert len(rejected) == 1 and b"two winners" in next(iter(rejected.values()))
