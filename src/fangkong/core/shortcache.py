"""A few seconds' memory of rows that hot write paths read on every request.

A checkpoint phone logs a passage every few seconds and a store issues masks as fast as the
keeper taps; each request read the same post, store, unit or catalogue item again, and
building those ORM queries was a third of the request (issues 14, 16, 19). A
:class:`ShortCache` keeps such a row for ``seconds`` in this process. Use it only for rows
whose change may take that long to reach every server process, never for personal data,
and check the jurisdiction on every call (the cache holds the row, not the permission).
A change made through a module's own service drops the entry at once in that process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

_ALL: list[ShortCache] = []


class ShortCache:
    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key``, or ``compute()`` kept from now on."""
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
        return value

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget every kept row (tests, and after a restore)."""
    for cache in _ALL:
        cache.clear()
