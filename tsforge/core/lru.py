"""One bounded least-recently-used map for every in-process cache of the services."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A thread-safe map bounded by the total weight of its values (1 each by default).

    Putting a value evicts the least recently used ones until the total is within the
    bound; the newest value stays even when it alone exceeds it (it is in use).
    """

    def __init__(self, max_weight: int, weigh: Callable[[V], int] = lambda _value: 1):
        self._max_weight = max_weight
        self._weigh = weigh
        self._items: OrderedDict[K, V] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value under `key` (now the most recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> list[V]:
        """Stores `value` as the most recently used; returns the values it evicted."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= self._weigh(old)
            self._items[key] = value
            self._weight += self._weigh(value)
            evicted = []
            while self._weight > self._max_weight and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._weight -= self._weigh(dropped)
                evicted.append(dropped)
            return evicted

    def pop(self, key: K) -> V | None:
        with self._lock:
            value = self._items.pop(key, None)
            if value is not None:
                self._weight -= self._weigh(value)
            return value

    @property
    def weight(self) -> int:
        with self._lock:
            return self._weight

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
