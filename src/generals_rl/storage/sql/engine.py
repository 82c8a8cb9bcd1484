"""SQL URIs to SQLAlchemy engines: ``sqlite:///path`` (or ``sqlite://`` in memory) and
``postgresql://user[:password]@host[:port]/db`` (driven by psycopg 3).

SQLite gets foreign keys on, a busy timeout, WAL for files, and ``BEGIN IMMEDIATE`` transactions so
read-modify-write transactions (ratings) serialize instead of failing on a lock upgrade.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from generals_rl.storage.uris import SQL_ACCEPTED

SQL_SCHEMES = ("sqlite", "postgresql")
_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def parse_sql_uri(uri: str) -> URL:
    """The SQLAlchemy URL for a SQL URI; ``ValueError`` naming the URI when it is not one we accept."""
    accepted = SQL_ACCEPTED
    scheme = uri.split(":", 1)[0] if ":" in uri else ""
    if scheme not in _DRIVERS:
        raise ValueError(f"unsupported SQL URI {uri!r}: unknown scheme {scheme!r}; {accepted}")
    try:
        url = make_url(uri)
    except (ArgumentError, ValueError) as error:
        raise ValueError(f"malformed SQL URI {uri!r}: {error}; {accepted}") from None
    url = url.set(drivername=_DRIVERS[scheme])
    if url.get_backend_name() == "sqlite":
        if url.host or url.username or url.port or not uri.startswith(f"{scheme}://"):
            raise ValueError(f"malformed SQL URI {uri!r}: SQLite takes no host; {accepted}")
    else:
        if not url.host or not url.database or not uri.startswith(f"{scheme}://"):
            raise ValueError(f"malformed SQL URI {uri!r}: PostgreSQL needs a host and a database; {accepted}")
        if url.port is not None and not 0 < url.port < 65536:
            raise ValueError(f"malformed SQL URI {uri!r}: port {url.port} out of range; {accepted}")
    return url


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_sql_engine(uri: str, **kwargs: Any) -> Engine:
    """An engine for the URI, configured for concurrent use from threads (services call storage from
    ``asyncio.to_thread``)."""
    url = parse_sql_uri(uri)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if is_memory(url):
        # One shared connection: every other connection to ":memory:" would be a new, empty database.
        # So an in-memory database is for single-threaded use (unit tests); services use a file.
        kwargs.setdefault("poolclass", StaticPool)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
    memory = is_memory(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
