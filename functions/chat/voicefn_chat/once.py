"""A turn's one record, written once whichever way the turn ends.

A client that goes away cancels the route at every await, so the write runs as a task of its
own, referenced here until it ends (the event loop keeps only weak references to tasks) and
awaited through :func:`asyncio.shield`: a cancelled caller stops waiting, the write goes on. The
first caller starts it; any later caller (the abandon path after a normal end, or the reverse)
waits for that same write instead of billing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

R = TypeVar("R")

_writing: set[asyncio.Task[Any]] = set()  # writes that outlive the request that started them


class OnceRecord(Generic[R]):
    def __init__(self) -> None:
        self._task: asyncio.Task[R] | None = None

    @property
    def started(self) -> bool:
        return self._task is not None

    async def write(self, make: Callable[[], Coroutine[Any, Any, R]]) -> R:
        """``make()``'s result, run the first time only; later calls wait for that first write."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(make(), name="chat-record")
            _writing.add(self._task)
            self._task.add_done_callback(_writing.discard)
        return await asyncio.shield(self._task)
