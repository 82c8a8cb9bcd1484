"""V-trace targets against a hand-computed example, the PPO clip's behaviour and IMPALA's policy loss."""

from __future__ import annotations

import pytest
import torch

from generals_rl.training.config import TrainConfig
from generals_rl.training.losses import (
    LossWeights,
    actor_critic_loss,
    general_loss,
    imitation_loss,
    masked_entropy,
    ppo_policy_loss,
    vtrace,
    vtrace_policy_loss,
)

# One trajectory of T = 3 steps, gamma = 0.9, lambda = 1, rho_bar = 1.0, c_bar = 0.8.
#   ratios pi/mu = [2.0, 0.5, 1.5]  ->  rho = [1.0, 0.5, 1.0] (steps 0 and 2 truncated),
#                                       c   = [0.8, 0.5, 0.8] (steps 0 and 2 truncated)
#   rewards r = [1, 0, 2];  values V(x_0..x_3) = [0.5, 1.0, -0.5, 2.0] (V(x_3): the bootstrap)
RATIOS = [2.0, 0.5, 1.5]
REWARDS = [1.0, 0.0, 2.0]
VALUES = [0.5, 1.0, -0.5, 2.0]
GAMMA, RHO_BAR, C_BAR = 0.9, 1.0, 0.8


def _inputs(dones: list[bool]) -> tuple[torch.Tensor, ...]:
    """behaviour and target log-probabilities, rewards, dones, values (N = 1)."""
    behaviour = torch.log(torch.tensor([[0.2, 0.4, 0.2]]))
    target = behaviour + torch.log(torch.tensor([RATIOS]))
    return behaviour, target, torch.tensor([REWARDS]), torch.tensor([dones]), torch.tensor([VALUES])


def test_vtrace_matches_a_hand_computed_example_with_clipping() -> None:
    # No episode end, so gamma_s = 0.9 everywhere. Backwards from v_3 = V(x_3) = 2.0:
    #   delta_2 = rho_2 (r_2 + g V3 - V2) = 1.0 * (2 + 1.8 + 0.5)   = 4.3
    #   v_2 - V2 = delta_2 + g c_2 (v_3 - V3) = 4.3 + 0             = 4.3     -> v_2 = 3.8
    #   delta_1 = 0.5 * (0 + 0.9 * -0.5 - 1.0) = 0.5 * -1.45         = -0.725
    #   v_1 - V1 = -0.725 + 0.9 * 0.5 * 4.3 = -0.725 + 1.935         = 1.21    -> v_1 = 2.21
    #   delta_0 = 1.0 * (1 + 0.9 * 1.0 - 0.5)                        = 1.4
    #   v_0 - V0 = 1.4 + 0.9 * 0.8 * 1.21 = 1.4 + 0.8712             = 2.2712  -> v_0 = 2.7712
    #     (without the c clip, c_0 = 1 would give 1.4 + 1.089 = 2.489: the clip shows here)
    # Advantages A_s = r_s + g v_{s+1} - V(x_s):
    #   A_0 = 1 + 0.9 * 2.21 - 0.5 = 2.489;  A_1 = 0 + 0.9 * 3.8 - 1.0 = 2.42;  A_2 = 2 + 1.8 + 0.5 = 4.3
    # IMPALA's pg advantages min(1, ratio_s) * A_s = [2.489, 0.5 * 2.42, 4.3] = [2.489, 1.21, 4.3]
    out = vtrace(*_inputs([False, False, False]), gamma=GAMMA, rho_bar=RHO_BAR, c_bar=C_BAR)
    assert out.vs[0].tolist() == pytest.approx([2.7712, 2.21, 3.8], abs=1e-5)
    assert out.advantages[0].tolist() == pytest.approx([2.489, 2.42, 4.3], abs=1e-5)
    assert (out.pg_rhos * out.advantages)[0].tolist() == pytest.approx([2.489, 1.21, 4.3], abs=1e-5)
    assert out.rhos[0].tolist() == pytest.approx([1.0, 0.5, 1.0], abs=1e-6)


def test_vtrace_does_not_bootstrap_across_an_episode_end() -> None:
    # The episode ends after step 1, so gamma_1 = 0 (step 2 belongs to the next episode):
    #   v_2 = 3.8 as above (delta_2 = 4.3)
    #   delta_1 = 0.5 * (0 + 0 - 1.0) = -0.5;  v_1 - V1 = -0.5 + 0       -> v_1 = 0.5
    #   v_0 - V0 = 1.4 + 0.9 * 0.8 * (-0.5) = 1.04                        -> v_0 = 1.54
    #   A_0 = 1 + 0.9 * 0.5 - 0.5 = 0.95;  A_1 = 0 + 0 - 1.0 = -1.0;  A_2 = 4.3
    out = vtrace(*_inputs([False, True, False]), gamma=GAMMA, rho_bar=RHO_BAR, c_bar=C_BAR)
    assert out.vs[0].tolist() == pytest.approx([1.54, 0.5, 3.8], abs=1e-5)
    assert out.advantages[0].tolist() == pytest.approx([0.95, -1.0, 4.3], abs=1e-5)


def test_on_policy_vtrace_is_the_bootstrapped_discounted_return() -> None:
    torch.manual_seed(0)
    n, t, gamma = 5, 7, 0.97
    rewards, values = torch.randn(n, t), torch.randn(n, t + 1)
    log_probs = torch.randn(n, t)
    out = vtrace(log_probs, log_probs, rewards, torch.zeros(n, t, dtype=torch.bool), values, gamma=gamma)
    expected = torch.zeros(n, t)
    running = values[:, -1]
    for s in range(t - 1, -1, -1):
        running = rewards[:, s] + gamma * running
        expected[:, s] = running
    torch.testing.assert_close(out.vs, expected)


@pytest.mark.parametrize(
    ("ratio", "advantage", "expected", "clipped"),
    [
        (1.5, 1.0, 1.2, True),  # a good action already made more likely: capped at 1 + eps
        (0.5, 1.0, 0.5, False),  # a good action made less likely: the full ratio pulls it back
        (0.5, -1.0, -0.8, True),  # a bad action already made less likely: capped at 1 - eps
        (1.5, -1.0, -1.5, False),  # a bad action made more likely: the full ratio pushes it down
        (1.1, 1.0, 1.1, False),  # inside the clip range: the plain ratio
    ],
)
def test_ppo_clip(ratio: float, advantage: float, expected: float, clipped: bool) -> None:
    behaviour = torch.tensor([-1.0])
    target = (behaviour + torch.log(torch.tensor([ratio]))).requires_grad_()
    loss = ppo_policy_loss(target, behaviour, torch.tensor([advantage]), clip_eps=0.2)
    assert float(loss.detach()) == pytest.approx(-expected, abs=1e-6)
    loss.backward()
    assert target.grad is not None
    if clipped:
        assert float(target.grad) == 0.0  # a clipped sample gives no gradient
    else:
        assert float(target.grad) == pytest.approx(-ratio * advantage, abs=1e-6)


def test_impalas_policy_loss_weights_each_advantage_by_the_truncated_ratio_and_drops_no_sample() -> None:
    # ratios [2.0, 0.5, 1.5], advantages [1, -1, 2], pg_rho_bar = 1 -> weights [1, 0.5, 1]:
    #   d loss / d log pi(a_s) = -weight_s * A_s / 3 = [-1/3, 0.5/3, -2/3]
    # PPO with eps = 0.2 gives none of them a gradient: every ratio has left the clip range in the
    # direction its advantage pushes (good actions already likelier, a bad one already rarer).
    inputs = _inputs([False, False, False])
    behaviour, target = inputs[0], inputs[1]
    pg_rhos = vtrace(*inputs, gamma=GAMMA, pg_rho_bar=1.0).pg_rhos
    assert pg_rhos[0].tolist() == pytest.approx([1.0, 0.5, 1.0])
    advantages = torch.tensor([[1.0, -1.0, 2.0]])
    impala = target.clone().requires_grad_()
    loss = vtrace_policy_loss(impala, pg_rhos, advantages)
    expected = -(torch.tensor([[1.0, 0.5, 1.0]]) * advantages * target).mean()
    assert float(loss.detach()) == pytest.approx(float(expected), abs=1e-6)
    loss.backward()
    assert impala.grad is not None
    assert impala.grad[0].tolist() == pytest.approx([-1 / 3, 0.5 / 3, -2 / 3], abs=1e-6)

    ppo = target.clone().requires_grad_()
    ppo_policy_loss(ppo, behaviour, advantages, clip_eps=0.2).backward()
    assert ppo.grad is not None
    assert ppo.grad[0].tolist() == [0.0, 0.0, 0.0]


def test_the_total_loss_uses_the_policy_loss_the_config_names() -> None:
    torch.manual_seed(0)
    n, t, a = 2, 3, 5
    logits = torch.randn(n, t, a)
    values = torch.randn(n, t + 1)
    actions = torch.randint(0, a, (n, t))
    behaviour = torch.log_softmax(torch.randn(n, t, a), dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    rewards, dones = torch.randn(n, t), torch.zeros(n, t, dtype=torch.bool)
    inputs = (logits, values, actions, behaviour, rewards, dones)
    losses = {
        name: actor_critic_loss(*inputs, LossWeights(policy_loss=name, clip_eps=0.1, pg_rho_bar=0.9))
        for name in ("ppo", "vtrace")
    }
    target = torch.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    defaults = LossWeights()
    returns = vtrace(
        behaviour,
        target,
        rewards,
        dones,
        values,
        gamma=defaults.gamma,
        lam=defaults.vtrace_lambda,
        pg_rho_bar=0.9,
    )
    ppo = ppo_policy_loss(target, behaviour, returns.advantages, 0.1)
    impala = vtrace_policy_loss(target, returns.pg_rhos, returns.advantages)
    assert float(losses["ppo"].policy) == pytest.approx(float(ppo))
    assert float(losses["vtrace"].policy) == pytest.approx(float(impala))
    assert float(ppo) != pytest.approx(float(impala))
    # only the policy term differs
    assert float(losses["ppo"].value) == pytest.approx(float(losses["vtrace"].value))
    with pytest.raises(ValueError, match="policy_loss must be one of ppo, vtrace, got 'a2c'"):
        actor_critic_loss(*inputs, LossWeights(policy_loss="a2c"))
    with pytest.raises(ValueError, match="policy_loss must be one of ppo, vtrace, got 'PPO'"):
        TrainConfig(policy_loss="PPO")


def test_entropy_and_loss_ignore_illegal_actions() -> None:
    logits = torch.tensor([[0.0, 0.0, float("-inf"), float("-inf")]], requires_grad=True)
    entropy = masked_entropy(logits)
    assert float(entropy.detach()) == pytest.approx(float(torch.log(torch.tensor(2.0))))
    entropy.sum().backward()
    assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())

    torch.manual_seed(1)
    n, t, a = 3, 4, 6
    mask = torch.rand(n, t, a) > 0.4
    mask[..., 0] = True
    raw = torch.randn(n, t, a, requires_grad=True)
    values = torch.randn(n, t + 1, requires_grad=True)
    actions = torch.zeros(n, t, dtype=torch.int64)
    out = actor_critic_loss(
        raw.masked_fill(~mask, float("-inf")),
        values,
        actions,
        torch.full((n, t), -1.0),
        torch.randn(n, t),
        torch.zeros(n, t, dtype=torch.bool),
        LossWeights(normalize_advantages=True),
    )
    out.total.backward()
    assert raw.grad is not None and values.grad is not None
    assert bool(torch.isfinite(raw.grad).all()) and bool(torch.isfinite(values.grad).all())
    assert bool((raw.grad[~mask] == 0).all())


def test_imitation_loss_is_the_teachers_negative_log_likelihood_over_legal_moves() -> None:
    # Two positions of three actions; the second position's last action is illegal.
    logits = torch.tensor([[[0.0, 1.0, 2.0], [1.0, 1.0, float("-inf")]]])
    teacher = torch.tensor([[2, 1]])
    first = -torch.log_softmax(torch.tensor([0.0, 1.0, 2.0]), dim=0)[2]
    expected = (float(first) + float(torch.log(torch.tensor(2.0)))) / 2
    assert float(imitation_loss(logits, teacher)) == pytest.approx(expected, abs=1e-6)
    # An illegal teacher move (a teacher that broke the rules) is left out, not an infinite loss.
    assert float(imitation_loss(logits, torch.tensor([[2, 2]]))) == pytest.approx(float(first), abs=1e-6)

    # In the total loss with weight w: exactly w times it more, and only while w > 0.
    values = torch.zeros(1, 3)
    args = (values, torch.tensor([[0, 1]]), torch.tensor([[-1.0, -0.7]]), torch.zeros(1, 2))
    dones = torch.zeros(1, 2, dtype=torch.bool)
    plain = actor_critic_loss(logits, *args, dones, LossWeights())
    kick = actor_critic_loss(logits, *args, dones, LossWeights(), teacher_actions=teacher, teacher_coef=0.5)
    off = actor_critic_loss(logits, *args, dones, LossWeights(), teacher_actions=teacher, teacher_coef=0.0)
    assert float(kick.total - plain.total) == pytest.approx(0.5 * expected, abs=1e-6)
    assert float(off.total) == float(plain.total) and "teacher_loss" not in off.metrics
    assert float(kick.metrics["teacher_agreement"]) == 0.5  # argmax 2 = teacher 2; 0 != 1
    # Experience recorded after the actors dropped the teacher (-1: no advice) adds nothing and
    # reports no imitation figures, rather than a loss of 0 that reads as a perfect imitation.
    unadvised = torch.full_like(teacher, -1)
    none = actor_critic_loss(logits, *args, dones, LossWeights(), teacher_actions=unadvised, teacher_coef=0.5)
    assert float(none.total) == float(plain.total) and "teacher_loss" not in none.metrics


def test_the_general_loss_is_the_true_tiles_negative_log_likelihood_where_it_is_known() -> None:
    # Two positions of four tiles; in the second the general is unknown (-1: captured, or the
    # experience came without it).
    general_logits = torch.tensor([[[0.0, 1.0, 0.5, 2.0], [3.0, 0.0, 0.0, 0.0]]])
    where = torch.tensor([[3, -1]])
    expected = -float(torch.log_softmax(general_logits[0, 0], dim=0)[3])
    loss, accuracy = general_loss(general_logits, where)
    assert float(loss) == pytest.approx(expected, abs=1e-6) and float(accuracy) == 1.0  # argmax 3 = 3
    loss, accuracy = general_loss(general_logits, torch.tensor([[1, 0]]))
    expected_both = -float(torch.log_softmax(general_logits[0, 0], dim=0)[1])
    expected_both -= float(torch.log_softmax(general_logits[0, 1], dim=0)[0])
    assert float(loss) == pytest.approx(expected_both / 2, abs=1e-6) and float(accuracy) == 0.5

    # In the total loss with weight w: exactly w times it more; nothing known adds nothing.
    logits = torch.tensor([[[0.0, 1.0, 2.0], [1.0, 1.0, float("-inf")]]])
    args = (torch.zeros(1, 3), torch.tensor([[0, 1]]), torch.tensor([[-1.0, -0.7]]), torch.zeros(1, 2))
    dones = torch.zeros(1, 2, dtype=torch.bool)
    plain = actor_critic_loss(logits, *args, dones, LossWeights())
    located = actor_critic_loss(
        logits,
        *args,
        dones,
        LossWeights(),
        general_logits=general_logits,
        enemy_general=where,
        general_coef=0.25,
    )
    assert float(located.total - plain.total) == pytest.approx(0.25 * expected, abs=1e-6)
    assert float(located.metrics["general_accuracy"]) == 1.0
    unknown = actor_critic_loss(
        logits,
        *args,
        dones,
        LossWeights(),
        general_logits=general_logits,
        enemy_general=torch.full_like(where, -1),
        general_coef=0.25,
    )
    assert float(unknown.total) == float(plain.total) and "general_loss" not in unknown.metrics
