"""``RedisCache``: the ``Cache`` seam on Redis (``redis://host:port/db``; ``rediss://`` for TLS).

Kinds map to Redis types (value: string, hash: hash, sorted set: zset, queue: list). A write with a ttl
runs as one Lua script, so the expiry is never set on a key the write refused (wrong kind).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from generals_rl.storage.cache.common import (
    check_count,
    check_items,
    check_key,
    check_name,
    check_scores,
    check_ttl,
    encode,
    encode_fields,
    kind_error,
)
from generals_rl.storage.errors import UnavailableError
from generals_rl.storage.uris import CACHE_ACCEPTED

_ZADD_TTL = """
local new = 0
for i = 2, #ARGV, 2 do new = new + redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return new
"""
_HSET_TTL = """
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
_RPUSH_TTL = """
local length = 0
for i = 2, #ARGV do length = redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return length
"""
_TYPES = {
    "string": "string",
    "hash": "hash",
    "zset": "zset",
    "list": "queue",
    "set": "set",
    "stream": "stream",
}


def parse_redis_uri(uri: str) -> dict[str, Any]:
    """Connection arguments for a Redis URI; ``ValueError`` naming the URI when it is malformed."""
    try:
        parts = urlsplit(uri)
        port = parts.port or 6379
    except ValueError as error:
        raise ValueError(f"malformed cache URI {uri!r}: {error}; {CACHE_ACCEPTED}") from None
    if parts.scheme not in ("redis", "rediss") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"malformed cache URI {uri!r}: it needs a host and no query; {CACHE_ACCEPTED}")
    path = parts.path.strip("/") or "0"
    if not path.isdigit():
        raise ValueError(
            f"malformed cache URI {uri!r}: the database {path!r} is not a number; {CACHE_ACCEPTED}"
        )
    return {
        "host": parts.hostname,
        "port": port,
        "db": int(path),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "ssl": parts.scheme == "rediss",
    }


def _redacted(uri: str) -> str:
    """The URI with its password (if any) replaced by ``***``, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.hostname}{port}"))


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


class RedisCache:
    """The ``Cache`` seam on a Redis server."""

    def __init__(self, uri: str) -> None:
        arguments = parse_redis_uri(uri)
        self._uri = _redacted(uri)
        # Fail fast (about 0.3 s) when the server is down: callers turn UnavailableError into UNAVAILABLE
        # and retry at their level; redis-py's default backoff would hold a request for seconds.
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2)
        self._redis = redis.Redis(
            **arguments, socket_timeout=10, socket_connect_timeout=5, retry=retry, decode_responses=False
        )
        self._zadd_ttl = self._redis.register_script(_ZADD_TTL)
        self._hset_ttl = self._redis.register_script(_HSET_TTL)
        self._rpush_ttl = self._redis.register_script(_RPUSH_TTL)

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def client(self) -> redis.Redis:
        return self._redis

    @contextmanager
    def _call(self, key: str, kind: str) -> Iterator[None]:
        check_key(key)
        try:
            yield
        except redis.ResponseError as error:
            if "WRONGTYPE" in str(error):
                stored = self._redis.type(key)
                stored = stored.decode() if isinstance(stored, bytes) else str(stored)
                raise kind_error(key, _TYPES.get(stored, stored), kind) from None
            raise
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise UnavailableError(f"the Redis server at {self._uri} failed: {error}") from None

    # key/value
    def get(self, key: str) -> bytes | None:
        with self._call(key, "string"):
            return cast(bytes | None, self._redis.get(key))

    def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        data = encode(value)
        check_ttl(ttl)
        with self._call(key, "string"):
            self._redis.set(key, data, px=None if ttl is None else _ms(ttl))

    def delete(self, *keys: str) -> int:
        for key in keys:
            check_key(key)
        if not keys:
            return 0
        with self._call(keys[0], "string"):
            return self._redis.delete(*keys)

    def exists(self, key: str) -> bool:
        with self._call(key, "string"):
            return bool(self._redis.exists(key))

    def expire(self, key: str, ttl: float) -> bool:
        check_ttl(ttl)
        with self._call(key, "string"):
            return bool(self._redis.pexpire(key, _ms(ttl)))

    def ttl(self, key: str) -> float | None:
        with self._call(key, "string"):
            left = self._redis.pttl(key)
        return None if left < 0 else left / 1000

    # sorted sets
    def zadd(self, key: str, scores: Mapping[str, float], *, ttl: float | None = None) -> int:
        check_scores(key, scores)
        check_ttl(ttl)
        with self._call(key, "zset"):
            if ttl is None:
                return cast(int, self._redis.zadd(key, {m: float(s) for m, s in scores.items()}))
            args: list[Any] = [_ms(ttl)]
            for member, score in scores.items():
                args += [repr(float(score)), member]
            return cast(int, self._zadd_ttl(keys=[key], args=args))

    def zscore(self, key: str, member: str) -> float | None:
        check_name("a sorted-set member", member)
        with self._call(key, "zset"):
            return self._redis.zscore(key, member)

    def ztop(self, key: str, n: int, *, offset: int = 0) -> builtins.list[tuple[str, float]]:
        check_count("n", n)
        check_count("offset", offset)
        with self._call(key, "zset"):
            if n == 0:
                self._redis.zcard(key)  # still refuse a key of another kind
                return []
            rows = cast(
                list[tuple[bytes, float]], self._redis.zrevrange(key, offset, offset + n - 1, withscores=True)
            )
        return [(member.decode(), score) for member, score in rows]

    def zrank(self, key: str, member: str) -> int | None:
        check_name("a sorted-set member", member)
        with self._call(key, "zset"):
            return cast(int | None, self._redis.zrevrank(key, member))

    def zrem(self, key: str, *members: str) -> int:
        for member in members:
            check_name("a sorted-set member", member)
        if not members:
            return 0
        with self._call(key, "zset"):
            return self._redis.zrem(key, *members)

    def zcard(self, key: str) -> int:
        with self._call(key, "zset"):
            return self._redis.zcard(key)

    # hashes
    def hset(self, key: str, fields: Mapping[str, bytes | str], *, ttl: float | None = None) -> None:
        encoded = encode_fields(key, fields)
        check_ttl(ttl)
        with self._call(key, "hash"):
            if ttl is None:
                self._redis.hset(key, mapping=encoded)  # type: ignore[arg-type]
                return
            args: list[Any] = [_ms(ttl)]
            for name, value in encoded.items():
                args += [name, value]
            self._hset_ttl(keys=[key], args=args)

    def hget(self, key: str, field: str) -> bytes | None:
        check_name("a hash field", field)
        with self._call(key, "hash"):
            return cast(bytes | None, self._redis.hget(key, field))

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._call(key, "hash"):
            stored = cast(dict[bytes, bytes], self._redis.hgetall(key))
        return {name.decode(): value for name, value in stored.items()}

    def hdel(self, key: str, *fields: str) -> int:
        for name in fields:
            check_name("a hash field", name)
        if not fields:
            return 0
        with self._call(key, "hash"):
            return self._redis.hdel(key, *fields)

    # queues
    def qpush(self, key: str, *items: str, ttl: float | None = None) -> int:
        check_items(key, items)
        check_ttl(ttl)
        with self._call(key, "queue"):
            if ttl is None:
                return self._redis.rpush(key, *items)
            return cast(int, self._rpush_ttl(keys=[key], args=[_ms(ttl), *items]))

    def qpop(self, key: str) -> str | None:
        with self._call(key, "queue"):
            item = cast(bytes | None, self._redis.lpop(key))
        return None if item is None else item.decode()

    def qpop_many(self, key: str, n: int) -> builtins.list[str]:
        check_count("n", n)
        if n == 0:
            return []
        with self._call(key, "queue"):
            items = cast(list[bytes] | None, self._redis.lpop(key, n))
        return [item.decode() for item in items or []]

    def qremove(self, key: str, item: str) -> int:
        check_name("a queue item", item)
        with self._call(key, "queue"):
            return self._redis.lrem(key, 0, item)

    def qlen(self, key: str) -> int:
        with self._call(key, "queue"):
            return self._redis.llen(key)

    def qlist(self, key: str) -> builtins.list[str]:
        with self._call(key, "queue"):
            items = cast(list[bytes], self._redis.lrange(key, 0, -1))
        return [item.decode() for item in items]

    def close(self) -> None:
        self._redis.close()
