"""The Model Service's domain: the registry of policy versions, their validation, aliases and log.

Storage (``ModelStore`` in SQL, the ``models`` bucket of the blob store; ``records.py``):

- a version is one ``model_versions`` row: architecture, config, parent, training step, state and
  reason, the SHA-256 and the blob key of its weights, and in its JSON ``metrics`` column the
  learner's metrics, the rest of what the publisher sent, the validation checks and the sanity
  match's result;
- weights are content-addressed blobs ``weights/<sha256>.safetensors`` (written before the row, so
  a row never points at missing weights; identical weights are stored once);
- aliases are ``model_aliases`` rows, and every change (publication, state change, alias moved or
  deleted) is a ``model_events`` row with when, who and why, written by the store in the same
  transaction as the change.

A publication is three steps (``admit``, ``validate``, ``conclude``): the version is created
PENDING, validated (``validation.py``: seconds of CPU, run by the caller in a worker thread), then
ACCEPTED or REJECTED; an accepted version newer than ``latest`` becomes ``latest``. A version left
PENDING by a server that stopped is rejected by ``recover_pending`` when a server starts.

``latest`` is the newest accepted, not retired version, kept by the server; other aliases move only
by ``promote`` and ``rollback``. Registry changes of one process are serialized by a lock; replicas
sharing a database may race on ``latest`` (the newest acceptance wins on the next change).

Hot weights are kept in memory (``lru.SizedLru``, least recently used first out, bounded in bytes),
so actors polling ``latest`` cost two small SQL reads and no blob read.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from generals_rl.services.common.paging import clamp_page_size, decode_token, encode_token
from generals_rl.services.model import weights
from generals_rl.services.model.config import ModelServiceConfig
from generals_rl.services.model.domain import (
    CHAMPION,
    LATEST,
    SERVICE_ACTOR,
    Actor,
    AliasInfo,
    EventKind,
    EventPage,
    Lineage,
    NotModified,
    Selector,
    VersionInfo,
    VersionPage,
    VersionState,
    check_actor,
    check_alias,
)
from generals_rl.services.model.lru import SizedLru
from generals_rl.services.model.records import (
    BUCKET,
    document,
    event_of,
    publication,
    storage_errors,
    version_info,
    weights_key,
)
from generals_rl.services.model.transfer import CompletedUpload
from generals_rl.services.model.validation import ValidationReport, Validator, validate
from generals_rl.storage import BlobStore, Database
from generals_rl.storage.errors import (
    NotFoundError,
)
from generals_rl.storage.records import ModelAlias, ModelVersion, NewModelVersion

_SCAN = 500  # versions read per query when a filter the store lacks is applied here


class ModelCore:
    """The registry (module docstring). Blocking: async callers run it in worker threads."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        config: ModelServiceConfig | None = None,
        validator: Validator | None = None,
    ) -> None:
        self.store = database.models
        self.blobs = blobs
        self.config = config or ModelServiceConfig()
        self.validator: Validator = validator or (
            lambda arch, cfg, data: validate(arch, cfg, data, self.config.validation)
        )
        self.hot: SizedLru[bytes] = SizedLru(self.config.cache_bytes, len)
        self._lock = threading.RLock()  # registry changes: aliases, states, request ids

    @property
    def architectures(self) -> Mapping[str, object]:
        return weights.known_architectures()

    # publication

    def admit(self, upload: CompletedUpload) -> tuple[VersionInfo, bool]:
        """Store an upload as a PENDING version: (the version, True); or, for a ``request_id`` seen
        before, (the version that upload created, False) with nothing stored. ``NotFound`` for an
        unknown parent (nothing stored)."""
        metadata = upload.metadata
        with storage_errors():
            if metadata.parent_version:
                try:
                    self.store.get_version(metadata.parent_version)
                except NotFoundError:
                    raise NotFound(f"parent version {metadata.parent_version} does not exist") from None
            if metadata.request_id and (earlier := self._by_request_id(metadata.request_id)) is not None:
                return self._info(earlier), False
            key = weights_key(upload.sha256)
            self.blobs.put(BUCKET, key, upload.data)
            with self._lock:
                if metadata.request_id and (earlier := self._by_request_id(metadata.request_id)) is not None:
                    return self._info(earlier), False
                new = NewModelVersion(
                    architecture=metadata.architecture,
                    config=upload.config,
                    parent=metadata.parent_version or None,
                    training_step=metadata.training_step,
                    metrics=document(metadata),
                    weights_location=key,
                    checksum=upload.sha256,
                    status="pending",
                )
                actor = metadata.publisher or "anonymous"
                reason = metadata.description or f"published (training step {metadata.training_step})"
                record = self.store.create_version(new, actor=actor, reason=reason)
        return version_info(record), True

    def validate(self, version: VersionInfo, data: bytes) -> ValidationReport:
        """Run the validator on a version's weights (seconds of CPU: call it in a worker thread)."""
        return self.validator(version.metadata.architecture, version.metadata.config_json, data)

    def conclude(self, version: int, report: ValidationReport, data: bytes | None = None) -> VersionInfo:
        """Record the checks and accept or reject the version; an accepted one newer than ``latest``
        becomes ``latest`` (and its ``data`` is kept hot)."""
        with storage_errors(), self._lock:
            record = self.store.get_version(version)
            doc = dict(record.metrics)
            doc["checks"] = [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in report.checks]
            if report.sanity:
                doc["sanity"] = dict(report.sanity)
            self.store.update_version(version, metrics=doc)
            if report.passed:
                reason = f"passed validation: {', '.join(c.name for c in report.checks)}"
                record = self.store.set_status(version, "accepted", actor=SERVICE_ACTOR, reason=reason)
                if data is not None and record.checksum:
                    self.hot.put(record.checksum, data)
                current = self._alias(LATEST)
                if current is None or current.version < version:
                    why = "newest accepted version"
                    self.store.set_alias(LATEST, version, actor=SERVICE_ACTOR, reason=why)
            else:
                self.store.set_status(version, "rejected", actor=SERVICE_ACTOR, reason=report.reason)
            return self._info(self.store.get_version(version))

    def publish(self, upload: CompletedUpload) -> VersionInfo:
        """``admit``, ``validate`` and ``conclude`` in this thread (tools and tests; the service
        runs validation under its own bound and concurrency limit)."""
        version, new = self.admit(upload)
        if not new:
            return version
        return self.conclude(version.version, self.validate(version, upload.data), upload.data)

    def recover_pending(self, older_than_s: float | None = None) -> list[int]:
        """Reject versions PENDING for longer than ``older_than_s`` (default: the config's): their
        validation was cut short by a server that stopped. The versions rejected."""
        limit = self.config.stale_pending_s if older_than_s is None else older_than_s
        cutoff = datetime.now(UTC) - timedelta(seconds=limit)
        rejected = []
        with storage_errors(), self._lock:
            for record in self._scan(status="pending"):
                if record.created_at <= cutoff:
                    reason = "validation was interrupted (a server stopped): publish the version again"
                    self.store.set_status(record.version, "rejected", actor=SERVICE_ACTOR, reason=reason)
                    rejected.append(record.version)
        return rejected

    # reads

    def get_version(self, selector: Selector) -> VersionInfo:
        with storage_errors():
            aliases = self.store.list_aliases()
            return self._info(self._resolve(selector, aliases), aliases)

    def download(self, selector: Selector, if_newer_than: int = 0) -> tuple[VersionInfo, bytes] | NotModified:
        """A version's weights, checked against their SHA-256; ``NotModified`` when ``if_newer_than``
        > 0 and the selected version is not newer. Retired versions only by number."""
        if if_newer_than < 0:
            raise InvalidArgument(f"if_newer_than must be >= 0, got {if_newer_than}")
        with storage_errors():
            aliases = self.store.list_aliases()
            record = self._resolve(selector, aliases)
            servable = ("accepted", "retired") if selector.version else ("accepted",)
            if record.status not in servable:
                how = "asked for by alias" if record.status == "retired" else "not servable"
                raise FailedPrecondition(
                    f"version {record.version} is {record.status.upper()} ({how}): only accepted versions "
                    "are served, retired ones by number"
                )
            if if_newer_than and record.version <= if_newer_than:
                return NotModified(record.version)
            return self._info(record, aliases), self._weights(record)

    def list_versions(
        self,
        *,
        state: VersionState | None = None,
        architecture: str = "",
        run_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> VersionPage:
        size = clamp_page_size(page_size)
        query = ("versions", state, architecture, run_id)
        offset = decode_token(page_token, query)
        with storage_errors():
            aliases = self.store.list_aliases()
            if not architecture and not run_id:
                records = self.store.list_versions(status=state, limit=size + 1, offset=offset)
                more, total = len(records) > size, 0
            else:
                matching = [
                    r
                    for r in self._scan(status=state)
                    if (not architecture or r.architecture == architecture)
                    and (not run_id or publication(r).get("run_id") == run_id)
                ]
                records, total = matching[offset : offset + size + 1], len(matching)
                more = len(records) > size
            versions = tuple(self._info(r, aliases) for r in records[:size])
        return VersionPage(versions, encode_token(offset + size, query) if more else "", total)

    def lineage(self, version: int, max_depth: int = 0) -> Lineage:
        if max_depth < 0:
            raise InvalidArgument(f"max_depth must be >= 0, got {max_depth}")
        with storage_errors():
            aliases = self.store.list_aliases()
            record = self._resolve(Selector(version=version), aliases)
            ancestors: list[ModelVersion] = []
            parent, seen = record.parent, {record.version}
            while parent is not None and parent not in seen and (not max_depth or len(ancestors) < max_depth):
                seen.add(parent)
                ancestors.append(self.store.get_version(parent))
                parent = ancestors[-1].parent
            children = sorted((r for r in self._scan() if r.parent == version), key=lambda r: r.version)
            return Lineage(
                self._info(record, aliases),
                tuple(self._info(r, aliases) for r in ancestors),
                tuple(self._info(r, aliases) for r in children),
            )

    def list_aliases(self) -> list[AliasInfo]:
        with storage_errors():
            return [self._alias_info(alias) for alias in self.store.list_aliases()]

    def list_events(
        self,
        *,
        version: int = 0,
        alias: str = "",
        kind: EventKind | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> EventPage:
        size = clamp_page_size(page_size)
        query = ("events", version, alias, kind)
        offset = decode_token(page_token, query)
        need = offset + size + 1
        limit = need
        with storage_errors():
            while True:
                rows = self.store.events(alias=alias or None, version=version or None, limit=limit)
                events = [e for e in map(event_of, rows) if kind is None or e.kind == kind]
                if len(events) >= need or len(rows) < limit:
                    break
                limit *= 4
        page = tuple(events[offset : offset + size])
        return EventPage(page, encode_token(offset + size, query) if len(events) > offset + size else "")

    # changes

    def promote(self, version: int, alias: str, actor: Actor) -> AliasInfo:
        """Point ``alias`` (default ``champion``) at an accepted version; a no-op when it already does."""
        alias = alias or CHAMPION
        check_alias(alias)
        check_actor(actor)
        with storage_errors(), self._lock:
            record = self._resolve(Selector(version=version), [])
            if record.status != "accepted":
                raise FailedPrecondition(
                    f"version {version} is {record.status.upper()}: only accepted versions can be promoted"
                )
            current = self._alias(alias)
            if current is not None and current.version == version:
                return self._alias_info(current)
            moved = self.store.set_alias(alias, version, actor=actor.name, reason=actor.reason or None)
            return self._alias_info(moved, previous=current.version if current else 0)

    def rollback(self, alias: str, to_version: int, actor: Actor) -> AliasInfo:
        """Point ``alias`` (default ``champion``) back: at ``to_version``, or by default at the version
        it pointed at before its last change."""
        alias = alias or CHAMPION
        check_alias(alias)
        check_actor(actor)
        if to_version < 0:
            raise InvalidArgument(f"to_version must be >= 0, got {to_version}")
        with storage_errors(), self._lock:
            current = self._alias(alias)
            if current is None:
                raise NotFound(f"alias {alias!r} points at nothing: there is nothing to roll back")
            target = to_version or self._previous(alias)
            if not target:
                raise NotFound(f"alias {alias!r} has no earlier version to roll back to")
            record = self._resolve(Selector(version=target), [])
            if record.status != "accepted":
                raise FailedPrecondition(
                    f"cannot roll {alias!r} back to version {target}: "
                    f"it is {record.status.upper()}, not ACCEPTED"
                )
            if target == current.version:
                return self._alias_info(current)
            reason = actor.reason or f"rollback from version {current.version}"
            moved = self.store.set_alias(alias, target, actor=actor.name, reason=reason)
            return self._alias_info(moved, previous=current.version)

    def retire(self, version: int, actor: Actor) -> VersionInfo:
        """Withdraw an accepted version: served by number only from now on; ``latest`` moves off it."""
        check_actor(actor)
        with storage_errors(), self._lock:
            aliases = self.store.list_aliases()
            record = self._resolve(Selector(version=version), aliases)
            if record.status == "retired":
                return self._info(record, aliases)
            if record.status != "accepted":
                raise FailedPrecondition(
                    f"version {version} is {record.status.upper()}: only accepted versions can be retired"
                )
            held = sorted(a.alias for a in aliases if a.version == version and a.alias != LATEST)
            if held:
                raise FailedPrecondition(
                    f"alias {', '.join(repr(a) for a in held)} points at version {version}: "
                    "promote or roll it back to another version first"
                )
            reason = actor.reason or "retired"
            self.store.set_status(version, "retired", actor=actor.name, reason=reason)
            latest = self._alias(LATEST)
            if latest is not None and latest.version == version:
                newest = self.store.latest_version(status="accepted")
                why = f"version {version} was retired"
                if newest is None:
                    self.store.delete_alias(LATEST, actor=SERVICE_ACTOR, reason=why)
                else:
                    self.store.set_alias(LATEST, newest.version, actor=SERVICE_ACTOR, reason=why)
            aliases = self.store.list_aliases()
            return self._info(self.store.get_version(version), aliases)

    # helpers (inside storage_errors)

    def _resolve(self, selector: Selector, aliases: list[ModelAlias]) -> ModelVersion:
        if selector.version:
            try:
                return self.store.get_version(selector.version)
            except NotFoundError:
                raise NotFound(f"there is no version {selector.version}") from None
        found = next((a for a in aliases if a.alias == selector.alias), None)
        if found is None and selector.alias == LATEST:
            raise NotFound("alias 'latest' names nothing yet: no version has been accepted")
        if found is None:
            raise NotFound(f"there is no alias {selector.alias!r}")
        return self.store.get_version(found.version)

    def _info(self, record: ModelVersion, aliases: list[ModelAlias] | None = None) -> VersionInfo:
        if aliases is None:
            aliases = self.store.list_aliases()
        names: dict[int, list[str]] = {}
        for alias in aliases:
            names.setdefault(alias.version, []).append(alias.alias)
        return version_info(record, names)

    def _alias(self, name: str) -> ModelAlias | None:
        try:
            return self.store.get_alias(name)
        except NotFoundError:
            return None

    def _previous(self, alias: str) -> int:
        """The version ``alias`` pointed at before its last change (0: none)."""
        last = self.store.events(alias=alias, limit=1)
        return (last[0].previous_version or 0) if last and last[0].kind == "alias_set" else 0

    def _alias_info(self, alias: ModelAlias, previous: int | None = None) -> AliasInfo:
        return AliasInfo(
            name=alias.alias,
            version=alias.version,
            previous_version=self._previous(alias.alias) if previous is None else previous,
            updated_at=alias.updated_at,
            updated_by=Actor(alias.updated_by, alias.reason or ""),
        )

    def _weights(self, record: ModelVersion) -> bytes:
        sha = record.checksum or ""
        data = self.hot.get(sha)
        if data is not None:
            return data
        if not record.weights_location:
            raise FailedPrecondition(f"version {record.version} has no stored weights")
        data = self.blobs.get(BUCKET, record.weights_location)
        if hashlib.sha256(data).hexdigest() != sha:
            raise FailedPrecondition(
                f"the stored weights of version {record.version} do not match their SHA-256: they are corrupt"
            )
        self.hot.put(sha, data)
        return data

    def _scan(self, status: VersionState | None = None) -> Iterator[ModelVersion]:
        offset = 0
        while True:
            page = self.store.list_versions(status=status, limit=_SCAN, offset=offset)
            yield from page
            if len(page) < _SCAN:
                return
            offset += _SCAN

    def _by_request_id(self, request_id: str) -> ModelVersion | None:
        return next((r for r in self._scan() if publication(r).get("request_id") == request_id), None)
