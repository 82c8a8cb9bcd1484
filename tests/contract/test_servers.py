"""The test servers' own contract: a missing binary skips the tests that need it, naming the binary;
``GRL_REQUIRE_SERVERS=1`` (CI) turns that into a failure. Runs pytest on one Redis test, without PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generals_rl.storage import open_sql, upgrade

ROOT = Path(__file__).resolve().parents[2]
ONE_REDIS_TEST = "tests/contract/test_cache.py::test_values_are_bytes_out_whatever_went_in[redis]"


def run_without_binaries(require: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": "/nonexistent", "GRL_REQUIRE_SERVERS": "1" if require else "0"}
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_REDIS_TEST]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_missing_server_binary_skips_with_its_name() -> None:
    result = run_without_binaries(require=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout and "redis-server" in result.stdout


def test_with_grl_require_servers_a_missing_binary_fails() -> None:
    result = run_without_binaries(require=True)
    assert result.returncode != 0
    assert "redis-server" in result.stdout and "GRL_REQUIRE_SERVERS=1" in result.stdout


def test_the_sql_fixture_databases_are_isolated(sql_uri: str, empty_sql_uri: str) -> None:
    with open_sql(sql_uri) as db:
        db.players.create("bot", "only-here")
    upgrade(empty_sql_uri)
    with open_sql(empty_sql_uri) as other:
        assert other.players.list() == []


def test_an_in_memory_sqlite_database_is_migrated_through_its_handle() -> None:
    with open_sql("sqlite://") as db:
        assert upgrade(db).after is not None
        db.players.create("bot", "x")
        assert [p.name for p in db.players.list()] == ["x"]


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_a_redis_password_never_shows_in_the_uri(scheme: str) -> None:
    from generals_rl.storage.cache.redis import RedisCache

    cache = RedisCache(f"{scheme}://user:p%40ss-w0rd@cache.internal:6380/1")
    assert cache.uri == f"{scheme}://user:***@cache.internal:6380/1"
