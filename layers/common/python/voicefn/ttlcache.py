"""A small in-process cache with a short lifetime per entry and a bound on its size (issue 13).

For answers a request would otherwise fetch or recompute every time (a verified token, a user's
decrypted API key): each entry lives at most ``ttl_s`` seconds, so a change elsewhere (a revoked
key, another instance's write) is honoured after at most that long, and the least recently
used entry goes first once ``max_entries`` are held. A lock keeps it consistent when servers
on several threads share the process (tests, ``voicefn serve``'s helpers).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

__all__ = ["TtlCache"]


class TtlCache(Generic[V]):
    def __init__(self, *, max_entries: int, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max(1, max_entries)
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        """The value, if it was put less than its lifetime ago; else None (and it is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V, *, ttl_s: float | None = None) -> None:
        """Keep ``value`` for ``ttl_s`` (at most the cache's lifetime; 0 or less: not at all)."""
        ttl = self.ttl_s if ttl_s is None else min(ttl_s, self.ttl_s)
        with self._lock:
            if ttl <= 0:
                self._entries.pop(key, None)
                return
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
