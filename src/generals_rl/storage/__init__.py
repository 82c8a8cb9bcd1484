"""Storage seams picked by URI: SQL (``open_sql``), cache and queues (``open_cache``), blobs (``open_blobs``).

=======================================================  ===========================================
URI                                                      backend
=======================================================  ===========================================
``sqlite:///path/to/file.db``, ``sqlite://`` (memory)    ``SqlDatabase`` on SQLite (embedded default)
``postgresql://user[:password]@host[:port]/db``          ``SqlDatabase`` on PostgreSQL (psycopg 3)
``memory://``                                            ``MemoryCache`` (embedded default)
``redis://[user:password@]host[:port][/db]``             ``RedisCache`` (``rediss://`` for TLS)
``file:///absolute/dir``                                 ``FileBlobStore`` (embedded default)
``s3://<bucket-prefix>[/<key-prefix>][?endpoint_url=…``  ``S3BlobStore`` (boto3)
``&region=…&addressing_style=path|virtual]``
=======================================================  ===========================================

The SQL schema comes only from the migrations: ``upgrade(uri)`` (or ``grl db upgrade``) before use.
Backend SDKs (redis, boto3) are imported only when their scheme is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generals_rl.storage.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidKeyError,
    NotFoundError,
    StorageError,
    UnavailableError,
    WrongKindError,
)
from generals_rl.storage.interfaces import BUCKETS, BlobStore, Cache, Database
from generals_rl.storage.sql.database import SqlDatabase, Upgrade, head_revision, upgrade
from generals_rl.storage.uris import BLOBS_ACCEPTED, CACHE_ACCEPTED, SQL_ACCEPTED, scheme_of

__all__ = [
    "BUCKETS",
    "AlreadyExistsError",
    "BlobStore",
    "Cache",
    "ConflictError",
    "Database",
    "InvalidKeyError",
    "NotFoundError",
    "SqlDatabase",
    "StorageError",
    "UnavailableError",
    "Upgrade",
    "WrongKindError",
    "head_revision",
    "open_blobs",
    "open_cache",
    "open_sql",
    "upgrade",
]

SQL_SCHEMES = ("sqlite", "postgresql")
CACHE_SCHEMES = ("memory", "redis", "rediss")
BLOB_SCHEMES = ("file", "s3")


def open_sql(uri: str) -> SqlDatabase:
    """The SQL seam for ``sqlite:…`` or ``postgresql:…``. The schema must be migrated (``upgrade``)."""
    scheme_of(uri, "SQL", SQL_SCHEMES, SQL_ACCEPTED)
    return SqlDatabase(uri)


def open_cache(uri: str) -> Cache:
    """The cache seam for ``memory://`` or ``redis://host:port/db``."""
    if scheme_of(uri, "cache", CACHE_SCHEMES, CACHE_ACCEPTED) == "memory":
        if uri != "memory://":
            raise ValueError(
                f"malformed cache URI {uri!r}: the in-memory cache is exactly memory://; {CACHE_ACCEPTED}"
            )
        from generals_rl.storage.cache.memory import MemoryCache

        return MemoryCache(uri)
    from generals_rl.storage.cache.redis import RedisCache

    return RedisCache(uri)


def open_blobs(uri: str) -> BlobStore:
    """The blob seam for ``file:///dir`` or ``s3://bucket-prefix[/key-prefix]?…``."""
    if scheme_of(uri, "blob", BLOB_SCHEMES, BLOBS_ACCEPTED) == "file":
        from generals_rl.storage.blobs.file import FileBlobStore

        return FileBlobStore(uri)
    from generals_rl.storage.blobs.s3 import S3BlobStore

    return S3BlobStore(uri)


if TYPE_CHECKING:  # mypy checks here that every backend implements its seam
    from generals_rl.storage.blobs.file import FileBlobStore
    from generals_rl.storage.blobs.s3 import S3BlobStore
    from generals_rl.storage.cache.memory import MemoryCache
    from generals_rl.storage.cache.redis import RedisCache

    _SEAMS: tuple[type[Database], type[Cache], type[Cache], type[BlobStore], type[BlobStore]] = (
        SqlDatabase,
        MemoryCache,
        RedisCache,
        FileBlobStore,
        S3BlobStore,
    )
