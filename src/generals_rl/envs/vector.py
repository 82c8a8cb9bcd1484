"""``GeneralsVectorEnv``: many games stepped as one engine batch, as a Gymnasium ``VectorEnv``.

This is the fast path: every ``step`` is one batched engine tick for all games (no Python loop
over games), the bots of all games act as one batch, and observations are encoded on the device
and copied to the host once.

Modes:

- ``vs_bot`` (default, what ``make_vec("generals_rl/Generals-v1", num_envs=N)`` gives): N games,
  one sub-env each, the learner in one seat and scripted bots in the others; sub-env i is game i.
- ``self_play``: every seat of every game is a sub-env, ``num_envs = games * players``, game-major
  (sub-env ``g * players + p`` is seat p of game g). Actions come for every seat.

Autoreset: ``SAME_STEP`` by default (``metadata["autoreset_mode"]``). When a sub-env's episode ends,
the same ``step`` returns its terminal reward and flags, the first observation of its next
episode, and in ``info["final_obs"]`` / ``info["final_info"]`` (with the masks ``_final_obs`` /
``_final_info``) the observation and info it ended on. Games never idle for a step, which keeps
the whole batch doing useful work, and the final observation is there to bootstrap truncated
episodes. ``autoreset_mode=AutoresetMode.NEXT_STEP`` is available for code written for it: the
terminal observation is returned as usual, and the next ``step`` ignores that sub-env's action and
returns the first observation of its next episode with reward 0.

Episodes: in ``vs_bot`` mode an episode ends when the game ends or the learner is eliminated (FFA);
the game then starts again on a new map. In ``self_play`` mode all seats of a game share its
episode: a seat eliminated in an FFA that goes on gets its -1 on that tick and then rewards of 0,
only "pass" legal, until the game ends (``info["alive"]`` says which seats still play).

Episode-end info (``final_info`` in SAME_STEP, ``info`` in NEXT_STEP): ``outcome`` (+1 won, -1 lost,
0 draw) and ``ticks``. ``info["seat"]`` gives the learner's seat in ``vs_bot`` mode.

``output="torch"`` returns observations, rewards, terminations and truncations as tensors on
``device`` instead of numpy arrays (infos stay numpy).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from torch import Tensor

from generals_rl.envs.core import (
    GameBatch,
    OpponentSpec,
    check_actions,
    encode,
    observation_space,
    render_ansi,
    seat_outcome,
    seat_views,
)
from generals_rl.game.engine import EngineConfig
from generals_rl.game.generators import MapConfig
from generals_rl.game.maps import Maps
from generals_rl.game.observations import observe
from generals_rl.game.rewards import RewardConfig

Mode = Literal["vs_bot", "self_play"]


class GeneralsVectorEnv(VectorEnv):
    """A batch of generals.io games as ``num_envs`` sub-envs (module docstring for the modes).

    Args:
        num_envs: sub-envs; in ``self_play`` a multiple of ``players`` (games = num_envs / players).
        mode: ``vs_bot`` or ``self_play``.
        players, opponent, seat, map_config, engine_config, reward_config, maps: as ``GeneralsEnv``
            (``opponent`` and ``seat`` only in ``vs_bot`` mode).
        device: where the engine runs and the tensors live (``cpu``, ``cuda``).
        output: ``numpy`` or ``torch``.
        autoreset_mode: ``AutoresetMode.SAME_STEP`` (default) or ``AutoresetMode.NEXT_STEP``.
        render_mode: ``None`` or ``"ansi"`` (``render()`` gives one text frame per game).
    """

    metadata = {  # noqa: RUF012 (Gymnasium's declared class attribute; instances copy it)
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": ["ansi"],
        "render_fps": 2,
    }

    def __init__(
        self,
        num_envs: int,
        mode: Mode = "vs_bot",
        players: int = 2,
        opponent: OpponentSpec = "random",
        seat: int | None = None,
        map_config: MapConfig | None = None,
        engine_config: EngineConfig | None = None,
        reward_config: RewardConfig | None = None,
        maps: Maps | None = None,
        device: torch.device | str = "cpu",
        output: Literal["numpy", "torch"] = "numpy",
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
        render_mode: str | None = None,
    ) -> None:
        if mode not in ("vs_bot", "self_play"):
            raise ValueError(f"mode must be 'vs_bot' or 'self_play', got {mode!r}")
        if output not in ("numpy", "torch"):
            raise ValueError(f"output must be 'numpy' or 'torch', got {output!r}")
        autoreset_mode = AutoresetMode(autoreset_mode)
        if autoreset_mode not in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
            raise ValueError(f"autoreset_mode must be SAME_STEP or NEXT_STEP, got {autoreset_mode}")
        if render_mode is not None and render_mode != "ansi":
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if mode == "self_play" and (num_envs < players or num_envs % players):
            raise ValueError(
                f"self_play needs num_envs to be a multiple of players ({players}), got {num_envs}"
            )
        games = num_envs // players if mode == "self_play" else num_envs
        self.mode: Mode = mode
        self.output = output
        self.render_mode = render_mode
        self.metadata = {**type(self).metadata, "autoreset_mode": autoreset_mode}
        self.autoreset_mode = autoreset_mode
        self.games = GameBatch(
            games,
            players,
            opponent=opponent if mode == "vs_bot" else None,
            seat=seat,
            map_config=map_config,
            engine_config=engine_config,
            reward_config=reward_config,
            maps=maps,
            device=device,
            pool_block=max(16, games),
        )
        self.num_envs = num_envs
        self.num_games = games
        self.players = players
        self.device = self.games.device
        self.single_observation_space = observation_space(players, self.games.height, self.games.width)
        self.single_action_space = spaces.Discrete(self.games.num_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._autoreset = torch.zeros(games, dtype=torch.bool, device=self.device)

    @property
    def state(self) -> Any:
        """The ``GameState`` of every game now (read it; do not change it)."""
        return self.games.state

    @property
    def seats(self) -> Tensor:
        """int64 (games,): the learner's seat in each game (``vs_bot``)."""
        return self.games.seat

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start every game on a new map. A seed restarts the streams of maps, seats and bot moves;
        without one they go on."""
        if seed is not None and not isinstance(seed, int | np.integer):
            raise TypeError(
                f"seed must be an int or None (one seed for the batch), got {type(seed).__name__}"
            )
        super().reset(seed=None if seed is None else int(seed))
        if seed is not None or self.games.pool is None:
            self.games.seed(self.np_random)
        self.games.reset()
        self._autoreset.zero_()
        return self._edge(self._observation()), self._info()

    def step(self, actions: Any) -> tuple[dict[str, Any], Any, Any, Any, dict[str, Any]]:
        """One tick of every game; ``actions`` (num_envs,) integers in ``0..A-1``."""
        if self.games.state is None:
            raise RuntimeError("call reset() before step()")
        tensor = check_actions(actions, (self.num_envs,), self.games.num_actions, self.device)
        if self.mode == "self_play":
            tensor = tensor.view(self.num_games, self.players)
        pending = self._autoreset.clone() if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        tick = self.games.step(tensor)
        after = tick.after
        if self.mode == "self_play":
            ended = after.done
            rewards = tick.rewards.flatten()
            winner_known = after.done & (after.winner >= 0)
            terminated = (winner_known.unsqueeze(1) | ~after.alive) & ended.unsqueeze(1)
            terminated = terminated.flatten()
            truncated = (ended.unsqueeze(1) & ~terminated.view(self.num_games, self.players)).flatten()
        else:
            games = torch.arange(self.num_games, device=self.device)
            out = self.games.learner_out()
            ended = after.done | out
            rewards = tick.rewards[games, self.games.seat]
            terminated = out | (after.done & (after.winner >= 0))
            truncated = ended & ~terminated
        info: dict[str, Any] = {}
        if pending is not None and bool(pending.any()):
            # NEXT_STEP: the games that ended last step start again now; their actions were ignored.
            ended = ended & ~pending
            self.games.reset(pending)
            keep = self._per_env(~pending)
            rewards = torch.where(keep, rewards, 0.0)
            terminated = terminated & keep
            truncated = truncated & keep
        if bool(ended.any()):
            end_info = self._end_info(ended)
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                info["final_obs"], info["_final_obs"] = self._final_obs(ended)
                info["final_info"], info["_final_info"] = end_info, end_info["_outcome"].copy()
                self.games.reset(ended)
            else:
                info.update(end_info)
        if pending is not None:
            self._autoreset = ended
        info.update(self._info())
        obs = self._edge(self._observation())
        if self.output == "torch":
            return obs, rewards, terminated, truncated, info
        return obs, rewards.cpu().numpy(), terminated.cpu().numpy(), truncated.cpu().numpy(), info

    def action_masks(self) -> np.ndarray | Tensor:
        """bool (num_envs, A): the legal actions now (sb3-contrib's convention)."""
        mask = self._observation()["action_mask"].bool()
        return mask if self.output == "torch" else mask.cpu().numpy()

    def render(self) -> tuple[str, ...] | None:
        if self.render_mode != "ansi" or self.games.state is None:
            return None
        return tuple(
            render_ansi(self.games.state, g, self.games.seat_names(g)) for g in range(self.num_games)
        )

    def _observation(self) -> dict[str, Tensor]:
        if self.mode == "self_play":
            return encode(self.games.observation().flatten_players())
        return encode(self.games.learner_views())

    def _per_env(self, per_game: Tensor) -> Tensor:
        """A (games,) tensor repeated for every sub-env of each game."""
        if self.mode == "self_play":
            return per_game.repeat_interleave(self.players)
        return per_game

    def _env_index(self, games: Tensor) -> Tensor:
        """Sub-env indices of the games where ``games`` (games,) is true."""
        return self._per_env(games).nonzero().flatten()

    def _edge(self, obs: dict[str, Tensor]) -> dict[str, Any]:
        if self.output == "torch":
            return obs
        return {k: v.cpu().numpy() for k, v in obs.items()}

    def _final_obs(self, ended: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """The observation every ended sub-env finished on, as Gymnasium's object array + mask."""
        state = self.games.state
        assert state is not None
        games = ended.nonzero().flatten()
        views = observe(state.select(games))
        if self.mode == "self_play":
            obs = self._edge(encode(views.flatten_players()))
        else:
            obs = self._edge(encode(seat_views(views, self.games.seat[games])))
        final = np.full(self.num_envs, None, dtype=object)
        for row, i in enumerate(self._env_index(ended).tolist()):
            final[i] = {k: v[row] for k, v in obs.items()}
        return final, self._per_env(ended).cpu().numpy()

    def _end_info(self, ended: Tensor) -> dict[str, np.ndarray]:
        state = self.games.state
        assert state is not None
        outcome = seat_outcome(state)
        if self.mode == "self_play":
            outcome = outcome.flatten()
        else:
            outcome = outcome[torch.arange(self.num_games, device=self.device), self.games.seat]
        mask = self._per_env(ended).cpu().numpy()
        ticks = self._per_env(state.tick).cpu().numpy()
        return {
            "outcome": np.where(mask, outcome.cpu().numpy(), 0.0).astype(np.float32),
            "_outcome": mask,
            "ticks": np.where(mask, ticks, 0),
            "_ticks": mask.copy(),
        }

    def _info(self) -> dict[str, Any]:
        state = self.games.state
        assert state is not None
        if self.mode == "self_play":
            return {
                "alive": state.alive.flatten().cpu().numpy(),
                "_alive": np.ones(self.num_envs, dtype=bool),
            }
        return {"seat": self.games.seat.cpu().numpy().copy(), "_seat": np.ones(self.num_envs, dtype=bool)}
