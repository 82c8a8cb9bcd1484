"""Shared fixtures: real storage servers on loopback, and fresh storage URIs for every backend.

Servers start once per session, only when a test asks for them, on free loopback ports, with their
data in temporary folders removed at the end:

- ``postgres_server``: PostgreSQL (``initdb`` + ``pg_ctl``; as the ``postgres`` user when run as root),
- ``redis_server``: ``redis-server`` without persistence,
- ``s3_server``: moto's S3-compatible server (``python -m moto.server``), with fake AWS credentials.

A missing binary skips the tests that need it, with a message naming it; with ``GRL_REQUIRE_SERVERS=1``
(CI) they fail instead.

Per test, each of these is fresh and isolated, parametrized over the backends:

- ``sql_uri`` (sqlite, postgresql): a new database already at the migrations' head;
  ``empty_sql_uri``: a new, empty database; ``database``: ``open_sql(sql_uri)``, closed after the test.
- ``cache_uri`` (memory, redis): ``memory://`` or a flushed Redis database; ``cache``: opened.
- ``blob_uri`` (file, s3): a new folder or a new bucket prefix (with a key prefix), buckets created;
  ``blobs``: opened.
"""

from __future__ import annotations

import itertools
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

# Before anything loads torch: passive OpenMP waiting (see generals_rl/__init__.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from generals_rl.services.common.logging import installed_log_handler
from generals_rl.storage import BlobStore, Cache, SqlDatabase, open_blobs, open_cache, open_sql, upgrade

REQUIRE_SERVERS = os.environ.get("GRL_REQUIRE_SERVERS") == "1"
_names = itertools.count(1)


def server_missing(message: str) -> NoReturn:
    """Skip (or, with GRL_REQUIRE_SERVERS=1, fail) the tests that need a server we cannot start."""
    if REQUIRE_SERVERS:
        pytest.fail(f"{message} (GRL_REQUIRE_SERVERS=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"{what} did not start within 60 s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# PostgreSQL


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL; ``uri(db)`` names one of its databases; ``create_database`` makes one."""

    port: int
    user: str = "postgres"
    host: str = "127.0.0.1"

    def uri(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, template: str | None = None) -> str:
        name = f"grl_{next(_names)}_{secrets.token_hex(3)}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _log_handler_left_behind_removed() -> Iterator[None]:
    """A command a test runs in process (typer's CliRunner, ``grl train``) installs its log handler
    on the root logger, writing to a stream that closes with the test: it leaves with the test, or
    a later log line from a thread of another test hits the closed stream."""
    before = installed_log_handler()
    yield
    after = installed_log_handler()
    if after is not None and after is not before:
        logging.getLogger().removeHandler(after)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = {name: shutil.which(name) for name in ("initdb", "pg_ctl")}
    missing = [name for name, path in binaries.items() if path is None]
    if missing:
        server_missing(f"PostgreSQL tests need {' and '.join(missing)} on PATH (PostgreSQL server binaries)")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="grl-postgres-"))
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        runuser = shutil.which("runuser")
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = None
        if runuser is None or account is None:
            server_missing("PostgreSQL tests run as root need `runuser` and a `postgres` user")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = [runuser, "-u", "postgres", "--"]
    data, log = base / "data", base / "postgres.log"
    initdb = [*as_user, str(binaries["initdb"]), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run([*initdb, "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    port = free_port()
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=300"
    )
    pg_ctl = [*as_user, str(binaries["pg_ctl"]), "-D", str(data)]
    started = subprocess.run(
        [*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], capture_output=True
    )
    if started.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {started.stderr.decode(errors='replace')}\n{text}")
    try:
        yield PostgresServer(port)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def _postgres_template(postgres_server: PostgresServer) -> str:
    """A database at the migrations' head that fresh test databases are copied from."""
    name = postgres_server.create_database()
    upgrade(postgres_server.uri(name))
    return name


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _sql_uri(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / f"grl-{next(_names)}.db"  # unique: a test may ask for several databases
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("_postgres_template") if migrated else None
    name = server.create_database(template)
    try:
        yield server.uri(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQL database at the migrations' head, on each backend."""
    yield from _sql_uri(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_sql_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty SQL database (no tables), on each backend."""
    yield from _sql_uri(request, tmp_path, migrated=False)


@pytest.fixture
def database(sql_uri: str) -> Iterator[SqlDatabase]:
    db = open_sql(sql_uri)
    try:
        yield db
    finally:
        db.close()


# Redis


@dataclass(frozen=True)
class RedisServer:
    port: int
    host: str = "127.0.0.1"
    databases: int = 16

    def uri(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        server_missing("Redis tests need redis-server on PATH")
    import redis

    base = Path(tempfile.mkdtemp(prefix="grl-redis-"))
    port, log = free_port(), base / "redis.log"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(base), "--databases", str(RedisServer.databases)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        wait_for(lambda: bool(client.ping()), "redis-server", process, log)
        yield RedisServer(port)
    finally:
        client.close()
        stop(process)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["memory", "redis"])
def cache_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """``memory://`` or an emptied Redis database (a different one from test to test)."""
    if request.param == "memory":
        yield "memory://"
        return
    import redis

    server: RedisServer = request.getfixturevalue("redis_server")
    db = next(_names) % server.databases
    with redis.Redis(host=server.host, port=server.port, db=db) as client:
        client.flushdb()
        yield server.uri(db)
        client.flushdb()


@pytest.fixture
def cache(cache_uri: str) -> Iterator[Cache]:
    opened = open_cache(cache_uri)
    try:
        yield opened
    finally:
        opened.close()


# S3 (moto)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    region: str = "us-east-1"

    def uri(self, bucket_prefix: str, key_prefix: str = "") -> str:
        path = f"/{key_prefix}" if key_prefix else ""
        return f"s3://{bucket_prefix}{path}?endpoint_url={self.endpoint_url}&region={self.region}"


FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        server_missing("S3 tests need moto's server (pip install 'moto[server]')")
    patch = pytest.MonkeyPatch()
    for name, value in FAKE_AWS_ENV.items():
        patch.setenv(name, value)
    patch.delenv("AWS_SESSION_TOKEN", raising=False)
    patch.delenv("AWS_PROFILE", raising=False)
    base = Path(tempfile.mkdtemp(prefix="grl-moto-"))
    port, log = free_port(), base / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    endpoint = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as response:
            return int(response.status) == 200

    try:
        wait_for(ready, "moto's S3 server", process, log)
        yield S3Server(endpoint)
    finally:
        stop(process)
        patch.undo()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["file", "s3"])
def blob_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh folder, or a fresh bucket prefix on the S3 server (with a key prefix); buckets exist."""
    if request.param == "file":
        uri = f"file://{tmp_path / f'blobs-{next(_names)}'}"
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        uri = server.uri(f"grl-t{next(_names)}-{secrets.token_hex(3)}", "run")
    store = open_blobs(uri)
    store.ensure_buckets()
    store.close()
    yield uri


@pytest.fixture
def blobs(blob_uri: str) -> Iterator[BlobStore]:
    opened = open_blobs(blob_uri)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread for the test: small tensors run faster than two threads fighting over
    the shared machine's cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
