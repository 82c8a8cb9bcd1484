"""``grl health ADDR``: exit 0 when the gRPC server at ``ADDR`` reports SERVING, 1 otherwise.

A container health check and a load balancer probe in one: it asks the standard health service
(``grpc.health.v1.Health/Check``) that every server of ours hosts. The overall status (service
``""``) by default, or one service's (``--service generals_rl.v1.GameService``).

It imports only gRPC, never torch, so the image's ``HEALTHCHECK`` can run it every few seconds
directly, without the ``grl`` command's start-up cost::

    python -m generals_rl.cli.health 127.0.0.1:50051
"""

from __future__ import annotations

import sys

import typer

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


def check(address: str, service: str = "", timeout_s: float = 3.0) -> tuple[bool, str]:
    """Whether ``address`` reports ``service`` SERVING, and the status or error in words."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as error:
            code = error.code()
            name = code.name if code is not None else "UNKNOWN"
            details = error.details()
            return False, f"{name}: {details}" if details else name
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return response.status == health_pb2.HealthCheckResponse.SERVING, status


def health(
    address: str = typer.Argument(..., help="host:port of a gRPC server (a service of ours)"),
    service: str = typer.Option("", help="full service name; '' (default) is the server overall"),
    timeout: float = typer.Option(3.0, min=0.1, help="seconds to wait for the answer"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing; the exit code tells"),
) -> None:
    """Exit 0 when the server at ADDRESS reports SERVING, 1 otherwise (for health checks)."""
    serving, status = check(address, service, timeout)
    if not quiet:
        stream = sys.stdout if serving else sys.stderr
        print(f"{address} {service or '(server)'}: {status}", file=stream)
    raise typer.Exit(code=EXIT_SERVING if serving else EXIT_NOT_SERVING)


def main() -> None:
    typer.run(health)


if __name__ == "__main__":
    main()
