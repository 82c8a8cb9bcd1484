"""The Model Service (port 50053): the registry of policy versions learners publish and actors fetch.

Modules: ``domain`` (types and input checks), ``weights`` (safetensors files), ``transfer`` (1 MiB
chunks and checksums), ``validation`` (the checks before a version is accepted), ``config``,
``records`` (how a version is stored), ``lru`` (hot caches), ``core`` (``ModelCore``: the registry on
SQL + blobs), ``api`` (``ModelRegistry``, ``LocalModelRegistry``), ``convert`` / ``servicer`` (the
wire), ``client`` (``ModelClient``).

``open_service`` is what ``grl serve model`` and ``grl up`` call.
"""

from __future__ import annotations

from generals_rl.services.common.wiring import Peers, ServiceHandle, Stores
from generals_rl.services.model.api import LocalModelRegistry, ModelRegistry, PolicyTransfers
from generals_rl.services.model.client import ModelClient
from generals_rl.services.model.config import ModelServiceConfig
from generals_rl.services.model.core import ModelCore
from generals_rl.services.model.domain import (
    Actor,
    AliasInfo,
    Check,
    Event,
    EventPage,
    Lineage,
    NotModified,
    PolicyMetadata,
    Selector,
    VersionInfo,
    VersionPage,
)
from generals_rl.services.model.servicer import ModelServicer, service
from generals_rl.services.model.validation import ValidationConfig, ValidationReport, validate
from generals_rl.settings import Settings

__all__ = [
    "Actor",
    "AliasInfo",
    "Check",
    "Event",
    "EventPage",
    "Lineage",
    "LocalModelRegistry",
    "ModelClient",
    "ModelCore",
    "ModelRegistry",
    "ModelServiceConfig",
    "ModelServicer",
    "NotModified",
    "PolicyMetadata",
    "PolicyTransfers",
    "Selector",
    "ValidationConfig",
    "ValidationReport",
    "VersionInfo",
    "VersionPage",
    "open_service",
    "validate",
]


async def open_service(
    settings: Settings, stores: Stores, peers: Peers, config: ModelServiceConfig | None = None
) -> ServiceHandle:
    """The Model Service on the process's stores (SQL for metadata, the ``models`` bucket for weights);
    ``config`` defaults to ``ModelServiceConfig.from_env()`` (``GRL_MODEL_*``). It calls no peers.
    On start it rejects versions a stopped server left PENDING; on close it lets validations finish."""
    config = config or ModelServiceConfig.from_env()
    registry = LocalModelRegistry(ModelCore(stores.database, stores.blobs, config))
    return ServiceHandle(
        name="model",
        services=[service(ModelServicer(registry, config.wire_cache_bytes))],
        start=registry.start,
        close=registry.close,
    )
