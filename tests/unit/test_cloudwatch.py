"""The CloudWatch publisher of the scaling metrics: silent without configuration, and what it
sends when configured (moto's in-process CloudWatch)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from generals_rl.services.common.cloudwatch import (
    EXPERIENCES_RECORDED,
    GAME_QUEUE_LENGTH,
    CloudWatchPublisher,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def sums(client: Any, name: str) -> list[float]:
    now = datetime.now(UTC)
    stats = client.get_metric_statistics(
        Namespace="GeneralsRL",
        MetricName=name,
        Dimensions=[{"Name": "Deployment", "Value": "grl-test"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Sum"],
    )
    return [point["Sum"] for point in stats["Datapoints"]]


def test_without_a_namespace_nothing_is_sent() -> None:
    publisher = CloudWatchPublisher.from_env({})
    publisher.gauge(GAME_QUEUE_LENGTH, lambda: 1 / 0)
    publisher.count(EXPERIENCES_RECORDED, 5)
    assert not publisher.enabled
    assert publisher.flush() == 0
    asyncio.run(publisher.run())  # returns at once


def test_gauges_and_counts_reach_cloudwatch(aws: Any) -> None:
    publisher = CloudWatchPublisher.from_env(
        {"GRL_CLOUDWATCH_NAMESPACE": "GeneralsRL", "GRL_DEPLOYMENT": "grl-test"}
    )
    waiting = [3]
    publisher.gauge(GAME_QUEUE_LENGTH, lambda: waiting[0])
    publisher.count(EXPERIENCES_RECORDED, 256)
    publisher.count(EXPERIENCES_RECORDED, 256)
    assert publisher.flush() == 2
    assert sums(aws, GAME_QUEUE_LENGTH) == [3.0]
    assert sums(aws, EXPERIENCES_RECORDED) == [512.0]
    # A counter with nothing new is sent as 0: idle is data, not silence.
    assert publisher.flush() == 2
    assert sum(sums(aws, EXPERIENCES_RECORDED)) == 512.0


def test_a_broken_gauge_or_cloudwatch_does_not_raise() -> None:
    class Failing:
        def put_metric_data(self, **_: Any) -> None:
            raise RuntimeError("throttled")

    publisher = CloudWatchPublisher("GeneralsRL", client=Failing())
    publisher.gauge("Broken", lambda: 1 / 0)
    publisher.declare_count(EXPERIENCES_RECORDED)
    assert publisher.flush() == 0


def test_run_flushes_each_period_and_once_more_when_cancelled() -> None:
    sent: list[list[dict[str, Any]]] = []

    class Recorder:
        def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
            sent.append(MetricData)

    async def scenario() -> None:
        publisher = CloudWatchPublisher("GeneralsRL", period_s=0.05, client=Recorder())
        publisher.count(EXPERIENCES_RECORDED, 1)
        task = asyncio.create_task(publisher.run())
        await asyncio.sleep(0.12)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert len(sent) >= 2
    assert sent[0][0]["Value"] == 1.0 and all(batch[0]["Value"] == 0.0 for batch in sent[1:])
