"""Actor-critic losses for experience that lags the learner: V-trace targets (IMPALA, Espeholt et
al. 2018) and a policy loss on V-trace advantages, PPO-clipped (Schulman et al. 2017) or IMPALA's.

Tensors are batch-major as ``Trajectories``: (N, T) per step, values (N, T + 1) with the
bootstrap value last. With behaviour policy mu (which acted) and target policy pi (the learner's
current network), for s = 0..T-1:

    ratio_s    = pi(a_s | x_s) / mu(a_s | x_s)
    rho_s      = min(rho_bar, ratio_s)
    c_s        = lambda * min(c_bar, ratio_s)
    gamma_s    = gamma * (1 - done_s)                        (no bootstrapping across an episode end)
    delta_s    = rho_s * (r_s + gamma_s * V(x_{s+1}) - V(x_s))

the V-trace targets, computed backwards from v_T = V(x_T):

    v_s = V(x_s) + delta_s + gamma_s * c_s * (v_{s+1} - V(x_{s+1}))

and the policy-gradient advantage, with v_{s+1} the target of the next state:

    A_s = r_s + gamma_s * v_{s+1} - V(x_s)

The policy loss (``POLICY_LOSSES``) is one of

    ppo:     L_policy = -mean_s min(ratio_s * A_s, clip(ratio_s, 1 - eps, 1 + eps) * A_s)
    vtrace:  L_policy = -mean_s min(pg_rho_bar, ratio_s) * A_s * log pi(a_s | x_s)

The PPO-style loss lets the ratio itself weight the advantage and clips it, so a stale behaviour
policy cannot push the update far; a sample whose ratio has left the clip range gives no
gradient. IMPALA's weights the advantage by the truncated ratio (no gradient through the weight)
and never drops a sample. With one gradient step per batch (``epochs`` = 1) it is PPO's
decoupled objective (Hilton et al. 2022) with the learner's own policy as the proximal one, whose
clip never binds. The other terms:

    L_value   = 1/2 * mean_s (v_s - V(x_s))^2
    H         = mean_s entropy(pi(. | x_s))                  (over legal actions only)
    L         = L_policy + value_coef * L_value - entropy_coef * H

With a teacher (kickstarting: a scripted bot's move b_s in the same position), the loss adds

    L_teacher = -mean_s log pi(b_s | x_s)                    (``imitation_loss``)

weighted by ``teacher_coef``, which the run lowers to 0 over training. With a general head (the
network's per-tile guess of where the enemy general stands, g_s the true tile), it adds

    L_general = -mean_s log q(g_s | x_s)                     (``general_loss``)

weighted by ``general_coef``: an auxiliary task that shapes the shared features.

Targets and advantages carry no gradient. Episode ends are terminal: an episode truncated at the
training tick limit is a draw under the rules, so it is not bootstrapped either.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class VTraceReturns:
    """V-trace outputs, all (N, T) and without gradients.

    Attributes:
        vs: the value targets v_s.
        advantages: A_s = r_s + gamma_s * v_{s+1} - V(x_s).
        rhos: the truncated importance weights rho_s.
        pg_rhos: min(pg_rho_bar, ratio_s), the weights of IMPALA's policy gradient.
    """

    vs: Tensor
    advantages: Tensor
    rhos: Tensor
    pg_rhos: Tensor


@torch.no_grad()
def vtrace(
    behaviour_log_probs: Tensor,
    target_log_probs: Tensor,
    rewards: Tensor,
    dones: Tensor,
    values: Tensor,
    *,
    gamma: float,
    lam: float = 1.0,
    rho_bar: float = 1.0,
    c_bar: float = 1.0,
    pg_rho_bar: float = 1.0,
) -> VTraceReturns:
    """V-trace targets and advantages (formulas in the module docstring).

    ``behaviour_log_probs``, ``target_log_probs``, ``rewards`` and ``dones`` are (N, T); ``values``
    is (N, T + 1), the last column the bootstrap value V(x_T).
    """
    values = values.float()
    log_ratio = target_log_probs.float() - behaviour_log_probs.float()
    ratio = torch.exp(log_ratio)
    rhos = ratio.clamp(max=rho_bar)
    cs = lam * ratio.clamp(max=c_bar)
    discounts = gamma * (~dones.bool()).float()
    current, following = values[:, :-1], values[:, 1:]
    deltas = rhos * (rewards.float() + discounts * following - current)
    corrections = torch.zeros_like(values)  # v_s - V(x_s), zero at s = T
    for s in range(rewards.shape[1] - 1, -1, -1):
        corrections[:, s] = deltas[:, s] + discounts[:, s] * cs[:, s] * corrections[:, s + 1]
    vs_all = values + corrections
    vs = vs_all[:, :-1]
    advantages = rewards.float() + discounts * vs_all[:, 1:] - current
    return VTraceReturns(vs=vs, advantages=advantages, rhos=rhos, pg_rhos=ratio.clamp(max=pg_rho_bar))


def ppo_policy_loss(
    target_log_probs: Tensor, behaviour_log_probs: Tensor, advantages: Tensor, clip_eps: float
) -> Tensor:
    """-mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)), ratio = pi / mu."""
    ratio = torch.exp(target_log_probs - behaviour_log_probs)
    clipped = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps)
    return -torch.minimum(ratio * advantages, clipped * advantages).mean()


def vtrace_policy_loss(target_log_probs: Tensor, pg_rhos: Tensor, advantages: Tensor) -> Tensor:
    """-mean(pg_rhos * A * log pi), ``pg_rhos`` = min(pg_rho_bar, pi / mu) from ``vtrace`` (constants)."""
    return -(pg_rhos * advantages * target_log_probs).mean()


def value_loss(values: Tensor, targets: Tensor) -> Tensor:
    """1/2 mean (v_s - V(x_s))^2."""
    return 0.5 * (targets - values).pow(2).mean()


def masked_entropy(logits: Tensor) -> Tensor:
    """Entropy (...,) of categorical distributions whose illegal actions have -inf logits."""
    log_p = torch.log_softmax(logits.float(), dim=-1)
    # 0 * log 0 is 0; zeroing -inf before the product keeps NaN out of the gradient too.
    safe = torch.where(torch.isfinite(log_p), log_p, torch.zeros_like(log_p))
    return -(log_p.exp() * safe).sum(dim=-1)


def action_log_probs(logits: Tensor, actions: Tensor) -> Tensor:
    """log pi(a | x) (...,) of ``actions`` (...,) under ``logits`` (..., A)."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def imitation_loss(logits: Tensor, teacher_actions: Tensor) -> Tensor:
    """-mean log pi(b | x) of the teacher's actions ``teacher_actions`` (...,) under ``logits``
    (..., A); positions without advice (-1) or where the teacher's action is illegal under the
    logits' mask are left out."""
    advised = teacher_actions >= 0
    log_p = action_log_probs(logits, teacher_actions.clamp(min=0))
    counted = advised & torch.isfinite(log_p)
    return -torch.where(counted, log_p, torch.zeros_like(log_p)).sum() / counted.sum().clamp(min=1)


def general_loss(general_logits: Tensor, enemy_general: Tensor) -> tuple[Tensor, Tensor]:
    """Cross-entropy of the enemy general's tile ``enemy_general`` (...,; flat index, -1 where
    unknown) under the per-tile logits ``general_logits`` (..., H * W), over the known positions;
    and the share of those where the most likely tile is the general's."""
    known = enemy_general >= 0
    target = enemy_general.clamp(min=0)
    log_p = torch.log_softmax(general_logits.float(), dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    count = known.sum().clamp(min=1)
    loss = -torch.where(known, log_p, torch.zeros_like(log_p)).sum() / count
    with torch.no_grad():
        hits = (general_logits.argmax(dim=-1) == target) & known
    return loss, hits.sum().float() / count


POLICY_LOSSES = ("ppo", "vtrace")
"""The policy losses ``actor_critic_loss`` offers (module docstring)."""


@dataclass(frozen=True)
class LossWeights:
    """What the loss needs from ``TrainConfig``."""

    policy_loss: str = "ppo"
    gamma: float = 0.99
    vtrace_lambda: float = 1.0
    rho_bar: float = 1.0
    c_bar: float = 1.0
    pg_rho_bar: float = 1.0
    clip_eps: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    normalize_advantages: bool = False

    def __post_init__(self) -> None:
        if self.policy_loss not in POLICY_LOSSES:
            choices = ", ".join(POLICY_LOSSES)
            raise ValueError(f"policy_loss must be one of {choices}, got {self.policy_loss!r}")


@dataclass(frozen=True)
class LossOutput:
    """The total loss to differentiate and its parts (detached) for logging."""

    total: Tensor
    policy: Tensor
    value: Tensor
    entropy: Tensor
    metrics: dict[str, Tensor]


def actor_critic_loss(
    logits: Tensor,
    values: Tensor,
    actions: Tensor,
    behaviour_log_probs: Tensor,
    rewards: Tensor,
    dones: Tensor,
    weights: LossWeights,
    teacher_actions: Tensor | None = None,
    teacher_coef: float = 0.0,
    general_logits: Tensor | None = None,
    enemy_general: Tensor | None = None,
    general_coef: float = 0.0,
) -> LossOutput:
    """L of the module docstring. ``logits`` (N, T, A) and ``values`` (N, T + 1) come from the
    learner's network; the rest (N, T) from the trajectories, ``teacher_actions`` too when there is
    a teacher (used while ``teacher_coef`` > 0). With a general head, ``general_logits`` (N, T,
    H * W) and the true tiles ``enemy_general`` (N, T) add ``general_coef`` times
    ``general_loss``."""
    target_log_probs = action_log_probs(logits, actions)
    returns = vtrace(
        behaviour_log_probs,
        target_log_probs.detach(),
        rewards,
        dones,
        values.detach(),
        gamma=weights.gamma,
        lam=weights.vtrace_lambda,
        rho_bar=weights.rho_bar,
        c_bar=weights.c_bar,
        pg_rho_bar=weights.pg_rho_bar,
    )
    advantages = returns.advantages
    if weights.normalize_advantages:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    if weights.policy_loss == "vtrace":
        policy = vtrace_policy_loss(target_log_probs, returns.pg_rhos, advantages)
    else:
        policy = ppo_policy_loss(target_log_probs, behaviour_log_probs.float(), advantages, weights.clip_eps)
    value = value_loss(values[:, :-1].float(), returns.vs)
    entropy = masked_entropy(logits).mean()
    total = policy + weights.value_coef * value - weights.entropy_coef * entropy
    extra: dict[str, Tensor] = {}
    if teacher_actions is not None and teacher_coef > 0:
        imitation = imitation_loss(logits, teacher_actions)
        total = total + teacher_coef * imitation
        with torch.no_grad():
            advised = teacher_actions >= 0
            agreed = (logits.argmax(dim=-1) == teacher_actions) & advised
            agreement = agreed.sum().float() / advised.sum().clamp(min=1)
        if advised.any():  # a batch recorded after the actors dropped the teacher has no advice
            extra = {"teacher_loss": imitation.detach(), "teacher_agreement": agreement}
    if general_logits is not None and enemy_general is not None and general_coef > 0:
        located, accuracy = general_loss(general_logits, enemy_general)
        total = total + general_coef * located
        if bool((enemy_general >= 0).any()):  # else nothing was known: no figures, not a loss of 0
            extra.update(general_loss=located.detach(), general_accuracy=accuracy)
    with torch.no_grad():
        ratio = torch.exp(target_log_probs - behaviour_log_probs)
        metrics = {
            "ratio_mean": ratio.mean(),
            "clip_fraction": ((ratio - 1.0).abs() > weights.clip_eps).float().mean(),
            "rho_mean": returns.rhos.mean(),
            "advantage_std": returns.advantages.std(),
            "value_target_mean": returns.vs.mean(),
            **extra,
        }
    return LossOutput(
        total=total, policy=policy.detach(), value=value.detach(), entropy=entropy.detach(), metrics=metrics
    )
