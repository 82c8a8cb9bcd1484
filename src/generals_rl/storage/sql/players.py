"""``SqlPlayerStore``: humans, bots and model versions as players; ``(kind, name)`` is unique."""

from __future__ import annotations

import builtins
import uuid
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from generals_rl.storage.errors import AlreadyExistsError, ConflictError, NotFoundError
from generals_rl.storage.records import PLAYER_KINDS, Player, PlayerKind
from generals_rl.storage.sql.base import SqlStoreBase, check_choice, check_limit, check_text
from generals_rl.storage.sql.schema import ModelVersionRow, PlayerRow, utcnow


def to_player(row: PlayerRow) -> Player:
    return Player(
        id=row.id,
        kind=cast(PlayerKind, row.kind),
        name=row.name,
        created_at=row.created_at,
        model_version=row.model_version,
    )


class SqlPlayerStore(SqlStoreBase):
    """The ``PlayerStore`` seam on SQL."""

    def create(
        self, kind: PlayerKind, name: str, *, id: str | None = None, model_version: int | None = None
    ) -> Player:
        self._check(kind, name, model_version)
        player_id = uuid.uuid4().hex if id is None else id
        check_text("player id", player_id, 64)
        return self._write(lambda s: self._insert(s, player_id, kind, name, model_version, exist_ok=False))

    def get(self, player_id: str) -> Player:
        row = self._read(lambda s: s.get(PlayerRow, player_id))
        if row is None:
            raise NotFoundError(f"no player with id {player_id!r}")
        return to_player(row)

    def find(self, kind: PlayerKind, name: str) -> Player | None:
        check_choice("player kind", kind, PLAYER_KINDS)
        row = self._read(lambda s: s.scalar(select(PlayerRow).filter_by(kind=kind, name=name)))
        return None if row is None else to_player(row)

    def ensure(self, kind: PlayerKind, name: str, *, model_version: int | None = None) -> Player:
        self._check(kind, name, model_version)
        return self._write(
            lambda s: self._insert(s, uuid.uuid4().hex, kind, name, model_version, exist_ok=True)
        )

    def list(
        self, *, kind: PlayerKind | None = None, limit: int = 100, offset: int = 0
    ) -> builtins.list[Player]:
        check_limit(limit, offset)
        query = select(PlayerRow).order_by(PlayerRow.created_at, PlayerRow.id).limit(limit).offset(offset)
        if kind is not None:
            check_choice("player kind", kind, PLAYER_KINDS)
            query = query.where(PlayerRow.kind == kind)
        return [to_player(row) for row in self._read(lambda s: s.scalars(query).all())]

    @staticmethod
    def _check(kind: str, name: str, model_version: int | None) -> None:
        check_choice("player kind", kind, PLAYER_KINDS)
        check_text("player name", name, 128)
        if model_version is not None and kind != "model":
            raise ValueError(f"only players of kind 'model' have a model version, got kind {kind!r}")

    @staticmethod
    def _insert(
        session: Session, player_id: str, kind: str, name: str, model_version: int | None, *, exist_ok: bool
    ) -> Player:
        existing = session.scalar(select(PlayerRow).filter_by(kind=kind, name=name))
        if existing is not None:
            if exist_ok and model_version not in (None, existing.model_version):
                raise ConflictError(
                    f"player {name!r} is model version {existing.model_version}, not {model_version}"
                )
            if exist_ok:
                return to_player(existing)
            raise AlreadyExistsError(f"a {kind} player named {name!r} exists already (id {existing.id!r})")
        if session.get(PlayerRow, player_id) is not None:
            raise AlreadyExistsError(f"a player with id {player_id!r} exists already")
        if model_version is not None and session.get(ModelVersionRow, model_version) is None:
            raise NotFoundError(f"no model version {model_version}")
        row = PlayerRow(id=player_id, kind=kind, name=name, model_version=model_version, created_at=utcnow())
        session.add(row)
        session.flush()
        return to_player(row)
