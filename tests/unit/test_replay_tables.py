"""Replay tables: the sum tree, the samplers (frequencies, probabilities, importance weights), the
removers and capacities, the rate limiter alone and under concurrent writers and readers, and the
table statistics."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from generals_rl.services.common.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument
from generals_rl.services.replay import RateLimiter, RateLimiterConfig, RemoverConfig, SamplerConfig, Table
from generals_rl.services.replay.items import ItemBatch
from generals_rl.services.replay.sumtree import SumTree
from generals_rl.services.replay.testing import item_batch, synthetic, table

# sum tree


def test_the_sum_tree_finds_each_target_in_its_prefix_sum_interval() -> None:
    tree = SumTree(4)
    tree.update([0, 1, 2, 3], [1.0, 0.0, 2.0, 3.0])
    assert tree.total == 6.0
    targets = [0.0, 0.99, 1.0, 2.5, 2.999, 3.0, 5.999, 6.0, 7.0]  # 6.0 and 7.0: past the total
    assert tree.sample(targets).tolist() == [0, 0, 2, 2, 2, 3, 3, 3, 3]  # slot 1 (priority 0) never


def test_the_sum_tree_updates_in_batches_grows_and_keeps_exact_sums() -> None:
    tree = SumTree(2)
    tree.update([0, 1, 0], [5.0, 1.0, 2.0])  # a slot listed twice takes its last value
    assert tree.get([0, 1]).tolist() == [2.0, 1.0] and tree.total == 3.0
    tree.update([9], [4.0])  # past the capacity: the tree doubles until it fits
    assert tree.capacity == 16 and tree.total == 7.0 and tree.get([0, 1, 9]).tolist() == [2.0, 1.0, 4.0]
    rng = np.random.default_rng(0)
    for _ in range(200):  # sums are recomputed from children: no drift after many updates
        slots = rng.integers(0, 16, 5)
        tree.update(slots, rng.random(5) * 1e6)
    assert tree.total == pytest.approx(tree.leaves(16).sum(), rel=0, abs=1e-6)
    with pytest.raises(ValueError):
        tree.update([0], [-1.0])
    with pytest.raises(ValueError):
        SumTree(4).sample([0.0])


# samplers


def prioritized_table(priorities: list[float], alpha: float, beta: float, seed: int = 0) -> Table:
    config = table(sampler=SamplerConfig("prioritized", alpha=alpha, beta=beta))
    t = Table(config, seed=seed)
    for i, p in enumerate(priorities):
        t.insert(item_batch(synthetic(1, 4, 3, seed=i), policy_version=i, priorities=np.array([p])))
    return t


def test_prioritized_sampling_frequencies_match_priorities_chi_square() -> None:
    priorities, alpha = [1.0, 2.0, 3.0, 4.0, 10.0, 0.5], 0.7
    t = prioritized_table(priorities, alpha=alpha, beta=0.4, seed=1234)
    expected_p = np.power(priorities, alpha) / np.power(priorities, alpha).sum()
    counts = np.zeros(len(priorities))
    draws = 0
    for _ in range(200):
        sampled = t.sample(100)
        counts += np.bincount(sampled.items.keys - 1, minlength=len(priorities))
        draws += 100
        np.testing.assert_allclose(sampled.probabilities, expected_p[sampled.items.keys - 1])
    expected = expected_p * draws
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 20.52, (chi2, counts, expected)  # df = 5, p = 0.001


def test_importance_weights_are_normalized_by_the_largest_weight_as_hand_computed() -> None:
    t = prioritized_table([1.0, 4.0], alpha=1.0, beta=0.5)
    sampled = t.sample(400)
    by_key = dict(zip(sampled.items.keys.tolist(), sampled.weights.tolist(), strict=True))
    # P = (0.2, 0.8), N = 2: w = (N P)^-beta = (0.4^-0.5, 1.6^-0.5), the largest 0.4^-0.5.
    assert by_key[1] == pytest.approx(1.0)
    assert by_key[2] == pytest.approx((1.6 / 0.4) ** -0.5)  # 0.5
    np.testing.assert_allclose(np.unique(sampled.probabilities), [0.2, 0.8])
    # beta given per request overrides the table's (annealing); beta 0 gives weights 1.
    assert np.all(t.sample(10, beta=0.0).weights == 1.0)
    full = t.sample(50, beta=1.0)
    assert dict(zip(full.items.keys.tolist(), full.weights.tolist(), strict=True))[2] == pytest.approx(0.25)


def test_updated_priorities_change_sampling_and_missing_keys_are_counted() -> None:
    t = prioritized_table([1.0, 1.0, 1.0], alpha=1.0, beta=1.0)
    assert t.update_priorities(np.array([1, 2, 99]), np.array([0.0, 0.0, 5.0])) == (2, 1)
    assert set(t.sample(50).items.keys.tolist()) == {3}  # priority 0 is never drawn
    with pytest.raises(InvalidArgument):
        t.update_priorities(np.array([3]), np.array([np.nan]))
    with pytest.raises(FailedPrecondition):
        Table(table()).update_priorities(np.array([1]), np.array([1.0]))


def test_new_items_get_the_largest_priority_seen_unless_a_default_is_set() -> None:
    t = prioritized_table([3.0, 7.0], alpha=1.0, beta=1.0)
    t.insert(item_batch(synthetic(1, 4, 3)))
    assert t.items().priorities.tolist() == [3.0, 7.0, 7.0]
    fixed = Table(table(sampler=SamplerConfig("prioritized", 1.0, 1.0, default_priority=0.25)))
    fixed.insert(item_batch(synthetic(2, 4, 3)))
    assert fixed.items().priorities.tolist() == [0.25, 0.25]
    assert Table(table(sampler=SamplerConfig("prioritized", 1.0, 1.0))).default_priority == 1.0


def test_uniform_sampling_draws_every_item_with_probability_one_over_n() -> None:
    t = Table(table(), seed=3)
    t.insert(item_batch(synthetic(4, 4, 3)))
    sampled = t.sample(4000)
    assert np.all(sampled.probabilities == 0.25) and np.all(sampled.weights == 1.0)
    counts = np.bincount(sampled.items.keys - 1)
    assert counts.min() > 900 and counts.max() < 1100


def test_fifo_sampling_with_max_times_one_is_a_queue() -> None:
    t = Table(table(sampler=SamplerConfig("fifo"), remover=RemoverConfig("max_times_sampled", 1)))
    t.insert(item_batch(synthetic(5, 4, 3)))
    assert t.sample(2).items.keys.tolist() == [1, 2]
    assert t.sample(3).items.keys.tolist() == [3, 4, 5]
    assert t.size == 0 and t.counters.removed == 5 and t.samplable() == 0
    with pytest.raises(FailedPrecondition):
        t.sample(1)


def test_items_data_comes_back_byte_for_byte() -> None:
    trajectories = synthetic(3, 4, 3, seed=9, extras=True)
    batch = item_batch(trajectories, policy_version=5)
    t = Table(table(sampler=SamplerConfig("fifo")))
    t.insert(batch)
    sampled = t.sample(1)
    names = [f.name for f in batch.signature]
    item = dict(zip(names, sampled.items.data[0], strict=True))
    assert bytes(item["observations.armies"]) == trajectories.armies[0].tobytes()  # type: ignore[union-attr]
    assert bytes(item["extras.values"]) == trajectories.extras["values"][0].tobytes()  # type: ignore[union-attr]
    assert sampled.items.versions.tolist() == [5]


# removers and capacity


def test_fifo_eviction_at_max_items_and_at_max_bytes() -> None:
    evicted: list[list[int]] = []
    t = Table(
        table(max_items=3, archive=True), on_remove=lambda _, items: evicted.append(items.keys.tolist())
    )
    t.insert(item_batch(synthetic(2, 4, 3)))
    t.insert(item_batch(synthetic(2, 4, 3)))
    assert t.size == 3 and sorted(t.items().keys.tolist()) == [2, 3, 4] and evicted == [[1]]
    t.insert(item_batch(synthetic(5, 4, 3)))  # more than the capacity in one batch
    assert t.items().keys.tolist() == [7, 8, 9] and t.counters.removed == 6
    one = item_batch(synthetic(1, 4, 3)).item_bytes
    small = Table(table(max_bytes=2 * one + 1))
    small.insert(item_batch(synthetic(3, 4, 3)))
    assert small.size == 2 and small.capacity == 2 and small.bytes == 2 * one


def test_max_times_sampled_removes_items_and_redraws_copies_drawn_past_it() -> None:
    t = Table(table(remover=RemoverConfig("max_times_sampled", 2)), seed=0)
    t.insert(item_batch(synthetic(3, 4, 3)))
    assert t.samplable() == 6
    sampled = t.sample(6)  # every item twice in all, whatever the draws
    assert sorted(sampled.items.keys.tolist()) == [1, 1, 2, 2, 3, 3]
    assert t.size == 0 and t.counters.removed == 3 and t.counters.samples == 6
    for key in (1, 2, 3):
        assert sorted(sampled.items.times_sampled[sampled.items.keys == key].tolist()) == [1, 2]


def test_an_item_larger_than_max_bytes_is_refused_and_a_different_signature_too() -> None:
    batch = item_batch(synthetic(1, 4, 3))
    with pytest.raises(Exception, match="max_bytes") as info:
        Table(table(max_bytes=batch.item_bytes - 1)).insert(batch)
    assert type(info.value).__name__ == "ResourceExhausted"
    t = Table(table())
    t.insert(batch)
    with pytest.raises(InvalidArgument, match=r"observations\.armies"):
        t.insert(item_batch(synthetic(1, 4, 5)))  # another board size
    assert t.size == 1 and t.counters.inserts == 1


# rate limiter


def limiter(spi: float, eb: float, min_size: int = 1, size: list[int] | None = None) -> RateLimiter:
    held = size if size is not None else [0]
    return RateLimiter(RateLimiterConfig(min_size, spi, eb), lambda: held[0])


def test_the_rate_limiter_admits_as_reverb_does() -> None:
    size = [0]
    rl = limiter(spi=2.0, eb=4.0, min_size=3, size=size)
    assert rl.allow_samples(1) == 0  # below the minimum size
    # Inserts: I + k <= 3, or diff + 2k <= 2 * 3 + 4 = 10 (diff = 2I - S).
    assert rl.allow_inserts(10) == 5
    rl.inserted(5)
    size[0] = 5
    assert rl.allow_inserts(1) == 0 and rl.diff == 10
    # Samples: diff - k >= 6 - 4 = 2, so 8 of them.
    assert rl.allow_samples(100) == 8
    rl.sampled(8)
    assert rl.allow_samples(1) == 0 and rl.allow_inserts(10) == 4
    with pytest.raises(InvalidArgument):
        RateLimiterConfig(1, 4.0, 2.0)  # error_buffer below samples_per_insert: nothing could go in
    off = limiter(spi=0.0, eb=0.0, min_size=2, size=size)
    assert off.allow_inserts(1000) == 1000 and off.allow_samples(7) == 7


def test_a_wait_past_its_deadline_raises_deadline_exceeded_and_is_counted() -> None:
    async def scenario() -> RateLimiter:
        rl = limiter(spi=1.0, eb=1.0, min_size=1)
        with pytest.raises(DeadlineExceeded, match="rate limiter"):
            # a deadline a busy machine's scheduling delay cannot eat up before the wait begins
            await rl.acquire_samples(1, deadline=asyncio.get_running_loop().time() + 0.5)
        return rl

    rl = asyncio.run(scenario())
    assert rl.sample_waits.waits == 1 and rl.sample_waits.wait_s >= 0.4


def test_the_ratio_holds_with_several_concurrent_writers_and_readers() -> None:
    spi, eb, min_size = 2.0, 12.0, 10

    async def scenario() -> tuple[RateLimiter, list[float]]:
        size = [0]
        rl = limiter(spi, eb, min_size, size)
        diffs: list[float] = []
        rng = random.Random(7)
        done = asyncio.Event()

        async def writer() -> None:
            for _ in range(40):
                k = rng.randint(1, 6)
                while k:
                    allowed, _ = await rl.acquire_inserts(k)
                    rl.inserted(allowed)
                    size[0] += allowed
                    k -= allowed
                    diffs.append(rl.diff)
                await asyncio.sleep(0)

        async def reader() -> None:
            while not done.is_set():
                try:
                    allowed, _ = await rl.acquire_samples(rng.randint(1, 16), rl_deadline())
                except DeadlineExceeded:
                    continue
                rl.sampled(allowed)
                diffs.append(rl.diff)
                await asyncio.sleep(0)

        def rl_deadline() -> float:
            return asyncio.get_running_loop().time() + 0.05

        readers = [asyncio.create_task(reader()) for _ in range(3)]
        await asyncio.gather(*(writer() for _ in range(4)))
        while rl.allow_samples(1):  # let the readers catch up with the last inserts
            await asyncio.sleep(0.01)
        done.set()
        await asyncio.gather(*readers)
        return rl, diffs

    rl, diffs = asyncio.run(scenario())
    target = spi * min_size
    assert max(diffs) <= target + eb + 1e-9  # inserts never ran ahead of the window
    sampling = [d for d in diffs[diffs.index(max(diffs)) :]]
    assert min(sampling) >= target - eb - 1e-9  # samples never ran ahead either
    # Over the run the ratio is the target, within the buffer.
    assert abs(rl.samples - spi * rl.inserts) <= target + eb
    assert rl.insert_waits.waits > 0 and rl.sample_waits.waits > 0


# statistics


def test_table_statistics_count_size_traffic_and_policy_age() -> None:
    t = Table(table(max_items=4, remover=RemoverConfig("max_times_sampled", 3)), seed=0)
    for version in (3, 5, 5, 9):
        t.insert(item_batch(synthetic(1, 4, 3), policy_version=version))
    t.limiter.inserted(4)
    t.sample(5, learner_version=10)
    t.insert(item_batch(synthetic(1, 4, 3), policy_version=11))  # evicts the oldest (version 3)
    stats = t.stats()
    assert (stats.size, stats.inserts, stats.samples) == (4, 5, 5)
    assert stats.removed == 5 - stats.size
    assert stats.bytes == 4 * t.item_bytes
    versions = t.items().versions
    assert (stats.newest_version, stats.oldest_version) == (11, int(versions.min()))
    assert stats.mean_age_versions == pytest.approx(11 - versions.mean())
    assert 1.0 <= stats.sampled_lag_versions <= 7.0  # learner 10 minus versions 3..9
    assert stats.rate_limiter_diff == 0.0 and stats.insert_waits == 0
    empty = Table(table()).stats()
    assert (empty.size, empty.newest_version, empty.mean_age_versions) == (0, 0, 0.0)


def test_checkpoint_state_round_trips() -> None:
    t = prioritized_table([1.0, 2.0], alpha=0.5, beta=0.5)
    t.sample(3, learner_version=4)
    t.limiter.inserted(2)
    state = t.state()
    copy = Table(t.config)
    items = t.items()
    copy.insert(
        ItemBatch(
            t.signature or (),
            tuple(memoryview(b"".join(d[f] for d in items.data)) for f in range(len(t.signature or ()))),
            items.versions,
            items.priorities,
            items.keys,
            items.times_sampled,
        )
    )
    copy.load_state(state)
    assert copy.stats() == t.stats()
    assert copy.items().times_sampled.tolist() == items.times_sampled.tolist()
