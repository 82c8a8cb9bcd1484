"""``MemoryCache``: the ``Cache`` seam in this process (the embedded default, ``memory://``).

Thread-safe (one lock), with Redis's semantics: one kind per key, expiry per key whatever its kind,
empty hashes, sorted sets and queues cease to exist, sorted-set ties ordered by member.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, TypeVar

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

T = TypeVar("T")


class MemoryCache:
    """The ``Cache`` seam in a dict. Expired keys are dropped when touched and on a periodic sweep."""

    _SWEEP_EVERY = 1000

    def __init__(self, uri: str = "memory://") -> None:
        self._uri = uri
        self._lock = threading.RLock()
        self._values: dict[str, Any] = {}  # bytes | dict[str, bytes] (hash) | dict[str, float] (zset) | deque
        self._kinds: dict[str, str] = {}
        self._expires: dict[str, float] = {}
        self._writes = 0

    @property
    def uri(self) -> str:
        return self._uri

    # internals (call with the lock held)
    def _live(self, key: str) -> bool:
        deadline = self._expires.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self._drop(key)
        return key in self._values

    def _drop(self, key: str) -> None:
        self._values.pop(key, None)
        self._kinds.pop(key, None)
        self._expires.pop(key, None)

    def _read(self, key: str, kind: str) -> Any:
        check_key(key)
        if not self._live(key):
            return None
        if self._kinds[key] != kind:
            raise kind_error(key, self._kinds[key], kind)
        return self._values[key]

    def _container(self, key: str, kind: str, factory: type[T]) -> T:
        value = self._read(key, kind)
        if value is None:
            value = self._values[key] = factory()
            self._kinds[key] = kind
        self._sweep()
        return value

    def _tidy(self, key: str, ttl: float | None) -> None:
        """After a write: an emptied container ceases to exist; else apply the ttl."""
        if key in self._values and self._kinds[key] != "string" and not self._values[key]:
            self._drop(key)
        elif ttl is not None and key in self._values:
            self._expires[key] = time.monotonic() + ttl

    def _sweep(self) -> None:
        self._writes += 1
        if self._writes % self._SWEEP_EVERY == 0:
            now = time.monotonic()
            for key in [k for k, deadline in self._expires.items() if deadline <= now]:
                self._drop(key)

    # key/value
    def get(self, key: str) -> bytes | None:
        with self._lock:
            value: bytes | None = self._read(key, "string")
            return value

    def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        check_key(key)
        data = encode(value)
        check_ttl(ttl)
        with self._lock:
            self._drop(key)
            self._values[key], self._kinds[key] = data, "string"
            self._tidy(key, ttl)
            self._sweep()

    def delete(self, *keys: str) -> int:
        with self._lock:
            count = 0
            for key in keys:
                check_key(key)
                if self._live(key):
                    self._drop(key)
                    count += 1
            return count

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._lock:
            return self._live(key)

    def expire(self, key: str, ttl: float) -> bool:
        check_key(key)
        check_ttl(ttl)
        with self._lock:
            if not self._live(key):
                return False
            self._expires[key] = time.monotonic() + ttl
            return True

    def ttl(self, key: str) -> float | None:
        check_key(key)
        with self._lock:
            if not self._live(key) or key not in self._expires:
                return None
            return max(0.0, self._expires[key] - time.monotonic())

    # sorted sets
    def zadd(self, key: str, scores: Mapping[str, float], *, ttl: float | None = None) -> int:
        check_ttl(ttl)
        check_scores(key, scores)
        with self._lock:
            zset = self._container(key, "zset", dict)
            new = sum(1 for member in scores if member not in zset)
            zset.update({member: float(score) for member, score in scores.items()})
            self._tidy(key, ttl)
            return new

    def zscore(self, key: str, member: str) -> float | None:
        check_name("a sorted-set member", member)
        with self._lock:
            zset = self._read(key, "zset") or {}
            return zset.get(member)

    def _ranked(self, key: str) -> builtins.list[tuple[str, float]]:
        zset = self._read(key, "zset") or {}
        return sorted(zset.items(), key=lambda item: (item[1], item[0]), reverse=True)

    def ztop(self, key: str, n: int, *, offset: int = 0) -> builtins.list[tuple[str, float]]:
        check_count("n", n)
        check_count("offset", offset)
        with self._lock:
            return self._ranked(key)[offset : offset + n]

    def zrank(self, key: str, member: str) -> int | None:
        check_name("a sorted-set member", member)
        with self._lock:
            for rank, (name, _) in enumerate(self._ranked(key)):
                if name == member:
                    return rank
            return None

    def zrem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        with self._lock:
            zset = self._read(key, "zset")
            if zset is None:
                return 0
            removed = sum(1 for member in set(members) if zset.pop(member, None) is not None)
            self._tidy(key, None)
            return removed

    def zcard(self, key: str) -> int:
        with self._lock:
            return len(self._read(key, "zset") or {})

    # hashes
    def hset(self, key: str, fields: Mapping[str, bytes | str], *, ttl: float | None = None) -> None:
        check_ttl(ttl)
        encoded = encode_fields(key, fields)
        with self._lock:
            self._container(key, "hash", dict).update(encoded)
            self._tidy(key, ttl)

    def hget(self, key: str, field: str) -> bytes | None:
        check_name("a hash field", field)
        with self._lock:
            return (self._read(key, "hash") or {}).get(field)

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._read(key, "hash") or {})

    def hdel(self, key: str, *fields: str) -> int:
        if not fields:
            return 0
        with self._lock:
            hash_ = self._read(key, "hash")
            if hash_ is None:
                return 0
            removed = sum(1 for name in set(fields) if hash_.pop(name, None) is not None)
            self._tidy(key, None)
            return removed

    # queues
    def qpush(self, key: str, *items: str, ttl: float | None = None) -> int:
        check_ttl(ttl)
        check_items(key, items)
        with self._lock:
            queue = self._container(key, "queue", deque)
            queue.extend(items)
            self._tidy(key, ttl)
            return len(queue)

    def qpop(self, key: str) -> str | None:
        popped = self.qpop_many(key, 1)
        return popped[0] if popped else None

    def qpop_many(self, key: str, n: int) -> builtins.list[str]:
        check_count("n", n)
        if n == 0:
            return []
        with self._lock:
            queue = self._read(key, "queue")
            if queue is None:
                return []
            popped = [queue.popleft() for _ in range(min(n, len(queue)))]
            self._tidy(key, None)
            return popped

    def qremove(self, key: str, item: str) -> int:
        check_name("a queue item", item)
        with self._lock:
            queue = self._read(key, "queue")
            if queue is None:
                return 0
            kept = [x for x in queue if x != item]
            removed = len(queue) - len(kept)
            queue.clear()
            queue.extend(kept)
            self._tidy(key, None)
            return removed

    def qlen(self, key: str) -> int:
        with self._lock:
            return len(self._read(key, "queue") or ())

    def qlist(self, key: str) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._read(key, "queue") or ())

    def close(self) -> None:
        pass
