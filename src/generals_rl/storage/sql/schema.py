"""The SQL schema as SQLAlchemy 2 typed ORM models. The database gets it only through the Alembic
migrations in ``storage/migrations``; a contract test checks the two agree on SQLite and PostgreSQL.

Constraint names follow one naming convention so migrations can refer to them on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from generals_rl.storage.records import (
    GAME_MODES,
    GAME_STATUSES,
    MODEL_EVENT_KINDS,
    MODEL_STATUSES,
    OUTCOMES,
    PLAYER_KINDS,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone: we store UTC, re-attach it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got naive {value.isoformat()}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class PlayerRow(Base):
    __tablename__ = "players"
    __table_args__ = (UniqueConstraint("kind", "name"), _one_of("kind", PLAYER_KINDS))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[int | None] = mapped_column(ForeignKey("model_versions.version"))
    created_at: Mapped[datetime]


class GameRow(Base):
    __tablename__ = "games"
    __table_args__ = (
        _one_of("mode", GAME_MODES),
        _one_of("status", GAME_STATUSES),
        Index(None, "status", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    map: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    speed: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ticks: Mapped[int] = mapped_column(Integer)
    winner_id: Mapped[str | None] = mapped_column(ForeignKey("players.id"))
    replay_location: Mapped[str | None] = mapped_column(String(1024))


class GameSeatRow(Base):
    """The players of a game in seat order (seat 0 first)."""

    __tablename__ = "game_seats"
    __table_args__ = (UniqueConstraint("game_id", "player_id"), Index(None, "player_id"))

    game_id: Mapped[str] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), primary_key=True)
    seat: Mapped[int] = mapped_column(Integer, primary_key=True)
    player_id: Mapped[str] = mapped_column(ForeignKey("players.id"))


class MatchResultRow(Base):
    __tablename__ = "match_results"
    __table_args__ = (
        UniqueConstraint("game_id", "seat"),
        _one_of("outcome", OUTCOMES),
        Index(None, "player_id"),
    )

    game_id: Mapped[str] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"), primary_key=True)
    player_id: Mapped[str] = mapped_column(ForeignKey("players.id"), primary_key=True)
    seat: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))
    placement: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]


class RatingRow(Base):
    """A player's current rating in one mode's pool (1v1 and FFA are rated apart)."""

    __tablename__ = "ratings"
    __table_args__ = (Index(None, "elo"), Index(None, "mu"), _one_of("mode", GAME_MODES))

    player_id: Mapped[str] = mapped_column(ForeignKey("players.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True, server_default="1v1")
    elo: Mapped[float] = mapped_column(Double)
    mu: Mapped[float | None] = mapped_column(Double)
    sigma: Mapped[float | None] = mapped_column(Double)
    volatility: Mapped[float | None] = mapped_column(Double)
    games: Mapped[int] = mapped_column(Integer)
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    draws: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class RatingHistoryRow(Base):
    __tablename__ = "rating_history"
    __table_args__ = (UniqueConstraint("player_id", "game_id"), Index(None, "game_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    player_id: Mapped[str] = mapped_column(ForeignKey("players.id"))
    game_id: Mapped[str] = mapped_column(ForeignKey("games.id"))
    elo_before: Mapped[float | None] = mapped_column(Double)  # None: unrated before this game
    elo_after: Mapped[float] = mapped_column(Double)
    mu_before: Mapped[float | None] = mapped_column(Double)
    mu_after: Mapped[float | None] = mapped_column(Double)
    sigma_before: Mapped[float | None] = mapped_column(Double)
    sigma_after: Mapped[float | None] = mapped_column(Double)
    at: Mapped[datetime]


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (_one_of("status", MODEL_STATUSES), Index(None, "status"))

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent: Mapped[int | None] = mapped_column(ForeignKey("model_versions.version"))
    architecture: Mapped[str] = mapped_column(String(128))
    config: Mapped[dict[str, Any]]
    training_step: Mapped[int] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any]]
    weights_location: Mapped[str | None] = mapped_column(String(1024))
    checksum: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"

    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(ForeignKey("model_versions.version"))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)


class ModelEventRow(Base):
    __tablename__ = "model_events"
    __table_args__ = (
        _one_of("kind", MODEL_EVENT_KINDS),
        Index(None, "alias"),
        Index(None, "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(ForeignKey("model_versions.version"))
    alias: Mapped[str | None] = mapped_column(String(64))
    previous_version: Mapped[int | None] = mapped_column(ForeignKey("model_versions.version"))
    status: Mapped[str | None] = mapped_column(String(16))
