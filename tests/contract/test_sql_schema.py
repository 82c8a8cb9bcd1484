"""The migrations create exactly the ORM schema, on SQLite and PostgreSQL; ``grl db upgrade`` runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from generals_rl.cli.main import app
from generals_rl.storage import head_revision, open_sql, upgrade
from generals_rl.storage.sql.schema import Base


def test_the_migrations_create_exactly_the_models_schema(empty_sql_uri: str) -> None:
    done = upgrade(empty_sql_uri)
    assert (done.before, done.after, done.changed) == (None, head_revision(), True)
    with open_sql(empty_sql_uri) as db, db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)


def test_upgrade_twice_changes_nothing(sql_uri: str) -> None:
    done = upgrade(sql_uri)
    assert (done.before, done.after, done.changed) == (head_revision(), head_revision(), False)


def test_grl_db_upgrade_creates_the_default_sqlite_file_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRL_SQL_URI", raising=False)
    monkeypatch.setenv("GRL_DATA_DIR", str(tmp_path / "data"))
    first = CliRunner().invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "upgraded from an empty database to revision" in first.output
    assert (tmp_path / "data" / "grl.db").is_file()
    again = CliRunner().invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_grl_db_upgrade_takes_the_uri_from_the_flag_then_the_environment(
    empty_sql_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRL_SQL_URI", empty_sql_uri)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    flagged = f"sqlite:///{tmp_path / 'flag.db'}"
    result = CliRunner().invoke(app, ["db", "upgrade", "--sql-uri", flagged])
    assert result.exit_code == 0 and "flag.db" in result.output
    with open_sql(empty_sql_uri) as db:
        assert "players" in inspect(db.engine).get_table_names()


@pytest.mark.parametrize("uri", ["mysql://u@h/db", "sqlite://host/x.db", "postgresql:///nohost", "not a uri"])
def test_grl_db_upgrade_refuses_a_bad_uri_in_one_line(uri: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--sql-uri", uri])
    assert result.exit_code == 2
    assert uri in result.output and "Traceback" not in result.output


def test_grl_db_upgrade_says_when_the_server_is_unreachable() -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--sql-uri", "postgresql://u@127.0.0.1:1/db"])
    assert result.exit_code == 2
    assert "cannot migrate postgresql://u@127.0.0.1:1/db" in result.output
