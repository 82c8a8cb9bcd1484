"""How a version is kept: its row in SQL (``ModelStore``) and its weights in the ``models`` bucket,
and the conversions between stored records and the domain types.

The row's JSON ``metrics`` column holds a document ``{"metrics": {...}, "publication": {...},
"checks": [...], "sanity": {...}}``: the learner's metrics, the rest of what the publisher sent (run
id, publisher, description, request id, size), the validation checks and the sanity match's result.
Weights are content-addressed: ``weights/<sha256>.safetensors``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from generals_rl.services.model.domain import (
    Actor,
    Check,
    Event,
    EventKind,
    PolicyMetadata,
    VersionInfo,
)
from generals_rl.storage.errors import (
    ConflictError,
    InvalidKeyError,
    NotFoundError,
    StorageError,
    UnavailableError,
)
from generals_rl.storage.records import ModelEvent, ModelVersion

BUCKET = "models"
EVENT_KINDS: dict[str, EventKind] = {
    "created": "created",
    "status": "state_changed",
    "alias_set": "alias_set",
    "alias_deleted": "alias_deleted",
}
"""The store's event kinds as the contract names them."""


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Storage errors as domain errors (status codes), with the store's message."""
    try:
        yield
    except NotFoundError as error:
        raise NotFound(str(error)) from None
    except UnavailableError as error:
        raise Unavailable(str(error)) from None
    except ConflictError as error:
        raise FailedPrecondition(str(error)) from None
    except (InvalidKeyError, ValueError) as error:
        raise InvalidArgument(str(error)) from None
    except StorageError as error:
        raise Unavailable(str(error)) from None


def weights_key(sha256: str) -> str:
    """Blob key (``models`` bucket) of the weights with this SHA-256."""
    return f"weights/{sha256}.safetensors"


def document(metadata: PolicyMetadata) -> dict[str, Any]:
    return {
        "metrics": dict(metadata.metrics),
        "publication": {
            "run_id": metadata.run_id,
            "publisher": metadata.publisher,
            "description": metadata.description,
            "request_id": metadata.request_id,
            "size_bytes": metadata.size_bytes,
        },
        "checks": [],
    }


def publication(record: ModelVersion) -> dict[str, Any]:
    return cast(dict[str, Any], record.metrics.get("publication") or {})


def version_info(record: ModelVersion, aliases: Mapping[int, list[str]] | None = None) -> VersionInfo:
    """The domain view of a stored version (``aliases``: version -> alias names, when known)."""
    doc, sent = record.metrics, publication(record)
    metadata = PolicyMetadata(
        architecture=record.architecture,
        config_json=json.dumps(record.config, sort_keys=True),
        parent_version=record.parent or 0,
        training_step=record.training_step,
        metrics=dict(doc.get("metrics") or {}),
        run_id=str(sent.get("run_id", "")),
        publisher=str(sent.get("publisher", "")),
        size_bytes=int(sent.get("size_bytes", 0)),
        request_id=str(sent.get("request_id", "")),
        description=str(sent.get("description", "")),
    )
    checks = tuple(
        Check(str(c["name"]), bool(c["passed"]), str(c.get("detail", ""))) for c in doc.get("checks", ())
    )
    reason = (record.reason or "") if record.status in ("rejected", "retired") else ""
    return VersionInfo(
        version=record.version,
        metadata=metadata,
        state=record.status,
        status_reason=reason,
        checks=checks,
        aliases=tuple(sorted((aliases or {}).get(record.version, []))),
        sha256=record.checksum or "",
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def event_of(row: ModelEvent) -> Event:
    return Event(
        id=row.id,
        kind=EVENT_KINDS[row.kind],
        at=row.at,
        actor=Actor(row.actor, row.reason or ""),
        version=row.version or 0,
        alias=row.alias or "",
        state=row.status,
        previous_version=row.previous_version or 0,
    )
