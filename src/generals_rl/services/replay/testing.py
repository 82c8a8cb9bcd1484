"""Trajectories for tests and benchmarks: synthetic ones of any shape, and real ones played by
the engine (random legal moves, the observation format actors send).

    chunk = Chunk(synthetic(n=4, steps=8, side=6, seed=1), policy_version=3)
    played = engine_trajectories(n=8, steps=32, side=24, seed=0)   # 24x24 1v1 games, seat 0
"""

from __future__ import annotations

import numpy as np

from generals_rl.services.replay import convert
from generals_rl.services.replay.client import Chunk, Trajectories, encode_chunk
from generals_rl.services.replay.config import TableConfig
from generals_rl.services.replay.items import ItemBatch
from generals_rl.services.replay.wire import decode_record


def synthetic(
    n: int = 2, steps: int = 4, side: int = 4, *, players: int = 2, seed: int = 0, extras: bool = False
) -> Trajectories:
    """N random trajectories of T = ``steps`` on a ``side`` x ``side`` board, in the engine's
    dtypes and shapes (observations (N, T + 1, ...), the rest (N, T))."""
    rng = np.random.default_rng(seed)
    h = w = side
    obs = (n, steps + 1)
    dones = rng.random((n, steps)) < 0.05
    out = Trajectories(
        armies=rng.integers(0, 200, (*obs, h, w), dtype=np.int32),
        planes=rng.random((*obs, 9, h, w)) < 0.2,
        scalars=rng.integers(0, 500, (*obs, 1 + 2 * players), dtype=np.int32),
        action_mask=rng.random((*obs, 1 + 8 * h * w)) < 0.1,
        actions=rng.integers(0, 1 + 8 * h * w, (n, steps), dtype=np.int64),
        behaviour_log_probs=-rng.random((n, steps), dtype=np.float32) * 5,
        rewards=rng.standard_normal((n, steps), dtype=np.float32),
        dones=dones,
        truncated=dones & (rng.random((n, steps)) < 0.5),
    )
    if extras:  # one per step, one per trajectory (a memory state at the first step)
        out.extras["values"] = rng.standard_normal((n, steps), dtype=np.float32)
        out.extras["memory"] = rng.integers(-1, 300, (n, 5, h, w), dtype=np.int32)
    return out


def engine_trajectories(n: int = 8, steps: int = 32, side: int = 24, *, seed: int = 0) -> Trajectories:
    """N trajectories of seat 0 in N 1v1 games on ``side`` x ``side`` generals.io-like maps, both
    seats playing uniformly random legal moves (the engine's real observations)."""
    import torch

    from generals_rl.agents.base import sample_legal
    from generals_rl.game import EngineConfig, MapConfig, MapPool, observe, step
    from generals_rl.game.autoreset import new_games, reset_finished

    torch.manual_seed(seed)
    pool = MapPool(MapConfig.generalsio_1v1().with_side(side), seed=seed, block=max(64, n))
    config = EngineConfig(max_ticks=10_000)
    state = new_games(n, pool)
    views, actions, rewards, dones = [], [], [], []
    for t in range(steps + 1):
        obs = observe(state).player(0)
        views.append(obs)
        if t == steps:
            break
        both = sample_legal(observe(state).action_mask, torch.rand(n, state.num_players))
        state = step(state, both, config)
        actions.append(both[:, 0])
        rewards.append(torch.zeros(n))
        dones.append(state.done.clone())
        state, _ = reset_finished(state, pool)
    mask = torch.stack([v.action_mask for v in views], 1)
    chosen = torch.stack(actions, 1)
    legal = mask[:, :-1].sum(-1).clamp(min=1).float()
    return Trajectories(
        armies=torch.stack([v.armies for v in views], 1).numpy(),
        planes=torch.stack([v.planes for v in views], 1).numpy(),
        scalars=torch.stack([v.scalars for v in views], 1).numpy(),
        action_mask=mask.numpy(),
        actions=chosen.to(torch.int64).numpy(),
        behaviour_log_probs=(-legal.log()).numpy().astype(np.float32),
        rewards=torch.stack(rewards, 1).numpy().astype(np.float32),
        dones=torch.stack(dones, 1).numpy(),
    )


def item_batch(
    trajectories: Trajectories, *, policy_version: int = 0, priorities: np.ndarray | None = None
) -> ItemBatch:
    """The checked items of one RecordExperience message of ``trajectories`` (T from their
    shape), as the service sees them."""
    chunk = Chunk(trajectories, policy_version=policy_version, priorities=priorities)
    steps = int(np.asarray(trajectories.actions).shape[1])
    return convert.item_batch(decode_record(encode_chunk("t", chunk)), steps)


def table(name: str = "t", **changes: object) -> TableConfig:
    """A uniform FIFO-removed table of unroll length 4 (override any field)."""
    defaults: dict[str, object] = {"name": name, "unroll_length": 4, "max_items": 1000}
    defaults.update(changes)
    return TableConfig(**defaults)  # type: ignore[arg-type]
