"""Batched lock-step games for actors (StepBatch): B games stepped as one engine batch per request.

A ``BatchSession`` holds B games of P seats on one padded board. The caller controls S of the
seats (the columns of its actions and observations); the server plays the others with scripted
bots, each bot acting on all B games at once. One ``step`` is one tick of every game: a few
hundred tensor operations whatever B is, never a Python loop over games (only the ``record``
option, for evaluation, logs each game's replay separately).

With ``autoreset`` a game that ends restarts on the next map in the same step (Gymnasium's
SAME_STEP): the step reports its end (``dones``, ``winners``, ``final_observation``) and already
shows the new game's first observation. Without it a finished game stays finished.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from datetime import datetime

import torch
from torch import Tensor

from generals_rl.agents import BOTS, Agent, make_agent
from generals_rl.game.autoreset import FixedMaps, MapSource, restart_games
from generals_rl.game.engine import MAX_TICKS_LIMIT, EngineConfig, step
from generals_rl.game.generators import MapPool
from generals_rl.game.maps import MapError, Maps, initial_state
from generals_rl.game.observations import Observation, observe
from generals_rl.game.replay import ReplayRecorder
from generals_rl.game.rewards import RewardConfig, rewards
from generals_rl.game.state import MAX_PLAYERS, GameState
from generals_rl.services.common.errors import InvalidArgument, ResourceExhausted
from generals_rl.services.game.boards import MAX_MAP_TEXT, draw_seed, map_config, player_count
from generals_rl.services.game.clocks import Clock, SystemClock
from generals_rl.services.game.core import GameServiceConfig
from generals_rl.services.game.domain import (
    MODES,
    BatchSpec,
    BatchStep,
    BoardSpec,
    EngineOptions,
    GameInfo,
    MapList,
    SeatInfo,
)
from generals_rl.services.game.requests import DEFAULT_MAX_TICKS, check_player
from generals_rl.services.game.results import build_result, end_reason
from generals_rl.services.game.rooms import EndedGame

MAX_FIXED_MAPS = 1024
MAX_GUARD_RADIUS = 64


class _Tap:
    """A map source that remembers the last maps it handed out (the recorder needs them)."""

    def __init__(self, source: MapSource) -> None:
        self.source = source
        self.last: Maps | None = None

    def take(self, k: int) -> Maps:
        self.last = self.source.take(k)
        return self.last


def _fixed_maps(maps: MapList, players: int) -> FixedMaps:
    if not 1 <= len(maps.texts) <= MAX_FIXED_MAPS:
        raise InvalidArgument(f"fixed.map_texts: give 1..{MAX_FIXED_MAPS} maps, got {len(maps.texts)}")
    parsed = []
    for i, text in enumerate(maps.texts):
        if len(text) > MAX_MAP_TEXT:
            raise InvalidArgument(f"fixed.map_texts[{i}]: {len(text)} characters, at most {MAX_MAP_TEXT}")
        try:
            one = Maps.from_string(text)
        except MapError as error:
            raise InvalidArgument(f"fixed.map_texts[{i}]: {error}") from None
        if one.num_players != players:
            raise InvalidArgument(f"fixed.map_texts[{i}]: {one.num_players} generals for {players} seats")
        parsed.append(one)
    return FixedMaps(Maps.cat(parsed))


def response_bytes(games: int, seats: int, height: int, width: int, players: int, finals: bool) -> int:
    """Upper bound of one StepBatch response's size (observations twice with final observations)."""
    tiles = height * width
    per_view = 4 * tiles + 9 * tiles + 4 * (1 + 2 * players) + 1 + 8 * tiles
    views = games * seats * per_view * (2 if finals else 1)
    return views + games * seats * 5 + games * 10 + 4096


class BatchSession:
    """The games of one StepBatch stream (module docstring)."""

    def __init__(
        self, spec: BatchSpec, config: GameServiceConfig | None = None, clock: Clock | None = None
    ) -> None:
        config = config or GameServiceConfig()
        self.clock: Clock = clock or SystemClock()
        self.spec = spec
        if spec.mode not in MODES:
            raise InvalidArgument(f"mode: must be 1v1 or ffa, got {spec.mode!r}")
        if not 1 <= spec.num_games <= config.max_batch_games:
            if spec.num_games > config.max_batch_games:
                raise ResourceExhausted(
                    f"num_games: the server allows at most {config.max_batch_games} games"
                )
            raise InvalidArgument(f"num_games: give 1..{config.max_batch_games} games, got {spec.num_games}")
        fixed = isinstance(spec.maps, MapList)
        found = None
        if fixed and spec.maps.texts:  # type: ignore[union-attr]
            try:
                found = Maps.from_string(spec.maps.texts[0]).num_players  # type: ignore[union-attr]
            except MapError as error:
                raise InvalidArgument(f"fixed.map_texts[0]: {error}") from None
        players = player_count(spec.mode, spec.num_players, found)
        if players > MAX_PLAYERS:
            raise InvalidArgument(f"num_players: at most {MAX_PLAYERS}")
        hosted = tuple(spec.hosted_bots) or ("",) * players
        if len(hosted) != players:
            raise InvalidArgument(f"hosted_bots: one entry per seat ({players}), got {len(hosted)}")
        for i, name in enumerate(hosted):
            if name and name not in BOTS:
                raise InvalidArgument(
                    f"hosted_bots[{i}]: unknown bot {name!r}; the bots are {', '.join(sorted(BOTS))}"
                )
        self.controlled = tuple(p for p, name in enumerate(hosted) if not name)
        if not self.controlled:
            raise InvalidArgument("hosted_bots: at least one seat must be left to the caller")
        options = spec.engine
        max_ticks = options.max_ticks or DEFAULT_MAX_TICKS
        if not 1 <= max_ticks <= MAX_TICKS_LIMIT:
            raise InvalidArgument(f"engine.max_ticks: at most {MAX_TICKS_LIMIT}, got {options.max_ticks}")
        if options.move_order not in ("alternating", "generals-bots"):
            raise InvalidArgument(f"engine.move_order: unknown order {options.move_order!r}")
        if options.move_order == "generals-bots" and players != 2:
            raise InvalidArgument("engine.move_order: the generals-bots order is for 2 players only")
        self.options = EngineOptions(options.move_order, max_ticks, options.city_regeneration)
        self.engine = EngineConfig(options.move_order, max_ticks, options.city_regeneration)
        reward = spec.reward
        gamma = reward.gamma or 0.99
        weights = {"land": reward.land, "army": reward.army, "city": reward.city, "guard": reward.guard}
        if not all(math.isfinite(w) for w in weights.values()) or not 0 < gamma <= 1:
            raise InvalidArgument("reward: weights must be finite and gamma in (0, 1]")
        radius = reward.guard_radius or RewardConfig.guard_radius
        if not 1 <= radius <= MAX_GUARD_RADIUS:
            raise InvalidArgument(f"reward.guard_radius: 1..{MAX_GUARD_RADIUS} (0: default), got {radius}")
        self.reward = RewardConfig(**weights, gamma=gamma, guard_radius=radius)
        if spec.record:
            if len(spec.players) != players:
                raise InvalidArgument(f"players: record needs one player per seat ({players})")
            for i, player in enumerate(spec.players):
                check_player(player, f"players[{i}]")
        self.seed = draw_seed(spec.seed)
        source: MapSource
        if isinstance(spec.maps, MapList):
            source = _fixed_maps(spec.maps, players)
        else:
            map_cfg = map_config(spec.mode, players, spec.maps)
            side = map_cfg.side[1]
            source = MapPool(
                map_cfg, seed=self.seed % 2**63, pad_to=(side, side), block=max(128, spec.num_games)
            )
        self.source = _Tap(source)
        try:
            first = self.source.take(spec.num_games)
        except MapError as error:
            raise InvalidArgument(f"generator: {error}") from None
        height, width = first.shape
        self.board = BoardSpec(height=height, width=width, num_players=players)
        size = response_bytes(spec.num_games, len(self.controlled), height, width, players, spec.autoreset)
        if size > config.max_message_bytes:
            raise ResourceExhausted(
                f"num_games: responses of {spec.num_games} games would be about {size} bytes, more than the "
                f"server's maximum message size ({config.max_message_bytes}); use fewer games per stream"
            )
        self.state = initial_state(first)
        self.agents: dict[int, Agent] = {
            p: make_agent(name, (self.seed + 7919 * (p + 1)) % 2**63) for p, name in enumerate(hosted) if name
        }
        self._index = torch.tensor(self.controlled, dtype=torch.int64)
        self._all_controlled = len(self.controlled) == players
        self._obs = observe(self.state)
        self.step_number = 0
        self._eliminated = torch.zeros(spec.num_games, players, dtype=torch.int64)
        self._left = [False] * players
        self._recorders: list[ReplayRecorder] = []
        self._started: list[datetime] = []
        self._ended: list[EndedGame] = []
        if spec.record:
            names = [p.key for p in spec.players]
            self._recorders = [
                ReplayRecorder(first.select(b), names, self.engine) for b in range(spec.num_games)
            ]
            self._started = [self.clock.now()] * spec.num_games

    @property
    def num_games(self) -> int:
        return self.state.batch_size

    def _controlled(self, obs: Observation) -> Observation:
        if self._all_controlled:
            return obs
        return Observation(
            armies=obs.armies[:, self._index],
            planes=obs.planes[:, self._index],
            scalars=obs.scalars[:, self._index],
            action_mask=obs.action_mask[:, self._index],
        )

    def first(self) -> BatchStep:
        """Step 0: every controlled seat's first observation."""
        b, s = self.num_games, len(self.controlled)
        return BatchStep(
            step=0,
            observation=self._controlled(self._obs),
            rewards=torch.zeros(b, s, dtype=torch.float32),
            dones=torch.zeros(b, dtype=torch.bool),
            truncated=torch.zeros(b, dtype=torch.bool),
            winners=torch.full((b,), -1, dtype=torch.int64),
            alive=self.state.alive[:, self._index].clone(),
            board=self.board,
            controlled_seats=self.controlled,
        )

    def step(self, number: int, actions: Tensor) -> BatchStep:
        """Play one tick of every game with the controlled seats' ``actions`` (int (B, S))."""
        b, s = self.num_games, len(self.controlled)
        if number != self.step_number + 1:
            raise InvalidArgument(f"actions.step: expected step {self.step_number + 1}, got {number}")
        if tuple(actions.shape) != (b, s) or actions.dtype not in (torch.int32, torch.int64):
            raise InvalidArgument(
                f"actions.actions: int32 or int64 of shape ({b}, {s}), got {tuple(actions.shape)}"
            )
        before = self.state
        full = torch.zeros(b, self.board.num_players, dtype=torch.int64)
        full[:, self._index] = actions.long()
        for p, agent in self.agents.items():
            full[:, p] = agent.act(self._obs.player(p))
        for recorder, game in zip(self._recorders, range(b), strict=False):
            recorder.record(before.select(game), full[game : game + 1])
        after = step(before, full, self.engine)
        reward = rewards(before, after, self.reward)[:, self._index]
        ended = after.done & ~before.done
        dones = ended if self.spec.autoreset else after.done.clone()
        winners = torch.where(ended, after.winner, torch.full_like(after.winner, -1))
        truncated = dones & (after.winner < 0) & (after.tick >= self.engine.max_ticks)
        out = before.alive & ~after.alive
        self._eliminated = torch.where(out, after.tick.unsqueeze(1), self._eliminated)
        finished_ids: tuple[str, ...] = ()
        if self._recorders and bool(ended.any()):
            finished_ids = self._record_ended(after, ended)
        final_obs = None
        state = after
        obs_after = observe(after)
        if self.spec.autoreset and bool(ended.any()):
            final_obs = self._controlled(
                Observation(
                    armies=obs_after.armies[ended],
                    planes=obs_after.planes[ended],
                    scalars=obs_after.scalars[ended],
                    action_mask=obs_after.action_mask[ended],
                )
            )
            state = restart_games(after, ended, self.source)
            self._eliminated[ended] = 0
            for agent in self.agents.values():
                agent.reset(ended)
            if self._recorders:
                self._restart_recorders(ended)
            obs_after = observe(state)
        self.state = state
        self._obs = obs_after
        self.step_number = number
        return BatchStep(
            step=number,
            observation=self._controlled(obs_after),
            rewards=reward,
            dones=dones,
            truncated=truncated,
            winners=winners,
            alive=state.alive[:, self._index].clone(),
            final_observation=final_obs,
            finished_game_ids=finished_ids,
        )

    # -- recording (evaluation only) ------------------------------------------------------------

    def _record_ended(self, after: GameState, ended: Tensor) -> tuple[str, ...]:
        ids = []
        now = self.clock.now()
        h, w = self.board.height, self.board.width
        for game in ended.nonzero().flatten().tolist():
            final = after.select(game)
            game_id = secrets.token_urlsafe(12)
            eliminated = self._eliminated[game].tolist()
            reason = end_reason(final, eliminated, self._left, self.engine.max_ticks)
            result = build_result(
                game_id,
                self.spec.mode,
                self.spec.players,
                final,
                eliminated,
                reason,
                self._started[game],
                now,
            )
            replay = self._recorders[game].replays(final)[0]
            info = GameInfo(
                game_id=game_id,
                mode=self.spec.mode,
                status="finished",
                clock="lock_step",
                speed=1.0,
                tick=result.ticks,
                seats=tuple(
                    SeatInfo(
                        p, player, player.key, p not in self.controlled, True, True, bool(final.alive[0, p])
                    )
                    for p, player in enumerate(self.spec.players)
                ),
                board=BoardSpec(height=h, width=w, num_players=self.board.num_players),
                engine=self.options,
                seed=self.seed,
                afk_ticks=0,
                unrated=self.spec.unrated,
                created_at=self._started[game],
                started_at=self._started[game],
                ended_at=now,
                result=result,
            )
            text = self._recorders[game].maps.to_string()
            self._ended.append(
                EndedGame(
                    info=info,
                    result=result,
                    replay=dataclasses.replace(replay, id=game_id),
                    map_text=text,
                    rated=not self.spec.unrated,
                )
            )
            ids.append(game_id)
        return tuple(ids)

    def _restart_recorders(self, ended: Tensor) -> None:
        maps = self.source.last
        assert maps is not None
        names = [p.key for p in self.spec.players]
        now = self.clock.now()
        for k, game in enumerate(ended.nonzero().flatten().tolist()):
            self._recorders[game] = ReplayRecorder(maps.select(k), names, self.engine)
            self._started[game] = now

    def drain_ended(self) -> list[EndedGame]:
        """Recorded games that ended since the last call (to be stored)."""
        ended, self._ended = self._ended, []
        return ended
