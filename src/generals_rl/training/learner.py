"""``Learner``: actor-critic updates from trajectories, checkpoints to the blob store, and DDP.

    learner = Learner(network, config)
    metrics = learner.learn(rollout.trajectories)     # epochs x minibatches of ``update``
    learner.checkpoint(store, "run-1")                 # weights, optimizer, step: atomically
    learner.resume(store, "run-1")                     # back to the last checkpoint's step

One ``update`` is one Adam step on a batch of trajectories: a forward pass over every observation
(the bootstrap one included), the V-trace / PPO loss of ``losses``, global gradient-norm clipping,
bf16 autocast when ``mixed_precision`` is set and the device runs bf16 natively (CUDA, or a CPU with
AVX512-BF16/AMX: ``networks.bf16_supported``). Under ``torch.distributed`` (an initialized
process group, e.g. gloo on CPUs) the network is wrapped in ``DistributedDataParallel``: each rank
updates on its own part of the batch and the gradients are averaged in the backward pass, so every
rank holds the same parameters after every step (``wrap_distributed``).

Checkpoints go to the ``checkpoints`` bucket as ``<run>/ckpt-<step>.pt`` (one blob, written
whole), then ``<run>/latest`` names it: a reader sees the previous complete checkpoint or the new
one, never a part. Only rank 0 writes.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from generals_rl.game.observations import Observation
from generals_rl.services.replay.client import Trajectories
from generals_rl.storage.interfaces import BlobStore
from generals_rl.training.config import TrainConfig
from generals_rl.training.losses import actor_critic_loss
from generals_rl.training.memory import unroll_memory
from generals_rl.training.networks import CONFIGS, PolicyNetwork, bf16_supported

BUCKET = "checkpoints"
CHECKPOINT_FORMAT = 1
Batch = Trajectories | Mapping[str, Tensor]
"""Trajectories, or their ``to_torch`` dict."""


def wrap_distributed(network: nn.Module) -> nn.Module:
    """``network`` in ``DistributedDataParallel`` when a process group is initialized (gradients
    averaged over the ranks in every backward pass), else ``network`` itself."""
    if not (dist.is_available() and dist.is_initialized()):
        return network
    device = next(network.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(network, device_ids=device_ids)


def is_rank_zero() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


class Learner:
    """Trains ``network`` in place with Adam on batches of trajectories.

    Args:
        network: the policy to train (moved to ``device``).
        config: optimizer, loss and batching settings.
        device: where to train (default: the network's device).
        distributed: wrap in DDP (default: whenever a process group is initialized).
    """

    def __init__(
        self,
        network: PolicyNetwork,
        config: TrainConfig,
        *,
        device: torch.device | str | None = None,
        distributed: bool | None = None,
    ) -> None:
        self.config = config
        self.device = torch.device(device) if device is not None else next(network.parameters()).device
        self.network = network.to(self.device)
        use_ddp = dist.is_available() and dist.is_initialized() if distributed is None else distributed
        self.model = wrap_distributed(self.network) if use_ddp else self.network
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=config.lr, eps=config.adam_eps)
        self.weights = config.loss_weights()
        self.autocast = config.mixed_precision and bf16_supported(self.device)
        self.step = 0

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def learn(self, batch: Batch, generator: torch.Generator | None = None) -> dict[str, float]:
        """``epochs`` passes over ``batch``, each in minibatches of ``minibatch`` trajectories (in a
        random order); the metrics averaged over the updates."""
        tensors = self._tensors(batch)
        n = int(tensors["actions"].shape[0])
        size = self.config.minibatch if 0 < self.config.minibatch < n else n
        totals: dict[str, float] = {}
        updates = 0
        for _ in range(self.config.epochs):
            order = torch.randperm(n, generator=generator) if size < n else torch.arange(n)
            for start in range(0, n, size):
                rows = order[start : start + size].to(self.device)
                part = {k: v.index_select(0, rows) for k, v in tensors.items()}
                for key, value in self.update(part).items():
                    totals[key] = totals.get(key, 0.0) + value
                updates += 1
        return {k: v / updates for k, v in totals.items()}

    def update(self, batch: Batch) -> dict[str, float]:
        """One optimizer step on ``batch``; its loss terms and diagnostics."""
        clock = time.perf_counter()
        tensors = self._tensors(batch)
        actions = tensors["actions"]
        n, t = actions.shape
        steps = Observation(tensors["armies"], tensors["planes"], tensors["scalars"], tensors["action_mask"])
        obs = Observation(
            *(x.flatten(0, 1) for x in (steps.armies, steps.planes, steps.scalars, steps.action_mask))
        )
        memory = None
        if self.network.uses_memory:
            if "extras.memory" not in tensors:
                raise ValueError("the network remembers, but the experience has no extras['memory']")
            memory = unroll_memory(tensors["extras.memory"], steps, tensors["dones"]).flatten(0, 1)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.model(obs, memory)
        logits = out.logits.view(n, t + 1, -1)[:, :t]
        values = out.value.view(n, t + 1)
        general = out.general.view(n, t + 1, -1)[:, :t] if out.general is not None else None
        loss = actor_critic_loss(
            logits,
            values,
            actions,
            tensors["behaviour_log_probs"],
            tensors["rewards"],
            tensors["dones"],
            self.weights,
            teacher_actions=tensors.get("extras.teacher_actions"),
            teacher_coef=self.config.teacher_weight(self.step),
            general_logits=general,
            enemy_general=tensors.get("extras.enemy_general"),
            general_coef=self.config.general_coef,
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        parameters = [p for p in self.network.parameters() if p.grad is not None]
        max_norm = self.config.max_grad_norm if self.config.max_grad_norm > 0 else float("inf")
        grad_norm = nn.utils.clip_grad_norm_(parameters, max_norm)
        self.optimizer.step()
        self.step += 1
        metrics = {
            "loss": float(loss.total.detach()),
            "policy_loss": float(loss.policy),
            "value_loss": float(loss.value),
            "entropy": float(loss.entropy),
            "grad_norm": float(grad_norm),
            **{k: float(v) for k, v in loss.metrics.items()},
            "update_s": time.perf_counter() - clock,
        }
        return metrics

    def _tensors(self, batch: Batch) -> dict[str, Tensor]:
        if isinstance(batch, Trajectories):
            return batch.to_torch(self.device)
        return {k: v.to(self.device) for k, v in batch.items()}

    # -- checkpoints ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "arch_id": self.network.arch_id,
            "network_config": self.network.config_json(),
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if not self._same_network(state.get("arch_id"), state.get("network_config")):
            raise ValueError(
                f"the checkpoint holds {state.get('arch_id')} {state.get('network_config')}, "
                f"the learner trains {self.network.arch_id} {self.network.config_json()}"
            )
        self.network.load_state_dict(state["network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])

    def _same_network(self, arch_id: Any, config_json: Any) -> bool:
        """The checkpoint's architecture and config are the learner's (configs compared as values,
        so a config saved before a field with a default existed still matches)."""
        if arch_id != self.network.arch_id or not isinstance(config_json, str):
            return False
        try:
            return bool(CONFIGS[arch_id](**json.loads(config_json)) == self.network.config)
        except (TypeError, ValueError):
            return False

    def checkpoint(
        self, store: BlobStore, run: str, extra: Mapping[str, Any] | None = None, keep: int = 3
    ) -> str | None:
        """Write weights, optimizer and step (and ``extra``) to ``<run>/ckpt-<step>.pt``, then point
        ``<run>/latest`` at it; keeps the newest ``keep`` checkpoints. Returns the key (rank 0) or
        ``None`` (other ranks write nothing)."""
        if not is_rank_zero():
            return None
        buffer = io.BytesIO()
        torch.save({**self.state_dict(), "extra": dict(extra or {})}, buffer)
        key = f"{run}/ckpt-{self.step:010d}.pt"
        store.put(BUCKET, key, buffer.getvalue())
        store.put(BUCKET, f"{run}/latest", key.encode())
        if keep > 0:
            for old in store.list(BUCKET, f"{run}/ckpt-")[:-keep]:
                store.delete(BUCKET, old)
        return key

    def resume(self, store: BlobStore, run: str) -> dict[str, Any] | None:
        """Load the run's latest checkpoint; its ``extra`` dict, or ``None`` when there is none."""
        if not store.exists(BUCKET, f"{run}/latest"):
            return None
        key = store.get(BUCKET, f"{run}/latest").decode()
        state = torch.load(io.BytesIO(store.get(BUCKET, key)), map_location=self.device, weights_only=True)
        self.load_state_dict(state)
        return dict(state.get("extra", {}))
