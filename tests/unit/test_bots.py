"""The scripted bots: legal, deterministic, memory that resets, and strength on generated maps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from generals_rl.agents import (
    BOTS,
    Agent,
    ExpanderAgent,
    GathererAgent,
    RaiderAgent,
    RandomAgent,
    make_agent,
    tactics,
)
from generals_rl.agents.arena import MatchResult, play_games
from generals_rl.game import EngineConfig, MapConfig, generate_maps, initial_state, observe, step
from generals_rl.game.maps import Maps
from generals_rl.game.state import GameState
from generals_rl.stats import wilson_interval
from generals_rl.training.memory import empty_memory

SCRIPTED = [ExpanderAgent, GathererAgent, RaiderAgent]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Bots work on small tensors: one thread is faster than two fighting over a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def play_checked(
    agents: list[Agent], maps: Maps, ticks: int, config: EngineConfig | None = None
) -> GameState:
    """Play ``ticks`` ticks, asserting that every action of every seat is legal."""
    config = config or EngineConfig(max_ticks=ticks)
    state = initial_state(maps)
    for agent in agents:
        agent.reset()
    for _ in range(ticks):
        obs = observe(state)
        actions = []
        for p, agent in enumerate(agents):
            view = obs.player(p)
            action = agent.act(view)
            assert action.dtype == torch.int64 and action.shape == (maps.batch_size,)
            legal = view.action_mask.gather(1, action.unsqueeze(1)).squeeze(1)
            assert bool(legal.all()), f"{agent.name} (seat {p}) played an illegal action"
            actions.append(action)
        state = step(state, torch.stack(actions, dim=1), config)
        if bool(state.done.all()):
            break
    return state


def test_registered() -> None:
    assert {"random", "expander", "gatherer", "raider"} <= set(BOTS)
    assert isinstance(make_agent("expander", 1), ExpanderAgent)
    assert isinstance(make_agent("gatherer", 1), GathererAgent)
    assert isinstance(make_agent("raider", 1), RaiderAgent)


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_legal_in_1v1_both_seats(bot: type[Agent]) -> None:
    maps = generate_maps(6, MapConfig(), seed=11)
    for seats in ([bot(1), RandomAgent(2)], [ExpanderAgent(3), bot(4)], [bot(5), bot(6)]):
        play_checked(seats, maps, ticks=400)


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_legal_in_ffa_and_after_elimination(bot: type[Agent]) -> None:
    """Four players on FFA maps, played long enough that some are out and some games are over
    (a seat with nothing legal but the pass must pass)."""
    maps = generate_maps(4, MapConfig.ffa(4), seed=12)
    agents = [bot(1), GathererAgent(2), ExpanderAgent(3), bot(4)]
    state = play_checked(agents, maps, ticks=700)
    assert bool((~state.alive).any()), "expected some player to be eliminated in 700 ticks"


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_never_passes_with_a_useful_move(bot: type[Agent]) -> None:
    """On an open board the bot always has somewhere to expand: once it can move, it moves."""
    maps = Maps.from_string(
        """
        A.......
        ........
        ........
        .......B
        """
    )
    agent = bot(7)
    state = initial_state(maps)
    for _ in range(20):
        obs = observe(state).player(0)
        action = agent.act(obs)
        can_move = bool(obs.action_mask[:, 1:].any())
        assert (int(action) != 0) == can_move
        state = step(state, torch.stack([action, torch.zeros_like(action)], dim=1))


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_expands_onto_neutral_land(bot: type[Agent]) -> None:
    maps = generate_maps(4, MapConfig(), seed=13)
    state = play_checked([bot(1), RandomAgent(2)], maps, ticks=50)
    assert bool((state.land()[:, 0] >= 10).all())


def bot_moves(agents: list[Agent], maps: Maps, ticks: int) -> list[torch.Tensor]:
    """Every tick's actions (B, players) of ``agents`` playing ``maps`` from the start."""
    seen: list[torch.Tensor] = []
    state = initial_state(maps)
    for _ in range(ticks):
        obs = observe(state)
        actions = torch.stack([a.act(obs.player(p)) for p, a in enumerate(agents)], dim=1)
        seen.append(actions)
        state = step(state, actions)
    return seen


def same_moves(first: list[torch.Tensor], again: list[torch.Tensor]) -> bool:
    return all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_deterministic_for_a_seed(bot: type[Agent]) -> None:
    maps = generate_maps(4, MapConfig(), seed=14)
    first = bot_moves([bot(5), ExpanderAgent(99)], maps, ticks=200)
    assert same_moves(first, bot_moves([bot(5), ExpanderAgent(99)], maps, ticks=200))


def test_checking_convergence_every_few_sweeps_changes_no_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CUDA the searches check convergence every few sweeps (a check waits for the device); the
    sweeps past convergence must change nothing: the same games, move for move, checked every 5."""
    maps = generate_maps(6, MapConfig.generalsio_1v1(), seed=21)
    every_sweep = bot_moves([GathererAgent(3), ExpanderAgent(4)], maps, ticks=300)
    monkeypatch.setitem(tactics.SWEEPS_PER_CHECK, "cpu", 5)
    assert tactics.sweeps_per_check(torch.device("cpu")) == 5
    assert same_moves(every_sweep, bot_moves([GathererAgent(3), ExpanderAgent(4)], maps, ticks=300))
    # and a search cut short by its limit stops at the same step whichever sweeps it checks
    board = observe(initial_state(maps)).player(0)
    sources = board.plane("general")
    walkable = ~board.plane("mountain") & ~board.plane("obstacle_in_fog")
    limited = tactics.distance_field(sources, walkable, limit=7)
    assert int(limited.max()) == 7
    monkeypatch.setitem(tactics.SWEEPS_PER_CHECK, "cpu", 1)
    assert torch.equal(limited, tactics.distance_field(sources, walkable, limit=7))


def fresh_game_actions(agent: Agent, opponent: Agent, state: GameState, ticks: int) -> list[int]:
    """Seat-0 actions of game 0 over ``ticks`` ticks from ``state``."""
    out = []
    for _ in range(ticks):
        obs = observe(state)
        actions = torch.stack([agent.act(obs.player(0)), opponent.act(obs.player(1))], dim=1)
        out.append(int(actions[0, 0]))
        state = step(state, actions)
    return out


def test_gatherer_reset_forgets_only_the_reset_games() -> None:
    """After ``reset(games)`` the gatherer plays a restarted game exactly as a new gatherer would,
    while it keeps what it knew of the other games."""
    maps = generate_maps(2, MapConfig(), seed=15)
    veteran = GathererAgent(1)
    opponent = ExpanderAgent(2)
    state = initial_state(maps)
    for _ in range(300):  # long enough to have gathered, attacked and seen the enemy
        obs = observe(state)
        state = step(state, torch.stack([veteran.act(obs.player(0)), opponent.act(obs.player(1))], dim=1))
    assert veteran.memory is not None and bool(veteran.memory.seen[1].any())
    remembered = veteran.memory.seen[1].clone()

    restart = torch.tensor([True, False])
    state = state.where(restart, initial_state(generate_maps(2, MapConfig(), seed=16)))
    veteran.reset(restart)
    assert torch.equal(veteran.memory.seen[1], remembered)
    assert not bool(veteran.memory.seen[0].any())

    newcomer = GathererAgent(1)
    for agent in (veteran, newcomer):
        agent.generator.manual_seed(3)
    first_opponent, second_opponent = ExpanderAgent(4), ExpanderAgent(4)
    assert fresh_game_actions(veteran, first_opponent, state, 150) == fresh_game_actions(
        newcomer, second_opponent, state, 150
    )


def test_a_gatherer_advising_another_player_follows_the_stack_actually_moved() -> None:
    """As a teacher (kickstarting) the gatherer's moves are advice; another player moves. Its
    attacking stack stays where the move played leaves it, not where its own advice would."""
    maps = generate_maps(8, MapConfig(), seed=21)
    gatherer, opponent = GathererAgent(1), ExpanderAgent(2)
    state = initial_state(maps)
    stack_moves = torch.zeros(8, dtype=torch.bool)
    for _ in range(400):  # until some game's stack is attacking and about to move
        obs = observe(state)
        advice = gatherer.act(obs.player(0))
        memory = gatherer.memory
        assert memory is not None and gatherer._stack_before is not None
        stack_moves = memory.attacking & (memory.stack != gatherer._stack_before) & ~state.done
        if bool(stack_moves.any()):
            break
        state = step(state, torch.stack([advice, opponent.act(obs.player(1))], dim=1))
    assert bool(stack_moves.any()), "no game launched a stack in 400 ticks"
    before = gatherer._stack_before.clone()
    advised = memory.stack.clone()

    gatherer.played(torch.zeros_like(advice))  # the player passed instead
    assert torch.equal(memory.stack, before)
    gatherer.played(advice)  # the player took the advice after all
    assert torch.equal(memory.stack, advised)


def test_gatherer_reset_all_forgets_everything() -> None:
    maps = generate_maps(2, MapConfig(), seed=17)
    agent = GathererAgent(1)
    play_checked([agent, ExpanderAgent(2)], maps, ticks=100)
    agent.reset()
    assert agent.memory is None


def test_a_raider_acts_on_the_policy_memory_alone() -> None:
    """The raider keeps no state but the memory the policy network is shown: a new raider handed
    that memory (``training.memory``) plays, tick after tick, exactly the veteran's moves. So the
    network, given its memory channels, has everything the raider decides from (kickstarting)."""
    maps = generate_maps(4, MapConfig.generalsio_1v1(), seed=22)
    veteran, opponent = RaiderAgent(1), ExpanderAgent(2)
    state = initial_state(maps)
    compared = 0
    for tick in range(400):
        obs = observe(state)
        newcomer = None
        if tick % 40 == 39:
            assert veteran.memory.state is not None
            newcomer = RaiderAgent(1)
            newcomer.memory.state = veteran.memory.state.clone()
            newcomer.generator.set_state(veteran.generator.get_state())
        move = veteran.act(obs.player(0))
        if newcomer is not None:
            assert torch.equal(newcomer.act(obs.player(0)), move)
            compared += 1
        state = step(state, torch.stack([move, opponent.act(obs.player(1))], dim=1))
    assert compared == 10


def test_raider_reset_forgets_only_the_reset_games() -> None:
    maps = generate_maps(2, MapConfig(), seed=15)
    raider = RaiderAgent(1)
    play_checked([raider, ExpanderAgent(2)], maps, ticks=100)
    assert raider.memory.state is not None
    kept = raider.memory.state[1].clone()
    raider.reset(torch.tensor([True, False]))
    assert torch.equal(raider.memory.state[1], kept)
    assert torch.equal(raider.memory.state[0], empty_memory(1, *kept.shape[-2:])[0])
    raider.reset()
    assert raider.memory.state is None


def raider_board(armies: dict[tuple[int, int], int], tick: int) -> GameState:
    """A 4x8 board: seat 0's land along the top row and down the right edge to the enemy general
    (seen at the bottom right, holding 50), with the given armies (1 elsewhere on its land), at
    ``tick``."""
    maps = Maps.from_string(
        """
        A.......
        ........
        ........
        .......B
        """
    )
    state = initial_state(maps)
    owner, army = state.owner.clone(), state.armies.clone()
    for tile in [(0, col) for col in range(8)] + [(1, 7), (2, 7)]:
        owner[0, tile[0], tile[1]] = 0
        army[0, tile[0], tile[1]] = armies.get(tile, 1)
    army[0, 3, 7] = 50
    return state.replace(armies=army, owner=owner, tick=torch.full_like(state.tick, tick))


def flat_move(direction: int, row: int, col: int) -> int:
    """The flat action moving the tile (row, col) of the 4x8 board up, down, left or right (0-3)."""
    return 1 + direction * 32 + row * 8 + col


@pytest.mark.parametrize(
    ("armies", "expected"),
    [
        # A stack well above every other army attacks: one step along its path to the general seen.
        ({(0, 0): 5, (0, 3): 40}, flat_move(3, 0, 3)),
        # No stack, a small general: gather, the tile farthest from the general first, toward it.
        ({(0, 0): 5, **{(0, col): 4 for col in range(1, 8)}, (1, 7): 4, (2, 7): 4}, flat_move(0, 2, 7)),
        # The general holds most of the army: it is launched toward the enemy general.
        ({(0, 0): 40}, flat_move(3, 0, 0)),
    ],
    ids=["attack", "gather", "launch"],
)
def test_the_raider_reads_its_mode_from_the_board(armies: dict[tuple[int, int], int], expected: int) -> None:
    state = raider_board(armies, tick=100)
    assert int(RaiderAgent(1).act(observe(state).player(0))) == expected


@pytest.mark.parametrize("bot", SCRIPTED, ids=lambda c: c.name)
def test_takes_a_general_in_reach(bot: type[Agent]) -> None:
    """An army that can take the enemy general next to it does, before any other capture."""
    maps = Maps.from_string(
        """
        A.......
        ........
        ........
        ...B....
        """
    )
    state = initial_state(maps)
    armies, owner = state.armies.clone(), state.owner.clone()
    for col in range(4):  # a strip of land from the general's side to the enemy general
        owner[0, 2, col] = 0
        armies[0, 2, col] = 1
    armies[0, 2, 3] = 30
    armies[0, 3, 3] = 20
    state = state.replace(armies=armies, owner=owner)
    action = bot(3).act(observe(state).player(0))
    down_from_2_3 = 1 + 1 * 32 + (2 * 8 + 3)
    assert int(action) == down_from_2_3


def match(
    first: str, second: str, games: int, seed: int, max_ticks: int
) -> tuple[int, int, list[MatchResult]]:
    """``first`` against ``second`` on ``games`` generated 1v1 maps, each map played in both seat
    orders; returns the wins of ``first``, the games played and both results."""
    maps = generate_maps(games, MapConfig(), seed=seed)
    config = EngineConfig(max_ticks=max_ticks)
    results = []
    wins = 0
    for seat, names in ((0, (first, second)), (1, (second, first))):
        agents = [make_agent(name, seed + 100 + i) for i, name in enumerate(names)]
        result = play_games(agents, maps, config)
        wins += result.wins(seat)
        results.append(result)
    return wins, 2 * games, results


@pytest.mark.slow
def test_expander_beats_random() -> None:
    wins, games, _ = match("expander", "random", games=20, seed=2024, max_ticks=2000)
    assert games >= 40
    assert wins / games >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("bot", ["gatherer", "raider"])
def test_gather_and_attack_beats_expander(bot: str) -> None:
    wins, games, _ = match(bot, "expander", games=30, seed=2024, max_ticks=2000)
    low, _ = wilson_interval(wins, games)
    assert games >= 40
    assert wins / games >= 0.6
    assert low > 0.5
