"""``GeneralsEnv``: one learner seat against scripted bots, as a Gymnasium ``Env``.

Registered as ``generals_rl/Generals-v1``. Spaces, rewards and episode ends are those of
``envs.core``; the action is one flat index (``Discrete(A)``): 0 passes, else
``1 + (half * 4 + direction) * H * W + tile``. An action outside ``0..A-1`` raises ``ValueError``;
an action in range that the mask forbids is a no-op (RULES 6), as in the engine.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from generals_rl.envs.core import (
    GameBatch,
    OpponentSpec,
    check_actions,
    encode,
    observation_space,
    render_ansi,
    to_numpy,
)
from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig
from generals_rl.game.maps import Maps
from generals_rl.game.rewards import RewardConfig


class GeneralsEnv(gym.Env[dict[str, Any], np.int64]):
    """A learner in one seat of a generals.io game, scripted bots in the others.

    Args:
        opponent: the bots' name for ``make_agent`` (``random``, ``expander``, ``gatherer``,
            ``raider``) or a factory ``seed -> Agent``.
        players: 2 (1v1) to 8 (FFA).
        seat: the learner's seat, or ``None`` for a random seat each episode.
        map_config: how to draw maps (default: 1v1 generals.io-like, FFA maps above 2 players).
        engine_config: rule options; ``max_ticks`` is the truncation limit.
        reward_config: optional reward shaping (default: only +1 win / -1 loss).
        maps: fixed maps to play in turn instead of generated ones.
        device: where the engine runs; observations come back as numpy arrays.
        render_mode: ``None`` or ``"ansi"`` (the true board with ANSI colours, and the scores).

    ``reset(seed=s)`` makes the maps, the learner's seat and the bots' moves reproducible.
    ``info`` holds ``action_mask`` (a copy of the observation's), ``seat`` and ``tick``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 2}  # noqa: RUF012 (a tick is half a second)

    def __init__(
        self,
        opponent: OpponentSpec = "random",
        players: int = 2,
        seat: int | None = None,
        map_config: MapConfig | None = None,
        engine_config: EngineConfig | None = None,
        reward_config: RewardConfig | None = None,
        maps: Maps | None = None,
        device: torch.device | str = "cpu",
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.games = GameBatch(
            1,
            players,
            opponent=opponent,
            seat=seat,
            map_config=map_config,
            engine_config=engine_config,
            reward_config=reward_config,
            maps=maps,
            device=device,
            pool_block=16,
        )
        self.observation_space = observation_space(players, self.games.height, self.games.width)
        self.action_space = spaces.Discrete(self.games.num_actions)
        self._finished = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self.games.pool is None:
            self.games.seed(self.np_random)
        self.games.reset()
        self._finished = False
        obs = self._observation()
        return obs, self._info(obs)

    def step(
        self, action: int | np.integer
    ) -> tuple[dict[str, np.ndarray], SupportsFloat, bool, bool, dict[str, Any]]:
        if self._finished:
            raise RuntimeError("the episode is over: call reset() before step()")
        tensor = check_actions(action, (), self.games.num_actions, self.games.device)
        tick = self.games.step(tensor.view(1))
        seat = int(self.games.seat[0])
        state = tick.after
        reward = float(tick.rewards[0, seat])
        out = bool(self.games.learner_out()[0])
        done = bool(state.done[0])
        terminated = out or (done and int(state.winner[0]) >= 0)
        truncated = done and not terminated
        self._finished = terminated or truncated
        obs = self._observation()
        return obs, reward, terminated, truncated, self._info(obs)

    def action_masks(self) -> np.ndarray:
        """bool (A,): the legal actions now (the convention of sb3-contrib's MaskablePPO)."""
        return self.games.learner_views().action_mask[0].cpu().numpy().copy()

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.games.state is None:
            return None
        return render_ansi(self.games.state, 0, self.games.seat_names(0))

    def _observation(self) -> dict[str, np.ndarray]:
        return {k: v[0] for k, v in to_numpy(encode(self.games.learner_views())).items()}

    def _info(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        assert self.games.state is not None
        return {
            "action_mask": obs["action_mask"].copy(),
            "seat": int(self.games.seat[0]),
            "tick": int(self.games.state.tick[0]),
        }
