"""The dashboard's rates (``dashboard.Rates``): steady for counters that grow in bursts, following a
change of pace within the window, never negative."""

from __future__ import annotations

import pytest

from generals_rl.training.dashboard import Rates


def test_a_counter_that_grows_in_bursts_reads_steady() -> None:
    # a rollout of 64 trajectories every 4 s, polled every 2 s: 16 a second, in bursts
    rates = Rates(window_s=20.0)
    readings = []
    for poll in range(40):
        now = 2.0 * poll
        inserts = 64 * (poll // 2)
        readings.append((now, rates.add(now, inserts)))
    assert readings[0][1] is None  # nothing to compare the first poll with
    steady = [rate[0] for now, rate in readings if now >= 24.0 and rate is not None]
    assert len(steady) == 28
    assert all(12.0 <= r <= 20.0 for r in steady), steady  # not 0 and 32 by turns


def test_a_change_of_pace_shows_within_the_window() -> None:
    rates = Rates(window_s=10.0)
    count = 0
    for second in range(31):
        count += 10 if second <= 15 else 40
        reading = rates.add(float(second), count, 2 * count)
        assert reading is not None or second == 0
        if second == 15:
            assert reading == pytest.approx((10.0, 20.0))
    assert reading == pytest.approx((40.0, 80.0))  # 15 s after the change, the window holds only it


def test_a_counter_that_went_back_reads_0() -> None:
    rates = Rates(window_s=20.0)
    rates.add(0.0, 1000)
    assert rates.add(2.0, 400) == (0.0,)  # a restarted service restored fewer than it had counted
