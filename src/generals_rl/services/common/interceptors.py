"""The server interceptor every service runs behind: domain errors to status codes, metrics, logs.

For every RPC, unary or streaming in either direction:

- a ``ServiceError`` raised by the handler ends the call with the error's status code and
  message (``errors``); a handler that aborts by itself keeps its status;
- ``NotImplementedError`` (what the generated servicer base classes raise) is UNIMPLEMENTED;
- any other exception is a bug: it is logged with its traceback and the call ends with
  INTERNAL and a generic message (no internals leak to clients); the server keeps serving;
- Prometheus counters and a latency histogram are updated (names as go-grpc-prometheus):
  ``grpc_server_started_total``, ``grpc_server_handled_total`` (by ``grpc_code``: errors by
  code), ``grpc_server_handling_seconds``, ``grpc_server_msg_received_total`` and
  ``grpc_server_msg_sent_total``, labelled by ``grpc_service``, ``grpc_method`` and
  ``grpc_type``;
- one log record ``rpc`` (logger ``generals_rl.rpc``) with ``rpc``, ``code`` and
  ``duration_ms``: INFO, or DEBUG for successful health checks and reflection.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

import grpc
import grpc.aio
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from generals_rl.services.common.errors import ServiceError

log = logging.getLogger("generals_rl.rpc")

INTERNAL_MESSAGE = "internal error: the server logged the details"
"""What a client reads when a handler fails with an unexpected exception."""

QUIET_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)
"""Services whose successful calls are logged at DEBUG only (probes and tooling)."""

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    1800.0,
)  # fmt: skip
"""Histogram buckets in seconds; long ones for streams that last a whole game or training run."""

_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class RpcMetrics:
    """The per-RPC Prometheus collectors of one registry (one set per registry: use ``of``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.started = Counter(
            "grpc_server_started", "RPCs started on the server.", _LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, by status code.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.latency = Histogram(
            "grpc_server_handling_seconds",
            "Time from the start of an RPC to its status, in seconds.",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received", "Stream messages received by the server.", _LABELS, registry=registry
        )
        self.sent = Counter(
            "grpc_server_msg_sent", "Stream messages sent by the server.", _LABELS, registry=registry
        )

    @classmethod
    def of(cls, registry: CollectorRegistry | None = None) -> RpcMetrics:
        """The collectors of ``registry`` (the process-wide default registry when None),
        created on first use so that several servers in one process share them."""
        registry = REGISTRY if registry is None else registry
        metrics = _METRICS.get(registry)
        if metrics is None:
            metrics = _METRICS[registry] = cls(registry)
        return metrics


_METRICS: WeakKeyDictionary[CollectorRegistry, RpcMetrics] = WeakKeyDictionary()


def split_method(full: str) -> tuple[str, str]:
    """``/generals_rl.v1.GameService/CreateGame`` -> (``generals_rl.v1.GameService``, ``CreateGame``)."""
    service, _, method = full.lstrip("/").rpartition("/")
    return service, method


def rpc_type(handler: grpc.RpcMethodHandler) -> str:
    """``unary``, ``server_stream``, ``client_stream`` or ``bidi_stream``."""
    return {
        (False, False): "unary",
        (False, True): "server_stream",
        (True, False): "client_stream",
        (True, True): "bidi_stream",
    }[(bool(handler.request_streaming), bool(handler.response_streaming))]


class _Call:
    """Bookkeeping of one RPC: labels, start time, and how it ended."""

    def __init__(self, metrics: RpcMetrics, kind: str, full_method: str) -> None:
        service, method = split_method(full_method)
        self.metrics = metrics
        self.labels = (kind, service, method)
        self.service = service
        self.rpc = f"{service.rpartition('.')[2]}/{method}"
        self.start = time.perf_counter()
        metrics.started.labels(*self.labels).inc()

    def received(self) -> None:
        self.metrics.received.labels(*self.labels).inc()

    def sent(self) -> None:
        self.metrics.sent.labels(*self.labels).inc()

    async def fail(self, error: BaseException, context: grpc.aio.ServicerContext) -> None:
        """Turn ``error`` into the call's status: always raises."""
        if isinstance(error, ServiceError):
            self.finish(error.code, error.message)
            await context.abort(error.code, error.message)
        if isinstance(error, grpc.aio.AbortError):  # the handler aborted by itself
            self.finish(_code_of(context, grpc.StatusCode.UNKNOWN), _details_of(context))
            raise error
        if isinstance(error, asyncio.CancelledError):  # the client went away, or the server stops
            self.finish(grpc.StatusCode.CANCELLED, "cancelled")
            raise error
        if isinstance(error, NotImplementedError):  # the generated servicer base classes
            self.finish(grpc.StatusCode.UNIMPLEMENTED, str(error) or "not implemented")
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(error) or "not implemented")
        if not isinstance(error, Exception):  # GeneratorExit, KeyboardInterrupt, ...
            self.finish(grpc.StatusCode.CANCELLED, type(error).__name__)
            raise error
        self.finish(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}", error)
        await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

    def succeed(self, context: grpc.aio.ServicerContext) -> None:
        self.finish(_code_of(context, grpc.StatusCode.OK), _details_of(context))

    def finish(self, code: grpc.StatusCode, details: str | None, error: BaseException | None = None) -> None:
        elapsed = time.perf_counter() - self.start
        self.metrics.handled.labels(*self.labels, code.name).inc()
        self.metrics.latency.labels(*self.labels).observe(elapsed)
        fields: dict[str, Any] = {"rpc": self.rpc, "code": code.name, "duration_ms": round(elapsed * 1e3, 3)}
        if error is not None:
            log.error("rpc failed with an unexpected exception", extra=fields, exc_info=error)
            return
        if code != grpc.StatusCode.OK and details:
            fields["details"] = details
        quiet = code == grpc.StatusCode.OK and self.service in QUIET_SERVICES
        log.log(logging.DEBUG if quiet else logging.INFO, "rpc", extra=fields)


def _code_of(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> grpc.StatusCode:
    try:
        code = context.code()
    except Exception:  # older grpc without ServicerContext.code()
        return default
    if isinstance(code, grpc.StatusCode):
        return code
    return default


def _details_of(context: grpc.aio.ServicerContext) -> str | None:
    try:
        details = context.details()
    except Exception:
        return None
    if isinstance(details, bytes):
        return details.decode("utf-8", "replace")
    return details if isinstance(details, str) else None


Behavior = Callable[..., Any]


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Maps domain errors to status codes, records metrics and logs every RPC (module docstring)."""

    def __init__(self, metrics: RpcMetrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else RpcMetrics.of()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        kind = rpc_type(handler)
        method: str = handler_call_details.method
        if isinstance(method, bytes):
            method = method.decode()
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap_stream(handler.stream_stream, kind, method, streaming_in=True),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, kind, method, streaming_in=True),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, kind, method, streaming_in=False),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            self._wrap_unary(handler.unary_unary, kind, method, streaming_in=False),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap_unary(self, behavior: Behavior, kind: str, method: str, *, streaming_in: bool) -> Behavior:
        metrics = self.metrics

        async def unary_response(request: Any, context: grpc.aio.ServicerContext) -> Any:
            call = _Call(metrics, kind, method)
            if streaming_in:
                request = _counted(request, call)
            try:
                response = behavior(request, context)
                if inspect.isawaitable(response):
                    response = await response
            except BaseException as error:
                await call.fail(error, context)
            call.succeed(context)
            return response

        return unary_response

    def _wrap_stream(self, behavior: Behavior, kind: str, method: str, *, streaming_in: bool) -> Behavior:
        metrics = self.metrics
        if not inspect.isasyncgenfunction(behavior):
            # The handler writes with context.write() and returns a coroutine: wrap it as one.
            async def written(request: Any, context: grpc.aio.ServicerContext) -> None:
                call = _Call(metrics, kind, method)
                if streaming_in:
                    request = _counted(request, call)
                try:
                    result = behavior(request, context)
                    if inspect.isawaitable(result):
                        await result
                except BaseException as error:
                    await call.fail(error, context)
                call.succeed(context)

            return written

        async def streamed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            call = _Call(metrics, kind, method)
            if streaming_in:
                request = _counted(request, call)
            try:
                async for response in behavior(request, context):
                    call.sent()
                    yield response
            except BaseException as error:
                await call.fail(error, context)
            call.succeed(context)

        return streamed


async def _counted(requests: AsyncIterator[Any], call: _Call) -> AsyncIterator[Any]:
    async for request in requests:
        call.received()
        yield request
