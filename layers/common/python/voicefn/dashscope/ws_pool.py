"""Idle CosyVoice WebSocket connections kept for the next task (DashScope allows reuse).

A new task on a warm connection skips TCP, TLS and the WebSocket upgrade: tens of milliseconds
to DashScope from FC, paid on every synthesis otherwise. A connection goes back to the pool only
after a clean task-finished (after task-failed DashScope closes it), and idle ones are dropped
before DashScope's 60 s idle close. Connections belong to an event loop, so there is one pool
per loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import weakref
from typing import Any

IDLE_TTL_S = 45.0   # DashScope closes a connection idle for 60 s after a task
MAX_IDLE = 8        # per (URL, key): enough for long synthesis at concurrency 4, twice over


def pool_key(ws_url: str, api_key: str) -> str:
    """Connections are tied to the key they authenticated with; the key itself is not kept."""
    return ws_url + "#" + hashlib.sha256(api_key.encode()).hexdigest()[:32]


class ConnectionPool:
    def __init__(self, *, max_idle: int = MAX_IDLE, idle_ttl_s: float = IDLE_TTL_S) -> None:
        self.max_idle = max_idle
        self.idle_ttl_s = idle_ttl_s
        self._idle: dict[str, list[tuple[float, Any]]] = {}

    def take(self, key: str) -> Any | None:
        """The most recently used live connection for ``key``, or None."""
        entries = self._idle.get(key, [])
        now = time.monotonic()
        while entries:
            released_at, ws = entries.pop()
            if now - released_at < self.idle_ttl_s and _is_open(ws):
                return ws
            _close_soon(ws)
        return None

    def give(self, key: str, ws: Any) -> bool:
        """Keep ``ws`` for reuse; False (caller closes it) when full or no longer open."""
        entries = self._idle.setdefault(key, [])
        if not _is_open(ws) or len(entries) >= self.max_idle:
            return False
        entries.append((time.monotonic(), ws))
        return True

    def idle_count(self, key: str | None = None) -> int:
        if key is not None:
            return len(self._idle.get(key, []))
        return sum(len(v) for v in self._idle.values())

    async def aclose(self) -> None:
        for entries in self._idle.values():
            for _, ws in entries:
                with contextlib.suppress(Exception):
                    await ws.close()
        self._idle.clear()


def _is_open(ws: Any) -> bool:
    from websockets.protocol import State

    return getattr(ws, "state", None) is State.OPEN


def _close_soon(ws: Any) -> None:
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().create_task(_quiet_close(ws))


async def _quiet_close(ws: Any) -> None:
    with contextlib.suppress(Exception):
        await ws.close()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectionPool] = weakref.WeakKeyDictionary()


def loop_pool() -> ConnectionPool:
    """This event loop's pool."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = ConnectionPool()
    return pool
