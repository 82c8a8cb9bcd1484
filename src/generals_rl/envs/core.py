"""What the Gymnasium and PettingZoo adapters share: spaces, the observation encoding, the seat
rewards, and ``GameBatch``, which runs B games on one device with scripted bots in the seats no
learner plays.

One seat's observation is a dict of three arrays:

- ``board`` int32 (C + 1, H, W): the fogged ``PLANES`` as 0/1, then the visible army
  (channel names in ``BOARD_CHANNELS``);
- ``scalars`` int32 (1 + 2P,): the tick, then land and army of every player, the seat first
  (``observations.scalar_names``);
- ``action_mask`` int8 (A,): 1 where the flat action is legal (pass always is).

A seat's episode ends when its game ends or when it is eliminated (FFA); it earns the game's
rewards (``game.rewards``) while it plays, -1 on the tick it is eliminated, and nothing after.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces
from rich.console import Console
from torch import Tensor

from generals_rl.agents import Agent, make_agent
from generals_rl.game.autoreset import FixedMaps, new_games, restart_games
from generals_rl.game.engine import EngineConfig, num_actions, step
from generals_rl.game.generators import MapConfig, MapPool
from generals_rl.game.maps import Maps
from generals_rl.game.observations import PLANES, Observation, observe
from generals_rl.game.rewards import RewardConfig, rewards
from generals_rl.game.state import MAX_PLAYERS, GameState
from generals_rl.render import render_game

BOARD_CHANNELS: tuple[str, ...] = (*PLANES, "army")
"""Channels of the ``board`` observation, in order."""

INT32_MAX = np.iinfo(np.int32).max

OpponentSpec = str | Callable[[int | None], Agent]
"""A scripted bot by name (``make_agent``) or a factory ``seed -> Agent``."""


def default_map_config(players: int) -> MapConfig:
    """The generals.io-like 1v1 maps for two players, FFA maps above."""
    return MapConfig.generalsio_1v1() if players == 2 else MapConfig.ffa(players)


def observation_space(players: int, height: int, width: int) -> spaces.Dict:
    """The observation space of one seat (module docstring)."""
    high = np.ones((len(BOARD_CHANNELS), height, width), dtype=np.int32)
    high[-1] = INT32_MAX
    return spaces.Dict(
        {
            "board": spaces.Box(0, high, dtype=np.int32),
            "scalars": spaces.Box(0, INT32_MAX, shape=(1 + 2 * players,), dtype=np.int32),
            "action_mask": spaces.MultiBinary(num_actions(height, width)),
        }
    )


def encode(obs: Observation) -> dict[str, Tensor]:
    """Single-player views (N, ...) as the observation dict of N seats, still tensors."""
    planes = obs.planes
    shape = (*planes.shape[:-3], planes.shape[-3] + 1, *planes.shape[-2:])
    board = torch.empty(shape, dtype=torch.int32, device=planes.device)
    board[..., :-1, :, :] = planes  # one cast-and-copy, no int32 temporary and cat
    board[..., -1, :, :] = obs.armies
    return {"board": board, "scalars": obs.scalars, "action_mask": obs.action_mask.view(torch.int8)}


def to_numpy(obs: dict[str, Tensor]) -> dict[str, np.ndarray]:
    return {k: v.cpu().numpy() for k, v in obs.items()}


def seat_views(obs: Observation, seat: Tensor) -> Observation:
    """The view of seat ``seat[b]`` (B,) in every game b: tensors (B, ...)."""
    games = torch.arange(seat.shape[0], device=seat.device)
    return Observation(
        armies=obs.armies[games, seat],
        planes=obs.planes[games, seat],
        scalars=obs.scalars[games, seat],
        action_mask=obs.action_mask[games, seat],
    )


def seat_rewards(before: GameState, after: GameState, config: RewardConfig) -> Tensor:
    """float32 (B, P): ``game.rewards`` for the seats still playing in ``before``, -1 more for a seat
    eliminated in a game that goes on (that is its last reward), 0 for seats already out."""
    reward = rewards(before, after, config)
    reward = torch.where(before.alive, reward, 0.0)
    knocked_out = before.alive & ~after.alive & ~after.done.unsqueeze(1)
    return reward - knocked_out.to(reward.dtype)


def seat_outcome(state: GameState) -> Tensor:
    """float32 (B, P): +1 won, -1 lost (or eliminated), 0 a draw or still playing."""
    won = state.done.unsqueeze(1) & (state.teams == state.winner.unsqueeze(1))
    lost = ~state.alive | (state.done & (state.winner >= 0)).unsqueeze(1) & ~won
    return won.float() - lost.float()


def check_actions(actions: object, shape: tuple[int, ...], num_actions: int, device: torch.device) -> Tensor:
    """Integer actions of ``shape`` as int64 on ``device``; ``ValueError`` when out of range."""
    tensor = torch.as_tensor(np.asarray(actions) if not isinstance(actions, Tensor) else actions)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"actions must be integers, got dtype {tensor.dtype}")
    if tuple(tensor.shape) != shape:
        raise ValueError(f"actions must have shape {shape}, got {tuple(tensor.shape)}")
    tensor = tensor.to(device=device, dtype=torch.int64)
    bad = (tensor < 0) | (tensor >= num_actions)
    if bool(bad.any()):
        where = bad.nonzero().flatten().tolist()[:8]
        raise ValueError(
            f"actions must lie in 0..{num_actions - 1} (0 passes); out of range at index {where}: "
            f"{tensor.flatten()[bad.flatten()].tolist()[:8]}"
        )
    return tensor


def render_ansi(state: GameState, game: int, names: list[str]) -> str:
    """The board and scoreboard of one game as text with ANSI colours (owners are colours)."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="256", width=max(80, 3 * state.width + 1))
    console.print(render_game(state, game, names), end="")
    return out.getvalue()


@dataclass(frozen=True)
class Tick:
    """One step of a ``GameBatch``: the states around it and every seat's reward (B, P)."""

    before: GameState
    after: GameState
    rewards: Tensor


class GameBatch:
    """B games on one device, played to their end and started again on demand.

    Maps come from a seeded ``MapPool`` (or fixed ``maps``, in turn). With an ``opponent`` one seat
    of every game is the learner's (``seat``, or a random seat each game) and bots from the
    opponent play the others: one bot per other seat, so a bot keeps its game's memory. Without an
    opponent every seat is a learner's.
    """

    def __init__(
        self,
        games: int,
        players: int = 2,
        opponent: OpponentSpec | None = None,
        seat: int | None = None,
        map_config: MapConfig | None = None,
        engine_config: EngineConfig | None = None,
        reward_config: RewardConfig | None = None,
        maps: Maps | None = None,
        device: torch.device | str = "cpu",
        pool_block: int = 256,
    ) -> None:
        if games < 1:
            raise ValueError(f"games must be at least 1, got {games}")
        if not 2 <= players <= MAX_PLAYERS:
            raise ValueError(f"players must lie in 2..{MAX_PLAYERS}, got {players}")
        if seat is not None and not 0 <= seat < players:
            raise ValueError(f"seat must lie in 0..{players - 1} or be None (random), got {seat}")
        self.games = games
        self.players = players
        self.device = torch.device(device)
        self.map_config = map_config or default_map_config(players)
        if self.map_config.players != players:
            raise ValueError(f"map_config is for {self.map_config.players} players, not {players}")
        if maps is not None and maps.num_players != players:
            raise ValueError(f"maps have {maps.num_players} generals, not {players}")
        self.fixed_maps = maps.to(self.device) if maps is not None else None
        if self.fixed_maps is not None:
            self.height, self.width = self.fixed_maps.shape
        else:
            self.height = self.width = self.map_config.side[1]
        self.engine_config = engine_config or EngineConfig()
        self.reward_config = reward_config or RewardConfig()
        self.opponent = opponent
        if isinstance(opponent, str):
            make_agent(opponent)  # fail early on an unknown name
        self.fixed_seat = seat
        self.pool_block = pool_block
        self.num_actions = num_actions(self.height, self.width)
        self.pool: MapPool | FixedMaps | None = None
        self.bots: list[Agent] = []
        self.seat_generator = torch.Generator()
        self.state: GameState | None = None
        self.seat = torch.zeros(games, dtype=torch.int64, device=self.device)
        self._obs: Observation | None = None

    @property
    def has_bots(self) -> bool:
        return self.opponent is not None

    def seed(self, rng: np.random.Generator) -> None:
        """Start new streams of maps, bot randomness and seats, from seeds drawn from ``rng``."""
        seeds = [int(s) for s in rng.integers(0, 2**63 - 1, size=2 + self.players)]
        if self.fixed_maps is not None:
            self.pool = FixedMaps(self.fixed_maps)
        else:
            self.pool = MapPool(
                self.map_config,
                seed=seeds[0],
                pad_to=(self.height, self.width),
                device=self.device,
                block=self.pool_block,
            )
        self.seat_generator.manual_seed(seeds[1])
        if self.opponent is not None:
            factory = self.opponent
            self.bots = [
                make_agent(factory, seeds[2 + k]) if isinstance(factory, str) else factory(seeds[2 + k])
                for k in range(self.players - 1)
            ]

    def reset(self, games: Tensor | None = None) -> None:
        """Start new games (all, or where ``games`` (B,) is true) on the next maps of the pool."""
        if self.pool is None:
            raise RuntimeError("call seed() before reset()")
        if games is None or self.state is None:
            self.state = new_games(self.games, self.pool).to(self.device)
            index = torch.arange(self.games, device=self.device)
            for bot in self.bots:
                bot.reset()
        else:
            index = games.nonzero().flatten()
            if len(index) == 0:
                return
            self.state = restart_games(self.state, games, self.pool)
            for bot in self.bots:
                bot.reset(games)
        if self.has_bots:
            if self.fixed_seat is None:
                seats = torch.randint(0, self.players, (len(index),), generator=self.seat_generator)
            else:
                seats = torch.full((len(index),), self.fixed_seat, dtype=torch.int64)
            self.seat[index] = seats.to(self.device)
        self._obs = None

    def observation(self) -> Observation:
        """Every seat's view of the current state (computed once per state)."""
        if self.state is None:
            raise RuntimeError("call reset() first")
        if self._obs is None:
            self._obs = observe(self.state)
        return self._obs

    def learner_views(self) -> Observation:
        """The learner seat's view of every game (B, ...); with bots only."""
        return seat_views(self.observation(), self.seat)

    def bot_seat(self, k: int) -> Tensor:
        """int64 (B,): the seat bot ``k`` plays in each game (the seats after the learner's, in turn)."""
        return (self.seat + 1 + k) % self.players

    def step(self, actions: Tensor) -> Tick:
        """Play one tick. ``actions`` int64: (B,) the learner's with bots, else (B, P) every seat's."""
        if self.state is None:
            raise RuntimeError("call reset() first")
        if self.has_bots:
            obs = self.observation()
            games = torch.arange(self.games, device=self.device)
            full = torch.zeros(self.games, self.players, dtype=torch.int64, device=self.device)
            full[games, self.seat] = actions
            for k, bot in enumerate(self.bots):
                seat = self.bot_seat(k)
                full[games, seat] = bot.act(seat_views(obs, seat)).to(self.device)
        else:
            full = actions
        before = self.state
        self.state = step(before, full, self.engine_config)
        self._obs = None
        return Tick(before, self.state, seat_rewards(before, self.state, self.reward_config))

    def learner_out(self) -> Tensor:
        """bool (B,): the learner's seat is eliminated (with bots)."""
        assert self.state is not None
        return ~self.state.alive.gather(1, self.seat.unsqueeze(1)).squeeze(1)

    def seat_names(self, game: int) -> list[str]:
        """Who plays each seat of one game, for rendering."""
        if not self.has_bots:
            return [f"player_{p}" for p in range(self.players)]
        bot = self.bots[0].name if self.bots else "bot"
        learner = int(self.seat[game])
        return [f"learner ({p})" if p == learner else f"{bot} ({p})" for p in range(self.players)]
