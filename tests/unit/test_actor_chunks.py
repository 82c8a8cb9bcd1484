"""How an actor cuts a rollout into RecordExperience messages (``Actor._chunks``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import generals_rl.training.actor as actor_module
from generals_rl.services.replay.client import Trajectories
from generals_rl.settings import Settings
from generals_rl.training.actor import Actor
from generals_rl.training.config import TrainConfig
from generals_rl.training.rollout import Rollout


def _rollout(n: int, t: int = 3) -> Rollout:
    """``n`` trajectories whose every tensor holds the row number, so a message's rows can be told
    apart; the first half stand for games against one opponent, the second half another."""

    def tagged(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        rows = torch.arange(n).reshape(n, *([1] * len(shape)))
        return rows.expand(n, *shape).to(dtype)  # (as bools: row 0 False, the rest True)

    trajectories = Trajectories(
        armies=tagged(t + 1, 4, 4),
        planes=tagged(t + 1, 2, 4, 4, dtype=torch.uint8),
        scalars=tagged(t + 1, 3),
        action_mask=tagged(t + 1, 8, dtype=torch.bool),
        actions=tagged(t, dtype=torch.int64),
        behaviour_log_probs=tagged(t),
        rewards=tagged(t),
        dones=tagged(t, dtype=torch.bool),
        truncated=tagged(t, dtype=torch.bool),
        extras={"teacher_actions": tagged(t, dtype=torch.int64)},
    )
    return Rollout(trajectories, policy_version=3, env_steps=n * t, results={})


def _tags(value: object) -> torch.Tensor:
    """The row number each trajectory of ``value`` (a tensor of ``_rollout``) carries."""
    assert isinstance(value, torch.Tensor)
    return value.flatten(1)[:, 0].long()


def test_a_rollout_is_sent_in_a_shuffled_order_so_a_queue_batch_mixes_opponents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue hands out the oldest trajectories first. In collection order a 32-trajectory batch
    held the games of one opponent only; the actor shuffles every rollout before sending it."""
    n, per_message = 64, 16
    rollout = _rollout(n)
    per_row = rollout.trajectories.nbytes // n
    monkeypatch.setattr(actor_module, "CHUNK_BYTES", per_message * per_row)
    actor = Actor(TrainConfig(device="cpu"), Settings(data_dir=tmp_path))
    chunks = actor._chunks(rollout)
    assert [len(c.trajectories.actions) for c in chunks] == [per_message] * (n // per_message)
    assert [c.sequence for c in chunks] == [1, 2, 3, 4]
    assert all(c.policy_version == 3 and c.writer_id == actor.writer_id for c in chunks)
    sent = torch.cat([_tags(c.trajectories.actions) for c in chunks])
    # every trajectory once, and each row's tensors still belong together
    assert sorted(sent.tolist()) == list(range(n))
    for chunk in chunks:
        rows = _tags(chunk.trajectories.actions)
        for value in (chunk.trajectories.armies, chunk.trajectories.extras["teacher_actions"]):
            assert torch.equal(_tags(value), rows)
    # the first batch a queue would hand out holds games of both halves
    first_batch = sent[:32]
    assert bool((first_batch < n // 2).any()) and bool((first_batch >= n // 2).any())
    # the next rollout is shuffled differently
    again = torch.cat([_tags(c.trajectories.actions) for c in actor._chunks(rollout)])
    assert not torch.equal(again, sent)
    assert [c.sequence for c in actor._chunks(rollout)] == [9, 10, 11, 12]
