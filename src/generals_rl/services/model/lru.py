"""``SizedLru``: a thread-safe least-recently-used map bounded by the total size of its values (bytes),
for hot policy weights and their ready-to-send messages."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class SizedLru(Generic[V]):
    """Values by key, at most ``capacity`` in total ``size_of``; the least recently used go first.
    A value larger than the whole capacity is not kept."""

    def __init__(self, capacity: int, size_of: Callable[[V], int]) -> None:
        self.capacity = capacity
        self.size = 0
        self._size_of = size_of
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, value: V) -> None:
        size = self._size_of(value)
        if size > self.capacity:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._items[key] = (value, size)
            self.size += size
            while self.size > self.capacity:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
