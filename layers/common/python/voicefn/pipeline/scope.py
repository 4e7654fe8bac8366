"""One cancel scope per turn: every task of a turn starts in it and none outlives it.

Like ``asyncio.TaskGroup``, a child that fails cancels its siblings and the error reaches the
owner; unlike it, leaving the scope *cancels* what is still running instead of waiting for it
(a client that leaves mid-reply must stop the LLM and every synthesis at once), and the owner
gets the child's own exception rather than an ``ExceptionGroup``.

``cancel_owner=False`` is for scopes held by an async generator: the task iterating it may be
anywhere outside the generator, so it is not interrupted; use :attr:`error` / ``on_error`` to
wake it instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class TurnScope:
    def __init__(self, *, cancel_owner: bool = True,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._cancel_owner = cancel_owner
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._owner: asyncio.Task[Any] | None = None
        self._owner_cancelled = False
        self._closed = False
        self.error: BaseException | None = None
        self.cancelled = False

    async def __aenter__(self) -> TurnScope:
        self._owner = asyncio.current_task()
        return self

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` as a child of this turn."""
        if self._closed or self.cancelled:
            coro.close()
            raise RuntimeError("the turn is over")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._child_done)
        return task

    def cancel(self) -> None:
        """Stop every stage of the turn (the client left, or a new question interrupts)."""
        self.cancelled = True
        for task in list(self._tasks):
            task.cancel()

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def _child_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None or self.error is not None:
            return
        self.error = exc
        for other in list(self._tasks):
            other.cancel()
        if self._on_error is not None:
            self._on_error(exc)
        if self._cancel_owner and not self._closed and self._owner is not None:
            self._owner_cancelled = True
            self._owner.cancel()

    async def aclose(self) -> None:
        """Cancel what is still running and wait until it has stopped."""
        self._closed = True
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            # Shielding is not wanted: if our owner is cancelled again, it stops waiting too. But
            # not gather(): a cancelled gather cancels its tasks again, which would interrupt their
            # cleanup (an HTTP stream's close, so the upstream would never learn we left). A
            # cancel scope that re-cancels its owner at every await (anyio's, Starlette's on a
            # client disconnect) does exactly that.
            await asyncio.wait(pending)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool:
        try:
            await self.aclose()
        finally:
            if self._owner_cancelled and self._owner is not None:
                self._owner.uncancel()
        if self.error is not None and (exc is None or isinstance(exc, asyncio.CancelledError)):
            if self._owner_cancelled or exc is None:
                raise self.error
        return False
