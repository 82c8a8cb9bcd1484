"""The learner: checkpoints resume exactly, DDP on two gloo processes equals one process on the
whole batch, and a short seeded run beats ``random`` more often than the untrained network."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from generals_rl.agents import make_agent
from generals_rl.game import MapConfig, MapPool
from generals_rl.storage import open_blobs
from generals_rl.training.config import TrainConfig
from generals_rl.training.learner import BUCKET, Learner
from generals_rl.training.networks import build
from generals_rl.training.rollout import RolloutCollector
from generals_rl.training.serial import evaluate, train
from generals_rl.training.train import share_cores

# float32: bf16 gradients summed over differently split batches (DDP vs one process) differ by
# more than the 1e-4 these tests compare at. The plain network: configs saved before its options.
TINY = TrainConfig(
    channels=8,
    blocks=1,
    global_context=False,
    distance_features=False,
    memory=False,
    minibatch=0,
    lr=3e-3,
    normalize_advantages=False,
    mixed_precision=False,
)


def _batches(
    count: int, games: int = 4, unroll: int = 5, seed: int = 0, teacher: str = ""
) -> list[dict[str, torch.Tensor]]:
    """``count`` rollouts of a fixed random network on 6x6 maps, as tensor dicts."""
    torch.manual_seed(seed)
    network = build("resnet-v1", TINY.network_config())
    collector = RolloutCollector(
        network,
        games=games,
        unroll=unroll,
        maps=MapPool(MapConfig.generalsio_1v1().with_side(6), seed=seed),
        opponents={"self": 1.0, "random": 1.0},
        reward=TINY.reward_config(),
        seed=seed,
        mixed_precision=TINY.mixed_precision,
        teacher=make_agent(teacher, seed) if teacher else None,
    )
    return [collector.collect().trajectories.to_torch() for _ in range(count)]


def _learner(seed: int, config: TrainConfig = TINY) -> Learner:
    torch.manual_seed(seed)
    return Learner(build("resnet-v1", config.network_config()), config)


def _parameters(learner: Learner) -> list[torch.Tensor]:
    return [p.detach().clone() for p in learner.network.parameters()]


def test_resume_continues_from_the_checkpoint_step_with_the_same_optimizer_state(tmp_path: Path) -> None:
    store = open_blobs(f"file://{tmp_path}")
    store.ensure_buckets()
    batches = _batches(5)
    first = _learner(seed=1)
    for batch in batches[:3]:
        first.update(batch)
    key = first.checkpoint(store, "run", extra={"train_s": 12.5})
    assert key is not None and store.get(BUCKET, "run/latest").decode() == key
    saved_optimizer = copy.deepcopy(first.optimizer.state_dict())
    for batch in batches[3:]:
        first.update(batch)

    second = _learner(seed=2)  # other initial weights: everything must come from the checkpoint
    assert second.resume(store, "run") == {"train_s": 12.5}
    assert second.step == 3
    resumed = second.optimizer.state_dict()
    assert resumed["param_groups"] == saved_optimizer["param_groups"]
    for index, state in saved_optimizer["state"].items():
        assert int(resumed["state"][index]["step"]) == int(state["step"]) == 3
        for name in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(resumed["state"][index][name], state[name])
    for batch in batches[3:]:
        second.update(batch)
    assert second.step == first.step == 5
    for a, b in zip(_parameters(first), _parameters(second), strict=True):
        assert torch.equal(a, b)


def test_resume_without_a_checkpoint_starts_fresh(tmp_path: Path) -> None:
    store = open_blobs(f"file://{tmp_path}")
    store.ensure_buckets()
    learner = _learner(seed=0)
    assert learner.resume(store, "nothing-here") is None and learner.step == 0


def test_a_checkpoint_resumes_when_its_config_predates_a_defaulted_field_and_not_for_another_net() -> None:
    learner = _learner(seed=0)
    state = learner.state_dict()
    older = {**state, "network_config": '{"blocks": 1, "channels": 8}'}  # before global_context
    _learner(seed=1).load_state_dict(older)
    with pytest.raises(ValueError, match="the checkpoint holds resnet-v1"):
        _learner(seed=1).load_state_dict({**state, "network_config": '{"blocks": 2, "channels": 8}'})


def test_checkpoints_keep_only_the_newest(tmp_path: Path) -> None:
    store = open_blobs(f"file://{tmp_path}")
    store.ensure_buckets()
    learner = _learner(seed=0)
    for batch in _batches(4):
        learner.update(batch)
        learner.checkpoint(store, "run", keep=2)
    assert store.list(BUCKET, "run/ckpt-") == ["run/ckpt-0000000003.pt", "run/ckpt-0000000004.pt"]


def test_the_curriculum_leads_up_to_the_run_maps_and_skips_sides_not_below_them() -> None:
    config = dataclasses.replace(TINY, curriculum_sides=(12, 16, 20), curriculum_updates=10, map_side=0)
    assert [config.stage_side(u) for u in (0, 9, 10, 19, 20, 1000)] == [12, 12, 16, 16, 0, 0]  # 20 > 18
    small = dataclasses.replace(config, map_side=6)
    assert [small.stage_side(u) for u in (0, 25)] == [6, 6]
    assert [dataclasses.replace(config, map_side=14).stage_side(u) for u in (0, 10)] == [12, 14]


def test_the_learning_rate_decays_over_the_budget_or_lr_decay_s_and_then_holds() -> None:
    config = dataclasses.replace(TINY, lr=1e-3, lr_final=1e-4, time_budget_s=100.0, total_updates=0)
    assert [config.learning_rate(0, s) for s in (0.0, 50.0, 100.0)] == pytest.approx([1e-3, 5.5e-4, 1e-4])
    early = dataclasses.replace(config, lr_decay_s=20.0)
    assert [early.learning_rate(0, s) for s in (10.0, 20.0, 90.0)] == pytest.approx([5.5e-4, 1e-4, 1e-4])
    by_updates = dataclasses.replace(config, total_updates=10, time_budget_s=0.0)
    assert by_updates.learning_rate(5, 1e6) == pytest.approx(5.5e-4)  # no time budget: updates only
    assert dataclasses.replace(config, lr_final=1e-3).learning_rate(7, 60.0) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="lr_decay_s"):
        dataclasses.replace(config, lr_decay_s=-1.0)


def test_grl_train_gives_the_learner_the_cores_its_actors_leave_plus_one() -> None:
    auto = dataclasses.replace(TINY, threads=0, learner_threads=0)
    shared = [share_cores(auto, actors, cores) for actors, cores in ((1, 2), (2, 4), (8, 16), (4, 2))]
    assert [(c.threads, c.learner_threads) for c in shared] == [(1, 2), (1, 3), (1, 9), (1, 1)]
    assert share_cores(dataclasses.replace(auto, learner_threads=1), 1, 2).learner_threads == 1
    assert share_cores(dataclasses.replace(auto, threads=3), 1, 2).threads == 3  # set threads stay
    with pytest.raises(ValueError, match="learner_threads"):
        dataclasses.replace(TINY, learner_threads=-1)


def test_kickstarting_teaches_the_teachers_moves_with_a_decaying_weight() -> None:
    torch.set_num_threads(1)
    config = dataclasses.replace(TINY, teacher="expander", teacher_coef=1.0, teacher_decay_updates=100)
    assert [config.teacher_weight(u) for u in (0, 50, 100, 150)] == [1.0, 0.5, 0.0, 0.0]
    assert dataclasses.replace(config, teacher="").teacher_weight(0) == 0.0
    # Demonstrations first: the weight holds while the teacher plays, then decays.
    playing = dataclasses.replace(config, teacher_plays_updates=40)
    assert [playing.teacher_weight(u) for u in (0, 39, 40, 90, 140)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    assert [playing.teacher_plays(u) for u in (0, 39, 40)] == [True, True, False]
    assert not config.teacher_plays(0)
    with pytest.raises(ValueError, match="teacher_plays_updates needs a teacher"):
        dataclasses.replace(playing, teacher="")
    with pytest.raises(ValueError, match="non-negative"):
        dataclasses.replace(config, teacher_plays_updates=-1)
    batch = _batches(1, games=8, unroll=8, teacher="expander")[0]
    learner = _learner(seed=0, config=config)
    first = learner.update(batch)
    for _ in range(40):
        last = learner.update(batch)
    assert first["teacher_agreement"] + 0.25 < last["teacher_agreement"], (first, last)
    assert last["teacher_agreement"] > 0.8, last
    assert last["teacher_loss"] < first["teacher_loss"] / 2
    learner.step = 100  # the weight is 0 from here: no teacher term at all
    assert "teacher_agreement" not in learner.update(batch)


def _ddp_rank(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    # A file store: no TCPStore server thread in rank 0 that can outlive the group at exit.
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world)
    try:
        batches = torch.load(Path(folder) / "batches.pt", weights_only=True)
        learner = _learner(seed=7)
        assert learner.model is not learner.network  # wrapped in DDP
        for batch in batches:
            half = batch["actions"].shape[0] // world
            learner.update({k: v[rank * half : (rank + 1) * half] for k, v in batch.items()})
        torch.save(_parameters(learner), Path(folder) / f"rank{rank}.pt")
        dist.barrier()  # neither rank tears the group down while the other still talks to it
    finally:
        dist.destroy_process_group()


def test_ddp_on_two_gloo_processes_matches_one_process_on_the_whole_batch(tmp_path: Path) -> None:
    batches = _batches(3, games=4)  # 6 trajectories a batch: 3 per rank
    torch.save(batches, tmp_path / "batches.pt")
    mp.spawn(_ddp_rank, args=(2, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]

    single = _learner(seed=7)
    for batch in batches:
        single.update(batch)
    for p0, p1, p in zip(ranks[0], ranks[1], _parameters(single), strict=True):
        assert torch.equal(p0, p1)  # DDP keeps the ranks identical
        torch.testing.assert_close(p0, p, rtol=1e-4, atol=1e-5)
    assert any(not torch.equal(p, q) for p, q in zip(_parameters(_learner(seed=7)), ranks[0], strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("norm", "policy_loss"), [("group", "ppo"), ("none", "ppo"), ("group", "vtrace")])
def test_a_short_seeded_run_beats_random_more_often(norm: str, policy_loss: str) -> None:
    config = dataclasses.replace(
        TrainConfig(),
        norm=norm,
        policy_loss=policy_loss,
        seed=3,
        threads=2,
        map_side=6,
        games=64,
        unroll=16,
        max_ticks=200,
        opponents=(("self", 0.5), ("random", 0.5)),
        channels=16,
        blocks=1,
        minibatch=32,
        lr=3e-3,
        lr_final=3e-3,
        vtrace_lambda=0.7,
        time_budget_s=0,
        total_updates=300,
        eval_every_s=-1,
        log_every=10_000,
    )
    maps = config.map_config()
    torch.manual_seed(config.seed)
    initial = build(config.arch, config.network_config())
    before = evaluate(copy.deepcopy(initial), "random", 100, maps, seed=99, max_ticks=200)
    after = evaluate(train(config, network=initial).network, "random", 100, maps, seed=99, max_ticks=200)
    assert before.games == after.games == 100
    assert after.interval[0] > before.interval[1], (before, after)
