"""Syntheses in flight, so that a request for audio being made right now waits for it instead of
starting a second one (DESIGN §7 "TTS cache", seed 004: "from the cache, waiting if it is still
being generated"); and the content cache's counters (seed 004's ``/cache/stats``).

Two levels: an :class:`asyncio.Event` per cache key in this process (the waiter wakes the moment
the audio is cached), and a marker row in the state store's cache index (``inflight:<key>``
with an expiry) that a request on *another* instance or function (the tts function's
``/v1/audio/speech`` while the chat function synthesizes) sees and polls on. A marker whose
owner died simply expires. Counters are this instance's, since it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

from voicefn.services import Services

MARKER_PREFIX = "inflight:"
POLL_S = 0.1
MARKER_TTL_S = 300.0  # longer than any one sentence's synthesis; a dead owner's marker expires


@dataclass
class CacheCounters:
    hits: int = 0
    misses: int = 0
    waits: int = 0  # lookups that waited on a synthesis in flight (and are counted as hits if it landed)


counters = CacheCounters()
# (event loop, cache key) -> set when done. An Event belongs to one loop; a process may run more
# than one (the local runtime in a thread, tests).
_local: dict[tuple[int, str], asyncio.Event] = {}


def _slot(cache_key: str) -> tuple[int, str]:
    return id(asyncio.get_running_loop()), cache_key


def in_flight() -> int:
    """Syntheses this instance has announced and not finished."""
    return len(_local)


def is_marker(cache_key: str) -> bool:
    return cache_key.startswith(MARKER_PREFIX)


async def begin(services: Services, cache_key: str) -> None:
    """Announce that the audio of ``cache_key`` is on its way (queued or being synthesized)."""
    if _slot(cache_key) in _local:
        return
    _local[_slot(cache_key)] = asyncio.Event()
    await services.state.put_cache(MARKER_PREFIX + cache_key, {"until": time.time() + MARKER_TTL_S})


async def end(services: Services, cache_key: str) -> None:
    """The synthesis finished (cached) or failed: wake every waiter. Safe to call twice."""
    if _release(cache_key):
        await _clear_marker(services, cache_key)


def end_soon(services: Services, cache_keys: list[str]) -> None:
    """:func:`end` for code that cannot wait (a turn torn down by cancellation): this instance's
    waiters wake now, the markers are cleared by a task of their own."""
    released = [key for key in cache_keys if _release(key)]
    if released:
        task = asyncio.get_running_loop().create_task(_clear_markers(services, released))
        _clearing.add(task)
        task.add_done_callback(_clearing.discard)


_clearing: set[asyncio.Task[None]] = set()


def _release(cache_key: str) -> bool:
    event = _local.pop(_slot(cache_key), None)
    if event is None:
        return False
    event.set()
    return True


async def _clear_marker(services: Services, cache_key: str) -> None:
    with contextlib.suppress(Exception):  # the marker expires anyway
        await services.state.put_cache(MARKER_PREFIX + cache_key, {"until": 0})


async def _clear_markers(services: Services, cache_keys: list[str]) -> None:
    for key in cache_keys:
        await _clear_marker(services, key)


@contextlib.asynccontextmanager
async def synthesizing(services: Services, cache_key: str) -> AsyncIterator[None]:
    await begin(services, cache_key)
    try:
        yield
    finally:
        end_soon(services, [cache_key])


def announced_here(cache_key: str) -> bool:
    """A synthesis of ``cache_key`` is in flight in this process (no marker to read)."""
    return _slot(cache_key) in _local


async def read_marker(services: Services, cache_key: str) -> dict[str, Any] | None:
    """The in-flight marker of ``cache_key`` (another instance's synthesis), if any."""
    return await services.state.get_cache(MARKER_PREFIX + cache_key)


async def wait(services: Services, cache_key: str, timeout_s: float, *,
               prefetched: Awaitable[dict[str, Any] | None] | None = None) -> bool:
    """Wait (at most ``timeout_s``) for a synthesis of ``cache_key`` in flight here or elsewhere;
    False at once if there is none. True means: look in the cache again. ``prefetched``: the
    marker's read, already started (beside the cache lookup)."""
    event = _local.get(_slot(cache_key))
    if event is not None:
        counters.waits += 1
        if prefetched is not None:
            await prefetched
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)
        return True
    marker = await (prefetched if prefetched is not None else read_marker(services, cache_key))
    if not marker or float(marker.get("until", 0)) <= time.time():
        return False
    counters.waits += 1
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        if await services.state.get_cache(cache_key):
            return True
        marker = await services.state.get_cache(MARKER_PREFIX + cache_key)
        if not marker or float(marker.get("until", 0)) <= time.time():
            return True  # finished (or failed) in the meantime
    return True
