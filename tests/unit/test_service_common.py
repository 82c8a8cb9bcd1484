"""The service backbone: error mapping, health, reflection, graceful shutdown, metrics, logs, tensors.

A throwaway Game and Model servicer runs in-process on a free port; clients use ``channel``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import threading
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import grpc
import grpc.aio
import numpy as np
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from generals_rl.services.common import errors, tensors
from generals_rl.services.common.channels import channel, channel_options
from generals_rl.services.common.interceptors import INTERNAL_MESSAGE
from generals_rl.services.common.logging import configure_logging, installed_log_handler
from generals_rl.services.common.server import Server, ServerConfig, bind
from generals_rl.v1 import common_pb2, game_pb2, game_pb2_grpc, model_pb2, model_pb2_grpc

pytestmark = pytest.mark.timeout(60)

GAME = game_pb2.DESCRIPTOR.services_by_name["GameService"]
MODEL = model_pb2.DESCRIPTOR.services_by_name["ModelService"]
ERROR_CLASSES = {cls.__name__: cls for cls in errors.ERRORS}


def fail_as(name: str) -> None:
    """Raise the domain error named ``name`` ("NotFound", ...), or a bug for "boom"."""
    if name in ERROR_CLASSES:
        raise ERROR_CLASSES[name](f"{name} says: bad game {name!r}")
    if name == "boom":
        raise RuntimeError("secret internals")


class FakeGame(game_pb2_grpc.GameServiceServicer):
    """GetGame fails as its id says; StreamView sends ``tick`` views then fails as the id says;
    SubmitMoves sleeps for ``actions[0]`` ms (in-flight calls); StepBatch echoes steps and decodes
    the actions tensor with the codec."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def GetGame(
        self, request: game_pb2.GetGameRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.Game:
        if request.game_id == "abort":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "aborted by the handler")
        fail_as(request.game_id)
        return game_pb2.Game(game_id=request.game_id)

    async def StreamView(
        self, request: game_pb2.StreamViewRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[game_pb2.GameView]:
        for tick in range(int(request.player_token or 0)):
            yield game_pb2.GameView(game_id=request.game_id, tick=tick)
        fail_as(request.game_id)

    async def SubmitMoves(
        self, request: game_pb2.SubmitMovesRequest, context: grpc.aio.ServicerContext
    ) -> game_pb2.SubmitMovesResponse:
        self.started.set()
        await asyncio.sleep(request.actions[0] / 1000 if request.actions else 0)
        return game_pb2.SubmitMovesResponse(queue_length=len(request.actions))

    async def StepBatch(
        self, request_iterator: AsyncIterator[game_pb2.StepBatchRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[game_pb2.StepBatchResponse]:
        async for request in request_iterator:
            if request.HasField("create"):
                fail_as("boom" if request.create.seed else "")
                yield game_pb2.StepBatchResponse(step=0)
                continue
            actions = tensors.to_torch(
                request.actions.actions, name="actions.actions", dtypes=tensors.INT_DTYPES, shape=(2, None)
            )
            yield game_pb2.StepBatchResponse(
                step=request.actions.step, rewards=tensors.encode(actions.float())
            )


class FakeModel(model_pb2_grpc.ModelServiceServicer):
    """PublishPolicy counts chunk bytes and checks them against the metadata's size."""

    async def PublishPolicy(
        self,
        request_iterator: AsyncIterator[model_pb2.PublishPolicyRequest],
        context: grpc.aio.ServicerContext,
    ) -> model_pb2.PolicyVersion:
        size, expected = 0, -1
        async for part in request_iterator:
            if part.HasField("metadata"):
                expected = part.metadata.size_bytes
            elif part.HasField("chunk"):
                size += len(part.chunk)
        if size != expected:
            raise errors.InvalidArgument(f"got {size} bytes, metadata says {expected}")
        return model_pb2.PolicyVersion(version=1)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def services(game: FakeGame | None = None) -> list[Any]:
    return [bind(game or FakeGame(), GAME), bind(FakeModel(), MODEL)]


async def code_of(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), caught.value.details() or ""


@pytest.mark.parametrize("name", sorted(ERROR_CLASSES))
def test_domain_errors_map_to_their_codes_unary(name: str) -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            code, details = await code_of(stub.GetGame(game_pb2.GetGameRequest(game_id=name)))
            assert code == ERROR_CLASSES[name].code
            assert details == f"{name} says: bad game {name!r}"

    run(scenario)


def test_domain_errors_map_to_codes_in_server_streams() -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            call = stub.StreamView(game_pb2.StreamViewRequest(game_id="NotFound", player_token="2"))
            ticks = []
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for view in call:
                    ticks.append(view.tick)
            assert ticks == [0, 1]
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            assert caught.value.details() == "NotFound says: bad game 'NotFound'"
            # Before the first message, and a stream that ends well.
            call = stub.StreamView(game_pb2.StreamViewRequest(game_id="FailedPrecondition"))
            assert (await code_of(call.read()))[0] == grpc.StatusCode.FAILED_PRECONDITION
            views = [
                v async for v in stub.StreamView(game_pb2.StreamViewRequest(game_id="ok", player_token="3"))
            ]
            assert [v.tick for v in views] == [0, 1, 2]

    run(scenario)


def test_domain_errors_map_to_codes_in_client_and_bidi_streams() -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            model = model_pb2_grpc.ModelServiceStub(ch)

            async def upload(size: int, chunks: int) -> AsyncIterator[model_pb2.PublishPolicyRequest]:
                yield model_pb2.PublishPolicyRequest(metadata=model_pb2.PolicyMetadata(size_bytes=size))
                for _ in range(chunks):
                    yield model_pb2.PublishPolicyRequest(chunk=b"x" * 10)

            assert (await model.PublishPolicy(upload(30, 3))).version == 1
            code, details = await code_of(model.PublishPolicy(upload(30, 2)))
            assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "got 20 bytes, metadata says 30")

            game = game_pb2_grpc.GameServiceStub(ch)
            good = tensors.encode(torch.tensor([[1, 2], [3, 4]], dtype=torch.int32))
            bad = tensors.encode(torch.tensor([[1.0, 2.0]]))
            stream = game.StepBatch()
            await stream.write(game_pb2.StepBatchRequest(create=game_pb2.BatchSpec(num_games=2)))
            assert (await stream.read()).step == 0
            await stream.write(game_pb2.StepBatchRequest(actions=game_pb2.BatchActions(step=1, actions=good)))
            reply = await stream.read()
            assert reply.step == 1 and tensors.to_torch(reply.rewards).tolist() == [[1.0, 2.0], [3.0, 4.0]]
            await stream.write(game_pb2.StepBatchRequest(actions=game_pb2.BatchActions(step=2, actions=bad)))
            code, details = await code_of(stream.read())
            assert code == grpc.StatusCode.INVALID_ARGUMENT
            assert details == "actions.actions: dtype must be int32 or int64, got float32"

    run(scenario)


def test_unexpected_exception_is_internal_logged_and_the_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            with caplog.at_level(logging.INFO, logger="generals_rl.rpc"):
                code, details = await code_of(stub.GetGame(game_pb2.GetGameRequest(game_id="boom")))
                assert (code, details) == (grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)
                assert "secret" not in details
                # In a bidi stream too, after a first good exchange.
                stream = stub.StepBatch()
                await stream.write(game_pb2.StepBatchRequest(create=game_pb2.BatchSpec(seed=1)))
                assert (await code_of(stream.read()))[0] == grpc.StatusCode.INTERNAL
            failures = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert len(failures) == 2
            assert failures[0].exc_info is not None and "secret internals" in str(failures[0].exc_info[1])
            assert getattr(failures[0], "rpc", None) == "GameService/GetGame"
            assert (await stub.GetGame(game_pb2.GetGameRequest(game_id="next"))).game_id == "next"

    run(scenario)


def test_a_handler_that_aborts_keeps_its_status_and_unimplemented_rpcs_say_so() -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            code, details = await code_of(stub.GetGame(game_pb2.GetGameRequest(game_id="abort")))
            assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED, "aborted by the handler")
            assert (await code_of(stub.ListGames(game_pb2.ListGamesRequest())))[
                0
            ] == grpc.StatusCode.UNIMPLEMENTED

    run(scenario)


def test_clients_get_the_domain_error_back() -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            for name, cls in ERROR_CLASSES.items():
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.GetGame(game_pb2.GetGameRequest(game_id=name))
                error = errors.from_rpc_error(caught.value)
                assert type(error) is cls and error.message == f"{name} says: bad game {name!r}"
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetGame(game_pb2.GetGameRequest(game_id="boom"))
            error = errors.from_rpc_error(caught.value)
            assert isinstance(error, errors.RemoteError) and error.code == grpc.StatusCode.INTERNAL

    run(scenario)


async def health_status(ch: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(ch)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service))).status


def test_health_reports_serving_then_not_serving_during_shutdown() -> None:
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING

    async def scenario() -> None:
        server = Server(services(), ServerConfig(drain_s=1.0, grace_s=1.0))
        await server.start()
        async with channel(server.address, retries=1) as ch:
            for name in ("", GAME.full_name, MODEL.full_name):
                assert await health_status(ch, name) == serving
            await server.set_serving(MODEL.full_name, False)
            assert await health_status(ch, MODEL.full_name) == not_serving
            await server.set_serving(MODEL.full_name, True)
            stopping = asyncio.create_task(server.stop())
            await asyncio.sleep(0.2)  # inside the drain window: calls are still answered
            for name in ("", GAME.full_name, MODEL.full_name):
                assert await health_status(ch, name) == not_serving
            await stopping
            assert (await code_of(health_status(ch, "")))[0] == grpc.StatusCode.UNAVAILABLE

    run(scenario)


def test_reflection_lists_the_services() -> None:
    async def scenario() -> None:
        async with Server(services()) as server, channel(server.address) as ch:
            stub = reflection_pb2_grpc.ServerReflectionStub(ch)
            call = stub.ServerReflectionInfo()
            await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
            reply = await call.read()
            await call.done_writing()
            names = {s.name for s in reply.list_services_response.service}
            assert {GAME.full_name, MODEL.full_name, "grpc.health.v1.Health"} <= names

    run(scenario)


def test_graceful_shutdown_lets_a_call_in_flight_finish_and_refuses_new_ones() -> None:
    async def scenario() -> None:
        game = FakeGame()
        server = Server(services(game), ServerConfig(grace_s=5.0))
        await server.start()
        async with channel(server.address, retries=1) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            in_flight = asyncio.ensure_future(
                stub.SubmitMoves(game_pb2.SubmitMovesRequest(actions=[500, 1, 2]))
            )
            await game.started.wait()
            stopping = asyncio.create_task(server.stop())
            await asyncio.sleep(0.1)
            code, _ = await code_of(stub.GetGame(game_pb2.GetGameRequest(game_id="late"), timeout=2))
            assert code == grpc.StatusCode.UNAVAILABLE
            assert (await in_flight).queue_length == 3
            await stopping

    run(scenario)


def test_calls_longer_than_the_grace_period_are_cancelled() -> None:
    async def scenario() -> None:
        game = FakeGame()
        server = Server(services(game), ServerConfig(grace_s=0.2))
        await server.start()
        async with channel(server.address, retries=1) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            in_flight = stub.SubmitMoves(game_pb2.SubmitMovesRequest(actions=[30_000]))
            await game.started.wait()
            await server.stop()
            code, _ = await code_of(in_flight)
            assert code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)

    run(scenario)


def fetch_metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def test_metrics_endpoint_counts_requests_by_code() -> None:
    async def scenario() -> None:
        registry = CollectorRegistry()
        config = ServerConfig(metrics_port=0)
        async with Server(services(), config, registry=registry) as server, channel(server.address) as ch:
            stub = game_pb2_grpc.GameServiceStub(ch)
            for game_id in ("a", "b", "NotFound"):
                with pytest.raises(grpc.aio.AioRpcError) if game_id == "NotFound" else _nothing():
                    await stub.GetGame(game_pb2.GetGameRequest(game_id=game_id))
            assert [v.tick async for v in stub.StreamView(game_pb2.StreamViewRequest(player_token="2"))] == [
                0,
                1,
            ]
            assert server.metrics_port is not None
            text = await asyncio.to_thread(fetch_metrics, server.metrics_port)
        labels = 'grpc_method="GetGame",grpc_service="generals_rl.v1.GameService",grpc_type="unary"'
        assert f"grpc_server_started_total{{{labels}}} 3.0" in text
        assert f'grpc_server_handled_total{{grpc_code="OK",{labels}}} 2.0' in text
        assert f'grpc_server_handled_total{{grpc_code="NOT_FOUND",{labels}}} 1.0' in text
        assert f"grpc_server_handling_seconds_count{{{labels}}} 3.0" in text
        stream = (
            'grpc_method="StreamView",grpc_service="generals_rl.v1.GameService",grpc_type="server_stream"'
        )
        assert f"grpc_server_msg_sent_total{{{stream}}} 2.0" in text

    run(scenario)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_rpcs_are_logged_as_json_lines_with_service_rpc_code_and_duration() -> None:
    out, level = io.StringIO(), logging.getLogger().level
    handler = configure_logging("game", "json", stream=out)
    try:

        async def scenario() -> None:
            async with Server(services()) as server, channel(server.address) as ch:
                stub = game_pb2_grpc.GameServiceStub(ch)
                await stub.GetGame(game_pb2.GetGameRequest(game_id="x"))
                await code_of(stub.GetGame(game_pb2.GetGameRequest(game_id="NotFound")))

        run(scenario)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    rpcs = [e for e in entries if e["msg"] == "rpc"]
    assert [(e["rpc"], e["code"]) for e in rpcs] == [
        ("GameService/GetGame", "OK"),
        ("GameService/GetGame", "NOT_FOUND"),
    ]
    assert all(e["service"] == "game" and e["duration_ms"] >= 0 and e["level"] == "INFO" for e in rpcs)
    assert rpcs[1]["details"] == "NotFound says: bad game 'NotFound'"
    assert any(e["msg"] == "serving" for e in entries)


def test_console_logs_carry_the_fields() -> None:
    out, level = io.StringIO(), logging.getLogger().level
    first = configure_logging("elo", "json", stream=io.StringIO())
    handler = configure_logging("elo", "console", stream=out)  # replaces the first
    try:
        assert installed_log_handler() is handler and first not in logging.getLogger().handlers
        logging.getLogger("generals_rl.test").info("hello", extra={"rpc": "X/Y", "code": "OK"})
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    assert installed_log_handler() is None
    assert out.getvalue().rstrip().endswith("INFO  elo generals_rl.test: hello rpc=X/Y code=OK")


def test_serve_runs_until_the_event_or_a_signal() -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        server = Server(services())
        serving = asyncio.create_task(server.serve(stop))
        while server._port is None:
            await asyncio.sleep(0.01)
        async with channel(server.address) as ch:
            assert await health_status(ch, "") == health_pb2.HealthCheckResponse.SERVING
        stop.set()
        await asyncio.wait_for(serving, 10)

        if threading.current_thread() is threading.main_thread():
            server = Server(services())
            serving = asyncio.create_task(server.serve())
            while server._port is None:
                await asyncio.sleep(0.01)
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(serving, 10)

    run(scenario)


def test_a_taken_port_is_an_error() -> None:
    async def scenario() -> None:
        async with Server(services()) as first:
            with pytest.raises(OSError, match="cannot listen"):
                await Server(services(), ServerConfig(port=first.port)).start()

    run(scenario)


def test_channel_options_bound_retries() -> None:
    with pytest.raises(ValueError):
        channel_options(retries=6)
    config = json.loads(dict(channel_options(retries=3))["grpc.service_config"])
    assert config["methodConfig"][0]["retryPolicy"]["maxAttempts"] == 3


# --- tensor codec --------------------------------------------------------------------------------

ALL_DTYPES = sorted(tensors.DTYPES)
shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4)


@st.composite
def messages(draw: st.DrawFn) -> common_pb2.Tensor:
    """A valid message of any dtype and shape with arbitrary (valid) data bytes."""
    code = draw(st.sampled_from(ALL_DTYPES))
    dims = draw(shapes)
    info = tensors.DTYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    if code == common_pb2.DTYPE_BOOL:
        data = bytes(draw(st.lists(st.integers(0, 1), min_size=count, max_size=count)))
    else:
        data = draw(st.binary(min_size=count * info.itemsize, max_size=count * info.itemsize))
    return common_pb2.Tensor(dtype=info.code, shape=dims, data=data)


@given(messages())
@settings(max_examples=300, deadline=None)
def test_tensor_bytes_round_trip_through_torch(message: common_pb2.Tensor) -> None:
    tensor = tensors.to_torch(message)
    assert tensor.dtype == tensors.DTYPES[message.dtype].torch
    assert tuple(tensor.shape) == tuple(message.shape)
    assert tensors.encode(tensor) == message


@given(messages())
@settings(max_examples=300, deadline=None)
def test_tensor_bytes_round_trip_through_numpy(message: common_pb2.Tensor) -> None:
    array = tensors.to_numpy(message)
    assert array.shape == tuple(message.shape) and array.flags.writeable
    if message.dtype == common_pb2.DTYPE_BFLOAT16:  # numpy widens bfloat16 to float32, exactly
        expected = tensors.to_torch(message).float().numpy()
        np.testing.assert_array_equal(array, expected)
    else:
        assert tensors.encode(array) == message


@pytest.mark.parametrize("dtype", [info.torch for info in tensors.DTYPES.values()], ids=str)
def test_tensor_values_round_trip_for_every_dtype(dtype: torch.dtype) -> None:
    values = (
        torch.tensor([[0, 1, 0], [1, 1, 0]]) if dtype == torch.bool else torch.arange(-6, 6).reshape(3, 4)
    )
    source = values.to(dtype).t()  # not contiguous
    decoded = tensors.to_torch(tensors.encode(source))
    assert decoded.dtype == dtype and torch.equal(decoded, source)
    scalar = torch.tensor(3, dtype=dtype) if dtype != torch.bool else torch.tensor(True)
    assert torch.equal(tensors.to_torch(tensors.encode(scalar)), scalar)


def test_numpy_byte_order_does_not_matter() -> None:
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    message = tensors.encode(big)
    assert message.data == np.arange(6, dtype="<i4").tobytes()
    np.testing.assert_array_equal(tensors.to_numpy(message), big)


def test_to_numpy_without_copy_is_a_read_only_view() -> None:
    message = tensors.encode(np.arange(4, dtype=np.float32))
    view = tensors.to_numpy(message, copy=False)
    assert not view.flags.writeable and view.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_tensors_of_unsupported_types_are_refused() -> None:
    with pytest.raises(ValueError, match="complex64"):
        tensors.encode(torch.zeros(2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="cannot be sent"):
        tensors.encode(np.array(["a"]))
    with pytest.raises(TypeError):
        tensors.encode([1, 2])  # type: ignore[arg-type]


@given(messages(), st.integers(-3, 3).filter(lambda n: n != 0))
@settings(max_examples=200, deadline=None)
def test_a_wrong_byte_length_is_invalid_argument(message: common_pb2.Tensor, extra: int) -> None:
    data = message.data + b"\0" * extra if extra > 0 else message.data[:extra]
    if len(data) == len(message.data):  # nothing to cut from empty data
        return
    bad = common_pb2.Tensor(dtype=message.dtype, shape=message.shape, data=data)
    with pytest.raises(errors.InvalidArgument, match=r"obs: \d+ bytes of data, but shape"):
        tensors.to_torch(bad, name="obs")
    with pytest.raises(errors.InvalidArgument):
        tensors.to_numpy(bad, name="obs")


@given(st.integers(-(2**31), 2**31 - 1).filter(lambda code: code not in tensors.DTYPES), shapes)
@settings(max_examples=100, deadline=None)
def test_an_unknown_dtype_is_invalid_argument(code: int, dims: list[int]) -> None:
    message = common_pb2.Tensor(shape=dims)
    message.dtype = code  # type: ignore[assignment]  # an open enum: any int32 value parses
    with pytest.raises(errors.InvalidArgument, match="rewards: unknown or missing dtype"):
        tensors.to_torch(message, name="rewards")


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (common_pb2.Tensor(dtype=common_pb2.DTYPE_INT32, shape=[-1], data=b""), "negative dimension"),
        (
            common_pb2.Tensor(dtype=common_pb2.DTYPE_UINT8, shape=[1] * 9, data=b"x"),
            "9 dimensions, at most 8",
        ),
        (common_pb2.Tensor(dtype=common_pb2.DTYPE_BOOL, shape=[2], data=b"\x00\x02"), "bytes 0 or 1"),
        (common_pb2.Tensor(dtype=common_pb2.DTYPE_INT32, shape=[2, 2], data=b"\0" * 15), "15 bytes of data"),
    ],
)
def test_malformed_tensors_are_invalid_argument(message: common_pb2.Tensor, match: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=match):
        tensors.to_torch(message)


def test_expected_dtype_and_shape_are_enforced() -> None:
    message = tensors.encode(torch.zeros(4, 2, dtype=torch.int64))
    assert tensors.to_torch(message, dtypes=tensors.INT_DTYPES, shape=(4, None)).shape == (4, 2)
    with pytest.raises(errors.InvalidArgument, match=r"actions: shape must be \(\*, 3\), got \(4, 2\)"):
        tensors.to_torch(message, name="actions", shape=(None, 3))
    with pytest.raises(errors.InvalidArgument, match=r"actions: shape must be \(4,\), got \(4, 2\)"):
        tensors.to_torch(message, name="actions", shape=(4,))
    with pytest.raises(errors.InvalidArgument, match="dtype must be float32 or float64, got int64"):
        tensors.to_numpy(message, dtypes=tensors.FLOAT_DTYPES)
