"""Client channels to our services: keepalive, retries on UNAVAILABLE, our message size limit.

    async with channel("127.0.0.1:50051") as ch:
        stub = game_pb2_grpc.GameServiceStub(ch)

Calls that fail with UNAVAILABLE before the server answered (a peer restarting, a connection
reset) are retried by gRPC itself with exponential backoff (0.1 s doubling up to 5 s, at most
``retries`` attempts in all). With ``wait_for_ready`` a call waits for the server to come up
instead of failing at once (bounded by the call's timeout). Keepalive pings every 30 s keep
idle connections through load balancers and detect dead peers in about 40 s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

from generals_rl.services.common.server import MAX_MESSAGE_BYTES


def channel_options(
    *,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    keepalive_s: float = 30.0,
    retries: int = 5,
    wait_for_ready: bool = False,
) -> list[tuple[str, Any]]:
    """The channel arguments ``channel`` uses (for callers that build channels themselves)."""
    if not 1 <= retries <= 5:
        raise ValueError(f"retries must lie in 1..5 (gRPC's limit), got {retries}")
    method_config: dict[str, Any] = {"name": [{}], "waitForReady": wait_for_ready}
    if retries > 1:
        method_config["retryPolicy"] = {
            "maxAttempts": retries,
            "initialBackoff": "0.1s",
            "maxBackoff": "5s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", int(keepalive_s * 1000)),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.enable_retries", 1 if retries > 1 else 0),
        ("grpc.service_config", json.dumps({"methodConfig": [method_config]})),
    ]


def channel(
    address: str,
    *,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    keepalive_s: float = 30.0,
    retries: int = 5,
    wait_for_ready: bool = False,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """An insecure ``grpc.aio`` channel to ``host:port`` (module docstring); ``options`` add or
    override channel arguments."""
    merged = dict(
        channel_options(
            max_message_bytes=max_message_bytes,
            keepalive_s=keepalive_s,
            retries=retries,
            wait_for_ready=wait_for_ready,
        )
    )
    merged.update(options)
    return grpc.aio.insecure_channel(address, options=list(merged.items()))
