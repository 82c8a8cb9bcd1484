"""Build and run a gRPC server (``grpc.aio``) for one or more servicers.

Every server gets, besides its servicers: the standard health service (``grpc.health.v1``) with
one status per service plus the overall one (``""``), server reflection, the interceptor of
``interceptors`` (domain errors, metrics, logs), message size limits, and optionally a Prometheus
``/metrics`` HTTP endpoint.

    async with Server([bind(GameServicer(core), game_pb2.DESCRIPTOR.services_by_name["GameService"])],
                      ServerConfig(port=0)) as server:
        async with channel(server.address) as ch:  # tests: an in-process server on a free port
            ...

    await Server(services, ServerConfig(host="[::]", port=50051, metrics_port=9090)).serve()

``serve()`` runs until SIGTERM or SIGINT (or a given ``asyncio.Event``), then shuts down
gracefully: health turns NOT_SERVING at once (load balancers stop sending calls), new calls are
still taken for ``drain_s`` seconds, then the server stops taking calls and lets the calls in
flight finish for up to ``grace_s`` seconds before cancelling them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

from generals_rl.services.common.interceptors import RpcMetrics, ServerInterceptor

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest message a server or client sends or receives by default (StepBatch responses are big)."""

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


@dataclass(frozen=True)
class Service:
    """A servicer ready to be added to a server: its full name and how to add it."""

    name: str
    add_to_server: Callable[[grpc.aio.Server], None]


def bind(servicer: object, descriptor: Any) -> Service:
    """A ``Service`` for a servicer of one of our generated services, from its descriptor
    (``game_pb2.DESCRIPTOR.services_by_name["GameService"]``)."""
    module_name = descriptor.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
    add = getattr(importlib.import_module(module_name), f"add_{descriptor.name}Servicer_to_server")
    return Service(descriptor.full_name, lambda server: add(servicer, server))


@dataclass(frozen=True)
class ServerConfig:
    """How a server listens and stops.

    Attributes:
        host: interface to listen on: ``127.0.0.1`` (default, for tests and one machine),
            ``[::]`` or ``0.0.0.0`` for every interface.
        port: TCP port; 0 picks a free one (``Server.port`` tells which).
        max_message_bytes: largest message sent or received.
        grace_s: seconds calls in flight may run on after the server stops taking calls.
        drain_s: seconds between health turning NOT_SERVING and the server refusing calls.
        metrics_port: port of the Prometheus ``/metrics`` endpoint; 0 a free one, None none.
        metrics_host: interface of the metrics endpoint.
        reflection: serve gRPC reflection (``grpcurl`` and friends list the services).
        max_concurrent_rpcs: calls served at once before new ones get RESOURCE_EXHAUSTED;
            None for no limit.
    """

    host: str = "127.0.0.1"
    port: int = 0
    max_message_bytes: int = MAX_MESSAGE_BYTES
    grace_s: float = 10.0
    drain_s: float = 0.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    reflection: bool = True
    max_concurrent_rpcs: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must lie in 0..65535, got {self.port}")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics_port must lie in 0..65535, got {self.metrics_port}")
        if self.max_message_bytes < 1024:
            raise ValueError(f"max_message_bytes must be at least 1024, got {self.max_message_bytes}")
        if self.grace_s < 0 or self.drain_s < 0:
            raise ValueError("grace_s and drain_s must be >= 0")


def server_options(max_message_bytes: int) -> list[tuple[str, Any]]:
    """Channel arguments of our servers: message limits, client keepalive pings allowed, and no
    SO_REUSEPORT (a second server on a taken port fails instead of sharing it)."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.so_reuseport", 0),
    ]


class Server:
    """A gRPC server for ``services`` with health, reflection, interceptor and metrics.

    ``await start()`` binds and starts (returns the port); ``await stop()`` shuts down
    gracefully; ``await serve()`` does both around a signal or event. Also an async context
    manager (start on enter, stop on exit).
    """

    def __init__(
        self,
        services: Sequence[Service],
        config: ServerConfig | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.services = tuple(services)
        self.config = config if config is not None else ServerConfig()
        self.registry = REGISTRY if registry is None else registry
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError(f"a service is listed twice: {names}")
        self.health = health_aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._port: int | None = None
        self._metrics_http: Any = None
        self._metrics_thread: threading.Thread | None = None
        self._stop_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` to connect to (loopback when listening on every interface)."""
        host = self.config.host
        if host in ("[::]", "0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    @property
    def metrics_port(self) -> int | None:
        """Port of the ``/metrics`` endpoint, once started; None without one."""
        if self._metrics_http is None:
            return None
        return int(self._metrics_http.server_address[1])

    @property
    def service_names(self) -> tuple[str, ...]:
        """Full names of the services this server hosts (health and reflection not included)."""
        return tuple(s.name for s in self.services)

    async def start(self) -> int:
        """Bind, start serving and mark every service SERVING; returns the bound port."""
        if self._server is not None:
            raise RuntimeError("the server is started already")
        config = self.config
        server = grpc.aio.server(
            interceptors=[ServerInterceptor(RpcMetrics.of(self.registry))],
            options=server_options(config.max_message_bytes),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
        for service in self.services:
            service.add_to_server(server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if config.reflection:
            reflection.enable_server_reflection(
                (*self.service_names, HEALTH_SERVICE, reflection.SERVICE_NAME), server
            )
        address = f"{config.host}:{config.port}"
        try:
            port = server.add_insecure_port(address)
        except RuntimeError as error:
            raise OSError(f"cannot listen on {address}: {error}") from error
        if port == 0:
            raise OSError(f"cannot listen on {address}")
        if config.metrics_port is not None:
            self._metrics_http, self._metrics_thread = start_http_server(
                config.metrics_port, addr=config.metrics_host, registry=self.registry
            )
        await server.start()
        self._server, self._port = server, port
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "serving",
            extra={"address": address, "port": port, "services": ",".join(self.service_names)},
        )
        return port

    async def set_serving(self, service: str, serving: bool) -> None:
        """Report one service (``""``: the whole server) SERVING or NOT_SERVING, for example
        while its storage is down. Ignored once shutdown has begun."""
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set(service, status)

    async def stop(self, grace_s: float | None = None) -> None:
        """Shut down gracefully (module docstring); safe to call more than once, concurrently too."""
        if self._server is None:
            return
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(
                self._shutdown(self.config.grace_s if grace_s is None else grace_s)
            )
        await asyncio.shield(self._stop_task)

    async def _shutdown(self, grace_s: float) -> None:
        assert self._server is not None
        log.info("shutting down", extra={"drain_s": self.config.drain_s, "grace_s": grace_s})
        await self.health.enter_graceful_shutdown()
        if self.config.drain_s:
            await asyncio.sleep(self.config.drain_s)
        await self._server.stop(grace_s)
        if self._metrics_http is not None:
            self._metrics_http.shutdown()
            self._metrics_http.server_close()
            if self._metrics_thread is not None:
                self._metrics_thread.join(timeout=5)
        log.info("stopped")

    async def wait_for_termination(self) -> None:
        """Wait until the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def serve(
        self,
        stop: asyncio.Event | None = None,
        signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    ) -> None:
        """Start (unless started), run until ``stop`` is set or one of ``signals`` arrives, then
        shut down gracefully. Signal handlers are installed only in the main thread."""
        stop = stop if stop is not None else asyncio.Event()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
        try:
            if self._server is None:
                await self.start()
            await stop.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            await self.stop()

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
