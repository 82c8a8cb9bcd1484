"""The Model Service's domain types and the checks of what callers send.

A policy *version* is a safetensors file of weights plus what its learner said about it
(``PolicyMetadata``); the registry numbers versions 1, 2, 3, ... and tracks their state
(``pending`` while validated, then ``accepted`` or ``rejected``; ``retired`` by hand), the aliases
that name them and a log of every change (``Event``). ``proto/generals_rl/v1/model.proto`` documents
each operation; these types are its words in Python, shared by the core, the servicer, the client
and ``grl model``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from generals_rl.services.common.errors import InvalidArgument, ResourceExhausted

CHUNK_BYTES = 1024 * 1024
"""Largest chunk of weights in one message, each way (1 MiB)."""

MAX_WEIGHTS_BYTES = 1024 * 1024 * 1024
"""Largest safetensors file of a version (1 GiB)."""

MAX_CONFIG_BYTES = 64 * 1024
MAX_METRICS = 256
ALIASES = ("latest", "candidate", "champion")
"""The aliases every caller knows; ``latest`` is kept by the server, the others by Promote/Rollback."""

LATEST, CHAMPION = "latest", "champion"
SERVICE_ACTOR = "model-service"
"""The actor of the changes the server makes by itself (validation, moving ``latest``)."""

_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")

VersionState = Literal["pending", "accepted", "rejected", "retired"]
EventKind = Literal["created", "state_changed", "alias_set", "alias_deleted"]
VERSION_STATES: tuple[VersionState, ...] = ("pending", "accepted", "rejected", "retired")
EVENT_KINDS: tuple[EventKind, ...] = ("created", "state_changed", "alias_set", "alias_deleted")


@dataclass(frozen=True)
class PolicyMetadata:
    """What a learner says about a version when it publishes it (``model.proto``, PolicyMetadata)."""

    architecture: str
    config_json: str = "{}"
    parent_version: int = 0
    training_step: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)
    run_id: str = ""
    publisher: str = ""
    size_bytes: int = 0
    request_id: str = ""
    description: str = ""

    def config(self) -> dict[str, object]:
        """``config_json`` parsed (``{}`` when empty); ``InvalidArgument`` unless a JSON object."""
        text = self.config_json or "{}"
        try:
            value = json.loads(text)
        except ValueError as error:
            raise InvalidArgument(f"config_json is not JSON: {error}") from None
        if not isinstance(value, dict):
            raise InvalidArgument(f"config_json must be a JSON object, got {type(value).__name__}")
        return value


@dataclass(frozen=True)
class Check:
    """One validation check: ``loads``, ``shapes``, ``finite``, ``legal_actions`` or ``sanity_match``."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class VersionInfo:
    """A stored version: metadata, state, validation results and the aliases that point at it."""

    version: int
    metadata: PolicyMetadata
    state: VersionState
    status_reason: str = ""
    checks: tuple[Check, ...] = ()
    aliases: tuple[str, ...] = ()
    sha256: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Selector:
    """Which version: by number (``version`` >= 1) or by ``alias``, exactly one of them."""

    version: int = 0
    alias: str = ""

    def __post_init__(self) -> None:
        if self.version and self.alias:
            raise InvalidArgument("select a version by number or by alias, not both")
        if self.alias:
            check_alias(self.alias, allow_latest=True)
        elif self.version < 1:
            raise InvalidArgument(f"a version number is >= 1, got {self.version}")

    def __str__(self) -> str:
        return f"version {self.version}" if self.version else f"alias {self.alias!r}"


def select(target: int | str) -> Selector:
    """A selector from a number (``17``, ``"17"``) or an alias name (``"champion"``)."""
    if isinstance(target, int):
        return Selector(version=target)
    # ASCII digits only: str.isdigit() is true for '¹', which int() refuses
    return Selector(version=int(target)) if target.isascii() and target.isdigit() else Selector(alias=target)


@dataclass(frozen=True)
class Actor:
    """Who asked for a change, and why (recorded)."""

    name: str
    reason: str = ""


@dataclass(frozen=True)
class AliasInfo:
    """A name pointing at a version, with the version before its last change and who changed it."""

    name: str
    version: int
    previous_version: int = 0
    updated_at: datetime | None = None
    updated_by: Actor = Actor("")


@dataclass(frozen=True)
class Event:
    """One change of the registry (``state`` for CREATED and STATE_CHANGED, ``alias`` for alias events)."""

    id: int
    kind: EventKind
    at: datetime | None
    actor: Actor
    version: int = 0
    alias: str = ""
    state: VersionState | None = None
    previous_version: int = 0


@dataclass(frozen=True)
class Lineage:
    """A version, its ancestors (parent first) and its children (oldest first)."""

    version: VersionInfo
    ancestors: tuple[VersionInfo, ...]
    children: tuple[VersionInfo, ...]


@dataclass(frozen=True)
class VersionPage:
    """Versions newest first; ``next_page_token`` is empty on the last page."""

    versions: tuple[VersionInfo, ...]
    next_page_token: str = ""
    total_size: int = 0


@dataclass(frozen=True)
class EventPage:
    """Events newest first; ``next_page_token`` is empty on the last page."""

    events: tuple[Event, ...]
    next_page_token: str = ""


@dataclass(frozen=True)
class Checksum:
    """The last part of an upload or download: the lowercase hex SHA-256 of the whole file."""

    sha256: str


@dataclass(frozen=True)
class NotModified:
    """The answer to a download when the selected version is not newer than the caller's."""

    version: int


UploadPart = PolicyMetadata | bytes | Checksum
"""One message of a PublishPolicy stream: metadata first, chunks, the checksum last."""

DownloadPart = VersionInfo | bytes | memoryview | Checksum | NotModified
"""One message of a GetPolicy stream: the version first, chunks (bytes, or views of the received
messages), the checksum last; or NotModified."""


def check_alias(name: str, *, allow_latest: bool = False) -> None:
    """``InvalidArgument`` unless ``name`` is ``[a-z][a-z0-9_-]{0,63}`` (and not ``latest`` unless
    ``allow_latest``)."""
    if not _ALIAS.fullmatch(name):
        raise InvalidArgument(f"an alias is a lowercase letter then up to 63 of [a-z0-9_-], got {name!r}")
    if name == LATEST and not allow_latest:
        raise InvalidArgument("the alias 'latest' is kept by the server: it cannot be moved by hand")


def check_actor(actor: Actor) -> None:
    if not actor.name or len(actor.name) > 128:
        raise InvalidArgument(f"the actor name is required (1..128 characters), got {actor.name!r}")
    if len(actor.reason) > 1000:
        raise InvalidArgument(f"the reason is at most 1000 characters, got {len(actor.reason)}")


def check_sha256(text: str) -> None:
    if not _SHA256.fullmatch(text):
        raise InvalidArgument(f"sha256 must be 64 lowercase hex characters, got {text[:80]!r}")


def _text(what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{what} is at most {limit} characters, got {len(value)}")
    if "\x00" in value:
        raise InvalidArgument(f"{what} must not contain NUL characters")


def check_metadata(metadata: PolicyMetadata, architectures: Mapping[str, object]) -> dict[str, object]:
    """Check what a publisher sent before any byte of weights is read; the parsed config.

    ``InvalidArgument`` names the bad field; ``ResourceExhausted`` for a file over 1 GiB.
    """
    if not 1 <= len(metadata.architecture) <= 64:
        raise InvalidArgument(f"architecture must be 1..64 characters, got {metadata.architecture!r}")
    if metadata.architecture not in architectures:
        known = ", ".join(sorted(architectures)) or "none"
        raise InvalidArgument(f"unknown architecture {metadata.architecture!r}: this server knows {known}")
    if len(metadata.config_json.encode()) > MAX_CONFIG_BYTES:
        raise InvalidArgument(f"config_json is at most {MAX_CONFIG_BYTES} bytes")
    config = metadata.config()
    if metadata.parent_version < 0:
        raise InvalidArgument(f"parent_version must be >= 0, got {metadata.parent_version}")
    if metadata.training_step < 0:
        raise InvalidArgument(f"training_step must be >= 0, got {metadata.training_step}")
    if len(metadata.metrics) > MAX_METRICS:
        raise InvalidArgument(f"at most {MAX_METRICS} metrics, got {len(metadata.metrics)}")
    for name, value in metadata.metrics.items():
        if not name or len(name) > 128:
            raise InvalidArgument(f"metric names are 1..128 characters, got {name[:140]!r}")
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidArgument(f"metric {name!r} must be a finite number, got {value!r}")
    _text("run_id", metadata.run_id, 128)
    _text("publisher", metadata.publisher, 128)
    _text("request_id", metadata.request_id, 128)
    _text("description", metadata.description, 1000)
    if metadata.size_bytes > MAX_WEIGHTS_BYTES:
        raise ResourceExhausted(
            f"size_bytes {metadata.size_bytes} is over the {MAX_WEIGHTS_BYTES} bytes (1 GiB) "
            "a version may have"
        )
    if metadata.size_bytes < 1:
        raise InvalidArgument(f"size_bytes must be 1..{MAX_WEIGHTS_BYTES}, got {metadata.size_bytes}")
    return config
