"""``GeneralsParallelEnv``: one generals.io game with every seat an agent, as a PettingZoo
``ParallelEnv``.

Agents are ``player_0`` .. ``player_{P-1}`` (1v1, or FFA up to 8). All live agents act every
tick. An agent leaves ``agents`` on the step it is eliminated (terminated, reward -1) or when the
game ends: the winner is terminated with +1; at the tick limit the agents still playing are
truncated with 0 (plus shaping, if any). Spaces per agent are those of ``GeneralsEnv``.

Actions: a dict with an integer for every live agent; a missing live agent, an unknown agent or a
value outside ``0..A-1`` raises ``ValueError``; actions for agents already out are ignored; an
in-range action the mask forbids is a no-op (RULES 6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from generals_rl.envs.core import GameBatch, check_actions, encode, observation_space, render_ansi, to_numpy
from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig
from generals_rl.game.maps import Maps
from generals_rl.game.rewards import RewardConfig


class GeneralsParallelEnv(ParallelEnv[str, dict[str, np.ndarray], int]):
    """One game, every seat an agent (module docstring).

    Args:
        players: 2 (1v1) to 8 (FFA).
        map_config, engine_config, reward_config, maps, device: as ``GeneralsEnv``.
        render_mode: ``None`` or ``"ansi"``.

    ``infos[agent]`` holds ``action_mask`` (a copy of the observation's) and ``tick``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 2, "name": "generals_v1", "is_parallelizable": True}  # noqa: RUF012

    def __init__(
        self,
        players: int = 2,
        map_config: MapConfig | None = None,
        engine_config: EngineConfig | None = None,
        reward_config: RewardConfig | None = None,
        maps: Maps | None = None,
        device: torch.device | str = "cpu",
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode != "ansi":
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.game = GameBatch(
            1,
            players,
            map_config=map_config,
            engine_config=engine_config,
            reward_config=reward_config,
            maps=maps,
            device=device,
            pool_block=16,
        )
        self.possible_agents = [f"player_{p}" for p in range(players)]
        self.agents: list[str] = []
        self._seat = {agent: p for p, agent in enumerate(self.possible_agents)}
        # One space object per agent, built once: PettingZoo seeds and compares them by identity.
        self.observation_spaces = {
            a: observation_space(players, self.game.height, self.game.width) for a in self.possible_agents
        }
        self.action_spaces = {a: spaces.Discrete(self.game.num_actions) for a in self.possible_agents}
        self._rng: np.random.Generator | None = None

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        """A new game on a new map. A seed restarts the map stream; without one it goes on."""
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
            self.game.seed(self._rng)
        self.game.reset()
        self.agents = list(self.possible_agents)
        obs = self._observations(self.agents)
        return obs, self._infos(obs)

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, dict[str, np.ndarray]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if not self.agents:
            raise RuntimeError("the game is over: call reset() before step()")
        unknown = set(actions) - set(self.possible_agents)
        if unknown:
            raise ValueError(f"unknown agents {sorted(unknown)}: agents are {self.possible_agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for live agents {missing}")
        for a in self.agents:
            value = np.asarray(actions[a])
            if value.shape != () or not np.issubdtype(value.dtype, np.integer):
                raise ValueError(f"the action of {a} must be one integer, got {actions[a]!r}")
        values = [int(actions[a]) if a in self.agents else 0 for a in self.possible_agents]
        full = check_actions(values, (len(values),), self.game.num_actions, self.game.device)
        tick = self.game.step(full.view(1, -1))
        state = tick.after
        done = bool(state.done[0])
        decided = done and int(state.winner[0]) >= 0
        alive = state.alive[0].tolist()
        reward_row = tick.rewards[0].tolist()
        acting = list(self.agents)
        rewards = {a: float(reward_row[self._seat[a]]) for a in acting}
        terminations = {a: (not alive[self._seat[a]]) or decided for a in acting}
        truncations = {a: done and not terminations[a] for a in acting}
        obs = self._observations(acting)
        infos = self._infos(obs)
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return obs, rewards, terminations, truncations, infos

    def action_mask(self, agent: str) -> np.ndarray:
        """bool (A,): the legal actions of ``agent`` now."""
        return self.game.observation().action_mask[0, self._seat[agent]].cpu().numpy().copy()

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.game.state is None:
            return None
        return render_ansi(self.game.state, 0, self.possible_agents)

    def close(self) -> None:
        pass

    def _observations(self, agents: list[str]) -> dict[str, dict[str, np.ndarray]]:
        views = to_numpy(encode(self.game.observation().flatten_players()))
        return {a: {k: v[self._seat[a]].copy() for k, v in views.items()} for a in agents}

    def _infos(self, obs: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
        assert self.game.state is not None
        tick = int(self.game.state.tick[0])
        return {a: {"action_mask": o["action_mask"].copy(), "tick": tick} for a, o in obs.items()}
