"""Alembic environment for generals-rl: no alembic.ini; ``storage.sql.database.upgrade`` passes the engine
in ``config.attributes["engine"]``. Target metadata is the ORM schema, for autogenerate."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Engine

from generals_rl.storage.sql.schema import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Migrations use plain SQLAlchemy types, never our Python-side wrappers, so old revisions keep working
    when the models change."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run the migrations through generals_rl.storage.upgrade(uri) or `grl db upgrade`")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them; the same revisions run on both
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them against a database")
run_migrations_online()
