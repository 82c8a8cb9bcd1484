"""Opening storage by URI: each accepted form opens its backend; anything else is a ValueError that names
the URI and the accepted schemes; a backend that cannot be reached is ``UnavailableError``."""

from __future__ import annotations

from pathlib import Path

import pytest

from generals_rl.storage import StorageError, UnavailableError, open_blobs, open_cache, open_sql
from generals_rl.storage.blobs.file import FileBlobStore
from generals_rl.storage.blobs.s3 import S3BlobStore, parse_s3_uri
from generals_rl.storage.cache.memory import MemoryCache
from generals_rl.storage.cache.redis import RedisCache, parse_redis_uri


def test_each_scheme_opens_its_backend(tmp_path: Path) -> None:
    with open_sql(f"sqlite:///{tmp_path / 'x.db'}") as db:
        assert db.uri == f"sqlite:///{tmp_path / 'x.db'}"
    assert (
        open_sql("postgresql://grl:secret@db.internal:5432/grl").uri
        == "postgresql://grl:***@db.internal:5432/grl"
    )
    assert isinstance(open_cache("memory://"), MemoryCache)
    redis = open_cache("redis://:secret@cache.internal:6380/3")
    assert isinstance(redis, RedisCache) and "secret" not in redis.uri
    assert isinstance(open_blobs(f"file://{tmp_path}"), FileBlobStore)
    assert isinstance(open_blobs("s3://generals-rl?region=eu-west-1"), S3BlobStore)


def test_uri_parts_are_read_as_documented() -> None:
    assert parse_redis_uri("redis://cache:6380/2") | {} == {
        "host": "cache",
        "port": 6380,
        "db": 2,
        "username": None,
        "password": None,
        "ssl": False,
    }
    assert parse_redis_uri("rediss://u:p%40ss@cache")["password"] == "p@ss"
    assert parse_redis_uri("rediss://u:p%40ss@cache")["db"] == 0
    assert parse_s3_uri("s3://generals-rl") == ("generals-rl", "", {})
    assert parse_s3_uri("s3://generals-rl/runs/7?endpoint_url=http://127.0.0.1:9000&region=us-east-1") == (
        "generals-rl",
        "runs/7",
        {"endpoint_url": "http://127.0.0.1:9000", "region": "us-east-1"},
    )
    store = S3BlobStore("s3://generals-rl")
    assert [store.bucket_name(b) for b in ("models", "replays", "experiences", "checkpoints")] == [
        "generals-rl-models",
        "generals-rl-replays",
        "generals-rl-experiences",
        "generals-rl-checkpoints",
    ]


@pytest.mark.parametrize(
    ("opener", "uri", "accepted"),
    [
        (open_sql, "mysql://u@h/db", "sqlite:///"),
        (open_sql, "sqlite.db", "sqlite:///"),
        (open_sql, "sqlite://host/x.db", "sqlite:///"),
        (open_sql, "postgresql:///db", "postgresql://"),
        (open_sql, "postgresql://u@h", "postgresql://"),
        (open_sql, "postgresql://u@h:99999/db", "postgresql://"),
        (open_cache, "memcached://h", "redis://"),
        (open_cache, "memory://named", "memory://"),
        (open_cache, "redis://", "redis://"),
        (open_cache, "redis://h:port/0", "redis://"),
        (open_cache, "redis://h:6379/zero", "redis://"),
        (open_cache, "redis://h:6379/0?timeout=1", "redis://"),
        (open_cache, "", "redis://"),
        (open_blobs, "gs://bucket", "s3://"),
        (open_blobs, "file://relative/dir", "file:///"),
        (open_blobs, "file:relative", "file:///"),
        (open_blobs, "/just/a/path", "file:///"),
        (open_blobs, "s3://", "s3://"),
        (open_blobs, "s3://Upper_Case", "s3://"),
        (open_blobs, "s3://a", "s3://"),
        (open_blobs, "s3://bucket/../up", "s3://"),
        (open_blobs, "s3://bucket?endpoint=http://x", "s3://"),
        (open_blobs, "s3://bucket?endpoint_url=ftp://x", "s3://"),
        (open_blobs, "s3://bucket?region=a&region=b", "s3://"),
        (open_blobs, "s3://bucket?addressing_style=dns", "s3://"),
    ],
)
def test_unknown_schemes_and_malformed_uris_are_clear_value_errors(
    opener: object, uri: str, accepted: str
) -> None:
    with pytest.raises(ValueError) as raised:
        opener(uri)  # type: ignore[operator]
    message = str(raised.value)
    assert repr(uri) in message and accepted in message


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_servers_are_unavailable_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()  # nothing listens there
    with (
        open_sql(f"postgresql://u@127.0.0.1:{port}/db") as db,
        pytest.raises(UnavailableError, match=str(port)),
    ):
        db.players.list()
    cache = open_cache(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(UnavailableError, match=str(port)):
        cache.get("k")
    blobs = open_blobs(f"s3://generals-rl?endpoint_url=http://127.0.0.1:{port}&region=us-east-1")
    with pytest.raises(UnavailableError, match=str(port)):
        blobs.get("models", "k")
    with pytest.raises(UnavailableError, match=str(port)):
        blobs.ensure_buckets()


def test_s3_without_credentials_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    blobs = open_blobs(f"s3://generals-rl?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1")
    with pytest.raises(StorageError, match="no AWS credentials"):
        blobs.put("models", "k", b"x")
