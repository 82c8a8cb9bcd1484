"""How the Model Service validates and caches: ``ModelServiceConfig``, parsed at the edge
(``ModelServiceConfig.from_env()`` reads the ``GRL_MODEL_*`` variables; ``open_service`` does when
given no config)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from generals_rl.services.model.validation import ValidationConfig


@dataclass(frozen=True)
class ModelServiceConfig:
    """How the Model Service validates and caches.

    Attributes:
        validation: the checks' settings (``validation.ValidationConfig``), its time bound included.
        cache_bytes: memory for hot weights (0: none).
        wire_cache_bytes: memory for the GetPolicy messages of recently served versions, ready to
            send (``servicer``; 0: none).
        concurrent_validations: validations run at the same time; more publications wait their turn.
        stale_pending_s: a version PENDING for longer than this when a server starts was left by a
            server that stopped mid-validation: it is rejected.
    """

    validation: ValidationConfig = field(default_factory=ValidationConfig)
    cache_bytes: int = 512 * 1024 * 1024
    wire_cache_bytes: int = 256 * 1024 * 1024
    concurrent_validations: int = 1
    stale_pending_s: float = 600.0

    def __post_init__(self) -> None:
        if (
            min(self.cache_bytes, self.wire_cache_bytes) < 0
            or self.concurrent_validations < 1
            or self.stale_pending_s < 0
        ):
            raise ValueError(f"bad Model Service config: {self}")

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> ModelServiceConfig:
        """From ``GRL_MODEL_CACHE_MB`` (512), ``GRL_MODEL_WIRE_CACHE_MB`` (256),
        ``GRL_MODEL_VALIDATION_TIMEOUT_S`` (120),
        ``GRL_MODEL_SANITY_GAMES`` (4) and ``GRL_MODEL_CONCURRENT_VALIDATIONS`` (1)."""
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            text = env.get(name, "")
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {text!r}") from None

        base = ValidationConfig()
        validation = ValidationConfig(
            timeout_s=number("GRL_MODEL_VALIDATION_TIMEOUT_S", base.timeout_s),
            sanity_games=int(number("GRL_MODEL_SANITY_GAMES", base.sanity_games)),
        )
        return ModelServiceConfig(
            validation=validation,
            cache_bytes=int(number("GRL_MODEL_CACHE_MB", 512) * 1024 * 1024),
            wire_cache_bytes=int(number("GRL_MODEL_WIRE_CACHE_MB", 256) * 1024 * 1024),
            concurrent_validations=int(number("GRL_MODEL_CONCURRENT_VALIDATIONS", 1)),
        )
