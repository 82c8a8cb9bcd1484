"""``SqlModelStore``: model versions, aliases and the event log of every change to them."""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from generals_rl.storage.errors import NotFoundError
from generals_rl.storage.records import (
    MODEL_STATUSES,
    ModelAlias,
    ModelEvent,
    ModelEventKind,
    ModelStatus,
    ModelVersion,
    NewModelVersion,
)
from generals_rl.storage.sql.base import SqlStoreBase, check_choice, check_limit, check_text
from generals_rl.storage.sql.schema import ModelAliasRow, ModelEventRow, ModelVersionRow, utcnow

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _version(row: ModelVersionRow) -> ModelVersion:
    return ModelVersion(
        version=row.version,
        architecture=row.architecture,
        config=dict(row.config),
        parent=row.parent,
        training_step=row.training_step,
        metrics=dict(row.metrics),
        weights_location=row.weights_location,
        checksum=row.checksum,
        status=cast(ModelStatus, row.status),
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _alias(row: ModelAliasRow) -> ModelAlias:
    return ModelAlias(row.alias, row.version, row.updated_at, row.updated_by, row.reason)


def _event(row: ModelEventRow) -> ModelEvent:
    return ModelEvent(
        id=row.id,
        kind=cast(ModelEventKind, row.kind),
        at=row.at,
        actor=row.actor,
        reason=row.reason,
        version=row.version,
        alias=row.alias,
        previous_version=row.previous_version,
        status=cast(ModelStatus | None, row.status),
    )


def _json(what: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy (round-tripped, so what is stored is what comes back)."""
    try:
        return cast(dict[str, Any], json.loads(json.dumps(dict(value), allow_nan=False)))
    except (TypeError, ValueError) as error:
        raise ValueError(f"the model {what} must be JSON (finite numbers, string keys): {error}") from None


def _check_alias(alias: str) -> None:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise ValueError(f"an alias is 1-64 letters, digits, '_', '.' or '-', starting alnum; got {alias!r}")


def _log(session: Session, kind: str, actor: str, reason: str | None, **fields: Any) -> None:
    check_text("actor", actor, 128)
    session.add(ModelEventRow(kind=kind, at=utcnow(), actor=actor, reason=reason, **fields))


def _get(session: Session, version: int, *, lock: bool = False) -> ModelVersionRow:
    row = session.get(ModelVersionRow, version, with_for_update=lock)
    if row is None:
        raise NotFoundError(f"no model version {version}")
    return row


class SqlModelStore(SqlStoreBase):
    """The ``ModelStore`` seam on SQL."""

    def create_version(
        self, new: NewModelVersion, *, actor: str = "system", reason: str | None = None
    ) -> ModelVersion:
        check_text("architecture", new.architecture, 128)
        check_choice("model status", new.status, MODEL_STATUSES)
        config, metrics = _json("config", new.config), _json("metrics", new.metrics)
        if not isinstance(new.training_step, int) or new.training_step < 0:
            raise ValueError(f"the training step must be an integer >= 0, got {new.training_step!r}")

        def create(session: Session) -> ModelVersion:
            if new.parent is not None:
                _get(session, new.parent)
            now = utcnow()
            row = ModelVersionRow(
                parent=new.parent,
                architecture=new.architecture,
                config=config,
                training_step=new.training_step,
                metrics=metrics,
                weights_location=new.weights_location,
                checksum=new.checksum,
                status=new.status,
                reason=new.reason,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            _log(session, "created", actor, reason, version=row.version, status=new.status)
            session.flush()
            return _version(row)

        return self._write(create)

    def get_version(self, version: int) -> ModelVersion:
        return self._read(lambda s: _version(_get(s, version)))

    def list_versions(
        self, *, status: ModelStatus | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[ModelVersion]:
        check_limit(limit, offset)
        query = select(ModelVersionRow).order_by(ModelVersionRow.version.desc()).limit(limit).offset(offset)
        if status is not None:
            check_choice("model status", status, MODEL_STATUSES)
            query = query.where(ModelVersionRow.status == status)
        return [_version(row) for row in self._read(lambda s: s.scalars(query).all())]

    def latest_version(self, *, status: ModelStatus | None = None) -> ModelVersion | None:
        versions = self.list_versions(status=status, limit=1)
        return versions[0] if versions else None

    def update_version(
        self,
        version: int,
        *,
        weights_location: str | None = None,
        checksum: str | None = None,
        metrics: Mapping[str, object] | None = None,
        training_step: int | None = None,
    ) -> ModelVersion:
        stored_metrics = None if metrics is None else _json("metrics", metrics)
        if weights_location is not None:
            check_text("weights location", weights_location, 1024)
        if checksum is not None:
            check_text("checksum", checksum, 128)
        if training_step is not None and (not isinstance(training_step, int) or training_step < 0):
            raise ValueError(f"the training step must be an integer >= 0, got {training_step!r}")

        def change(session: Session) -> ModelVersion:
            row = _get(session, version, lock=True)
            if weights_location is not None:
                row.weights_location = weights_location
            if checksum is not None:
                row.checksum = checksum
            if stored_metrics is not None:
                row.metrics = stored_metrics
            if training_step is not None:
                row.training_step = training_step
            row.updated_at = utcnow()
            session.flush()
            return _version(row)

        return self._write(change)

    def set_status(
        self, version: int, status: ModelStatus, *, actor: str, reason: str | None = None
    ) -> ModelVersion:
        check_choice("model status", status, MODEL_STATUSES)

        def change(session: Session) -> ModelVersion:
            row = _get(session, version, lock=True)
            row.status, row.reason, row.updated_at = status, reason, utcnow()
            _log(session, "status", actor, reason, version=version, status=status)
            session.flush()
            return _version(row)

        return self._write(change)

    def set_alias(self, alias: str, version: int, *, actor: str, reason: str | None = None) -> ModelAlias:
        _check_alias(alias)

        def change(session: Session) -> ModelAlias:
            _get(session, version)
            row = session.get(ModelAliasRow, alias, with_for_update=True)
            previous = None if row is None else row.version
            if row is None:
                row = ModelAliasRow(alias=alias)
                session.add(row)
            row.version, row.updated_at, row.updated_by, row.reason = version, utcnow(), actor, reason
            _log(session, "alias_set", actor, reason, alias=alias, version=version, previous_version=previous)
            session.flush()
            return _alias(row)

        return self._write(change)

    def get_alias(self, alias: str) -> ModelAlias:
        row = self._read(lambda s: s.get(ModelAliasRow, alias))
        if row is None:
            raise NotFoundError(f"no model alias {alias!r}")
        return _alias(row)

    def list_aliases(self) -> builtins.list[ModelAlias]:
        query = select(ModelAliasRow).order_by(ModelAliasRow.alias)
        return [_alias(row) for row in self._read(lambda s: s.scalars(query).all())]

    def delete_alias(self, alias: str, *, actor: str, reason: str | None = None) -> None:
        def delete(session: Session) -> None:
            row = session.get(ModelAliasRow, alias, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no model alias {alias!r}")
            _log(session, "alias_deleted", actor, reason, alias=alias, previous_version=row.version)
            session.delete(row)

        self._write(delete)

    def events(
        self, *, alias: str | None = None, version: int | None = None, limit: int = 100
    ) -> builtins.list[ModelEvent]:
        check_limit(limit)
        query = select(ModelEventRow).order_by(ModelEventRow.id.desc()).limit(limit)
        if alias is not None:
            query = query.where(ModelEventRow.alias == alias)
        if version is not None:
            query = query.where(ModelEventRow.version == version)
        return [_event(row) for row in self._read(lambda s: s.scalars(query).all())]
