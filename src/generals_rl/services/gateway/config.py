"""How the HTTP gateway behaves: ``GatewayConfig``, parsed at the edge (``GatewayConfig.from_env()``
reads the ``GRL_GATEWAY_*`` variables and ``GRL_ADMIN_TOKEN``; ``serve_gateway`` does when given no
config)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

TRAINING_STATUS_KEY = "training:status"
"""Cache key of the live training status that ``grl train`` writes (format: docs/gateway.md)."""


@dataclass(frozen=True)
class GatewayConfig:
    """Limits and secrets of the gateway.

    Attributes:
        admin_token: the secret of promote and rollback (header ``X-Admin-Token``); empty: the
            gateway makes one when it starts and logs it.
        session_ttl_s: how long a guest session lasts.
        max_upload_bytes: largest replay upload (the Game Service takes replays of at most 4 MiB).
        max_ws_message_bytes: largest WebSocket message a client may send.
        rpc_timeout_s: bound of every call to a service.
        max_replay_ticks: the replay viewer simulates at most this many ticks of a replay.
        training_key: cache key of the training status (``TRAINING_STATUS_KEY``).
    """

    admin_token: str = ""
    session_ttl_s: float = 24 * 3600.0
    max_upload_bytes: int = 4 * 1024 * 1024
    max_ws_message_bytes: int = 16 * 1024
    rpc_timeout_s: float = 10.0
    max_replay_ticks: int = 20_000
    training_key: str = TRAINING_STATUS_KEY

    def __post_init__(self) -> None:
        if (
            self.session_ttl_s <= 0
            or self.max_upload_bytes < 1
            or self.max_ws_message_bytes < 256
            or self.rpc_timeout_s <= 0
            or self.max_replay_ticks < 1
        ):
            raise ValueError(f"bad gateway config: {self}")

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> GatewayConfig:
        """From ``GRL_ADMIN_TOKEN``, ``GRL_GATEWAY_SESSION_TTL_S`` (86400),
        ``GRL_GATEWAY_MAX_UPLOAD_MB`` (4) and ``GRL_GATEWAY_RPC_TIMEOUT_S`` (10)."""
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            text = env.get(name, "")
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {text!r}") from None

        return GatewayConfig(
            admin_token=env.get("GRL_ADMIN_TOKEN", ""),
            session_ttl_s=number("GRL_GATEWAY_SESSION_TTL_S", 24 * 3600.0),
            max_upload_bytes=int(number("GRL_GATEWAY_MAX_UPLOAD_MB", 4) * 1024 * 1024),
            rpc_timeout_s=number("GRL_GATEWAY_RPC_TIMEOUT_S", 10.0),
        )
