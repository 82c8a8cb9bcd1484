"""The Model Service over gRPC: in process on a free port, on the embedded storage and on PostgreSQL +
Redis + S3, driven through ``ModelClient``, the raw stub (malformed uploads), ``grl model`` and the
Matchmaker's view of it, as learners, actors and people drive it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc
from typer.testing import CliRunner

from generals_rl.cli.model import model_app
from generals_rl.services.common import Server, ServerConfig, channel
from generals_rl.services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from generals_rl.services.common.wiring import Peers, Stores
from generals_rl.services.matchmaker.peers import GrpcModels
from generals_rl.services.model import (
    Actor,
    LocalModelRegistry,
    ModelClient,
    ModelCore,
    ModelServiceConfig,
    ValidationConfig,
    open_service,
)
from generals_rl.services.model import weights as policy_weights
from generals_rl.services.runner import load_service
from generals_rl.settings import Settings
from generals_rl.storage import open_blobs
from generals_rl.training.networks import PolicyNetwork, build
from generals_rl.v1 import model_pb2, model_pb2_grpc

TINY = '{"channels": 8, "blocks": 1}'
QUICK = ValidationConfig(
    board_sides=(6,), ffa_players=0, boards_per_size=1, play_ticks=6, sanity_games=2, sanity_side=6
)
CONFIG = ModelServiceConfig(validation=QUICK)
MIB = 1024 * 1024


def tiny(seed: int, config: str = TINY) -> PolicyNetwork:
    torch.manual_seed(seed)
    return build("resnet-v1", config)


@pytest.fixture(params=["embedded", "postgresql+redis+s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "embedded":
        yield Settings(data_dir=tmp_path / "data")
        return
    postgres, redis = request.getfixturevalue("postgres_server"), request.getfixturevalue("redis_server")
    blob_uri = request.getfixturevalue("blob_uri")
    name = postgres.create_database()
    try:
        yield Settings(
            data_dir=tmp_path / "data", sql_uri=postgres.uri(name), cache_uri=redis.uri(14), blob_uri=blob_uri
        )
    finally:
        postgres.drop_database(name)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


async def _requests(
    *messages: model_pb2.PublishPolicyRequest,
) -> AsyncIterator[model_pb2.PublishPolicyRequest]:
    for message in messages:
        yield message


def _upload(data: bytes, **metadata: Any) -> list[model_pb2.PublishPolicyRequest]:
    fields = {"architecture": "resnet-v1", "config_json": TINY, "size_bytes": len(data), **metadata}
    return [
        model_pb2.PublishPolicyRequest(metadata=model_pb2.PolicyMetadata(**fields)),
        *(model_pb2.PublishPolicyRequest(chunk=data[i : i + MIB]) for i in range(0, len(data), MIB)),
        model_pb2.PublishPolicyRequest(sha256=hashlib.sha256(data).hexdigest()),
    ]


async def scenario(settings: Settings, tmp_path: Path) -> None:
    stores = await asyncio.to_thread(Stores.open, settings)
    handle = await open_service(settings, stores, Peers(settings), CONFIG)
    try:
        async with Server(handle.services, ServerConfig(port=0)) as server, channel(server.address) as ch:
            await handle.start()
            health = health_pb2_grpc.HealthStub(ch)
            for service in ("", "generals_rl.v1.ModelService"):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            models = ModelClient(ch)
            await publish_and_fetch(models)
            await bad_uploads_store_nothing(models, model_pb2_grpc.ModelServiceStub(ch))
            await lifecycle(models)
            assert await GrpcModels(lambda: ch).accepted("resnet-v1") == [4, 3]  # the Matchmaker sees no v1
            await check_the_cli(server.address, tmp_path)
    finally:
        await handle.close()
        stores.close()


async def publish_and_fetch(models: ModelClient) -> None:
    first = tiny(1)
    v1 = await models.publish(
        first, training_step=10, metrics={"loss": 1.25}, run_id="run-a", publisher="learner"
    )
    assert (v1.version, v1.state, v1.aliases, v1.metadata.metrics) == (
        1,
        "accepted",
        ("latest",),
        {"loss": 1.25},
    )
    assert [c.name for c in v1.checks] == ["loads", "shapes", "finite", "legal_actions", "sanity_match"]
    fetched = await models.fetch("latest")
    assert fetched is not None and fetched[0].version == 1
    for a, b in zip(fetched[1].state_dict().values(), first.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert await models.fetch("latest", if_newer_than=1) is None  # actors poll this way

    nan = tiny(2)
    with torch.no_grad():
        nan.stem[0].bias[0] = math.nan
    v2 = await models.publish(nan, parent_version=1)
    assert (v2.version, v2.state, v2.status_reason) == (2, "rejected", "finite: NaN in stem.0.bias")
    with pytest.raises(FailedPrecondition, match="REJECTED"):
        await models.fetch(2)
    latest = await models.fetch_bytes("latest")
    assert isinstance(latest, tuple) and latest[0].version == 1

    # a policy of several chunks; its parent is v1
    big = tiny(3, '{"channels": 96, "blocks": 4}')
    v3 = await models.publish(big, parent_version=1, training_step=20, request_id="run-a:20", run_id="run-a")
    assert v3.state == "accepted" and v3.metadata.size_bytes > 2 * MIB
    got = await models.fetch_bytes(3, if_newer_than=1)
    assert isinstance(got, tuple) and got[1] == policy_weights.encode(big)
    again = await models.publish(tiny(9), parent_version=1, request_id="run-a:20")  # a retry
    assert again.version == 3 and again.sha256 == v3.sha256


async def bad_uploads_store_nothing(models: ModelClient, stub: model_pb2_grpc.ModelServiceStub) -> None:
    before = (await models.list_versions(page_size=1000), await models.list_events(page_size=1000))
    data = policy_weights.encode(tiny(4))
    good = _upload(data)
    meta, chunk, checksum = good[0], good[1], good[-1]
    cases: list[tuple[list[model_pb2.PublishPolicyRequest], grpc.StatusCode, str]] = [
        (
            [chunk, checksum],
            grpc.StatusCode.INVALID_ARGUMENT,
            "first message of an upload must be its metadata",
        ),
        (
            [*_upload(b"x" * (2 * MIB))[:1], model_pb2.PublishPolicyRequest(chunk=b"x" * (2 * MIB))],
            grpc.StatusCode.INVALID_ARGUMENT,
            "chunks carry 1..1048576 bytes",
        ),
        (
            [meta, model_pb2.PublishPolicyRequest(chunk=chunk.chunk[:100]), checksum],
            grpc.StatusCode.INVALID_ARGUMENT,
            "ended after 100",
        ),
        ([meta, chunk], grpc.StatusCode.INVALID_ARGUMENT, "without its sha256"),
        (
            [meta, chunk, model_pb2.PublishPolicyRequest(sha256="0" * 64)],
            grpc.StatusCode.INVALID_ARGUMENT,
            "checksum mismatch",
        ),
        (
            _upload(data, architecture="gpt-7"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "unknown architecture 'gpt-7'",
        ),
        (_upload(data, config_json="[1]"), grpc.StatusCode.INVALID_ARGUMENT, "must be a JSON object"),
        (_upload(data, size_bytes=2**31), grpc.StatusCode.RESOURCE_EXHAUSTED, "1 GiB"),
        (
            [model_pb2.PublishPolicyRequest()],
            grpc.StatusCode.INVALID_ARGUMENT,
            "must set metadata, chunk or sha256",
        ),
        (_upload(data, parent_version=77), grpc.StatusCode.NOT_FOUND, "parent version 77 does not exist"),
    ]
    for messages, code, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.PublishPolicy(_requests(*messages))
        assert caught.value.code() == code and message in (caught.value.details() or ""), caught.value
    after = (await models.list_versions(page_size=1000), await models.list_events(page_size=1000))
    assert after == before

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.GetPolicy(model_pb2.GetPolicyRequest()):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(NotFound, match="there is no version 99"):
        await models.fetch(99)
    with pytest.raises(NotFound, match="there is no alias 'candidate'"):
        await models.fetch("candidate")
    with pytest.raises(InvalidArgument, match="an alias is a lowercase letter"):
        await models.promote(1, "Bad Alias", Actor("alice"))


async def lifecycle(models: ModelClient) -> None:
    v4 = await models.publish(tiny(4), parent_version=3, publisher="learner")
    assert v4.version == 4 and v4.aliases == ("latest",)
    await models.promote(3, "champion", Actor("alice", "beat v1"))
    moved = await models.promote(4, "", Actor("alice", "beat v3"))
    assert (moved.name, moved.version, moved.previous_version) == ("champion", 4, 3)
    back = await models.rollback("", 0, Actor("bob", "regression vs gatherer"))
    assert (back.version, back.previous_version, back.updated_by.name) == (3, 4, "bob")
    served = await models.fetch_bytes("champion")  # a rollback serves the earlier version
    assert isinstance(served, tuple) and served[0].version == 3 and "champion" in served[0].aliases
    with pytest.raises(FailedPrecondition, match="alias 'champion' points at version 3"):
        await models.retire(3, Actor("bob", "old"))
    retired = await models.retire(1, Actor("bob", "superseded"))
    assert retired.state == "retired" and retired.status_reason == "superseded"
    with pytest.raises(FailedPrecondition, match="RETIRED"):
        await models.promote(1, "candidate", Actor("bob"))
    lineage = await models.lineage(4)
    assert [a.version for a in lineage.ancestors] == [3, 1]
    assert [c.version for c in (await models.lineage(1)).children] == [2, 3]
    aliases = {a.name: (a.version, a.previous_version) for a in await models.list_aliases()}
    assert aliases == {"champion": (3, 4), "latest": (4, 3)}
    log = await models.list_events(alias="champion")
    assert [(e.kind, e.version, e.actor.reason) for e in log.events] == [
        ("alias_set", 3, "regression vs gatherer"),
        ("alias_set", 4, "beat v3"),
        ("alias_set", 3, "beat v1"),
    ]
    rejected = await models.list_versions(state="rejected")
    assert [v.version for v in rejected.versions] == [2]


async def check_the_cli(address: str, tmp_path: Path) -> None:
    runner = CliRunner()

    async def grl(*args: str) -> Any:
        return await asyncio.to_thread(runner.invoke, model_app, [*args, "--via", address])

    result = await grl("list", "--state", "accepted")
    assert result.exit_code == 0, result.output
    assert (
        "policy versions" in result.output and "accepted" in result.output and "rejected" not in result.output
    )
    result = await grl("show", "champion")
    assert result.exit_code == 0, result.output
    assert "version 3 accepted" in result.output and "pass sanity_match" in result.output
    assert "lineage: 1" in result.output and "regression vs gatherer" in result.output
    result = await grl("promote", "4", "--reason", "fixed", "--by", "carol")
    assert result.exit_code == 0 and "champion -> version 4 (was 3)" in result.output, result.output
    result = await grl("rollback", "--to", "3", "--reason", "again", "--by", "carol")
    assert result.exit_code == 0 and "champion rolled back to version 3 (was 4)" in result.output, (
        result.output
    )
    out = tmp_path / "champion.safetensors"
    result = await grl("export", "champion", "--out", str(out))
    assert result.exit_code == 0, result.output
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["version"] == 3 and sidecar["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    result = await grl("promote", "2")
    assert result.exit_code == 2 and "only accepted versions can be promoted" in result.output
    result = await grl("show", "nope")
    assert result.exit_code == 2 and "there is no alias 'nope'" in result.output


def test_the_model_service_over_grpc(settings: Settings, tmp_path: Path) -> None:
    asyncio.run(scenario(settings, tmp_path))


def test_grl_serve_finds_the_model_service() -> None:
    assert load_service("model") is open_service


def test_grl_model_reads_the_local_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRL_DATA_DIR", str(tmp_path / "data"))
    for name in ("GRL_SQL_URI", "GRL_CACHE_URI", "GRL_BLOB_URI"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(model_app, ["list"])
    assert result.exit_code == 0 and "no model registry yet" in result.output, result.output

    async def publish() -> None:  # as a learner in the same process would
        stores = await asyncio.to_thread(Stores.open, Settings.from_env())
        try:
            registry = LocalModelRegistry(ModelCore(stores.database, stores.blobs, CONFIG))
            assert (await registry.publish(tiny(1))).state == "accepted"
        finally:
            stores.close()

    asyncio.run(publish())
    result = CliRunner().invoke(model_app, ["show", "latest"])
    assert result.exit_code == 0 and "version 1 accepted" in result.output, result.output
    result = CliRunner().invoke(model_app, ["promote", "1", "--by", "dave", "--reason", "first"])
    assert result.exit_code == 0 and "champion -> version 1" in result.output, result.output
    result = CliRunner().invoke(model_app, ["list"])
    assert result.exit_code == 0 and "champion" in result.output, result.output


@pytest.fixture
def blob_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """An S3 bucket prefix (the shared fixture's S3 variant only: the embedded case has its folder)."""
    server = request.getfixturevalue("s3_server")
    uri = server.uri(f"grl-model-{secrets.token_hex(3)}", "run")
    store = open_blobs(uri)
    store.ensure_buckets()
    store.close()
    yield uri
