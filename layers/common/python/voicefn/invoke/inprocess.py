"""In-process Invoker (local runtime, tests): FC async invocation's contract without FC.

A job is a background task on the running event loop. Like FC async invocation it is at least
once: a handler that raises is retried (``max_attempts`` in all, exponential backoff), so handlers
must be idempotent. Like FC it takes only JSON payloads up to 128 KB, and the handler receives a
fresh copy (what a queue would deliver), never the caller's dict.

Jobs run on the invoker's home loop (the local server's, see ``run_jobs_on``, else the first loop
that used it) even when invoked from another, short-lived loop (an FC event handler called directly, a test's
``asyncio.run``): a job parked on a loop that never runs again would silently never happen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Callable

from voicefn.invoke.base import MAX_PAYLOAD_BYTES, JobHandler

log = logging.getLogger(__name__)


_server_loop: asyncio.AbstractEventLoop | None = None


def run_jobs_on(loop: asyncio.AbstractEventLoop) -> None:
    """Declare a long-lived server's loop (the local runtime's), for invokers built with
    ``server_loop=server_loop``, also later (tests rebuild the services): a job queued from a
    short-lived loop (an FC event handler called in-process) then still runs."""
    global _server_loop
    _server_loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    return _server_loop


def _alive(loop: asyncio.AbstractEventLoop | None) -> bool:
    return loop is not None and loop.is_running() and not loop.is_closed()


class InProcessInvoker:
    """Runs registered handlers as background tasks with FC-like retries.

    Handlers are registered once, when the invoker is built: ``resolve`` names the handler of a
    function (the job registry, ``voicefn.jobs.handler_for``); ``register`` adds one explicitly.
    """

    keeps_jobs_across_restarts = False  # jobs are tasks of this process's event loop

    def __init__(self, max_attempts: int = 3, backoff_s: float = 0.05,
                 resolve: Callable[[str], JobHandler | None] | None = None,
                 server_loop: Callable[[], asyncio.AbstractEventLoop | None] | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._resolve = resolve
        self._server_loop = server_loop  # where jobs run when it is running (run_jobs_on)
        self._handlers: dict[str, JobHandler] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs: the loop keeps only weak ones
        self._home: asyncio.AbstractEventLoop | None = None
        # (function, idempotency key) -> invocation id, for keys queued, running or done
        self._keys: dict[tuple[str, str], str] = {}

    def register(self, function: str, handler: JobHandler) -> None:
        self._handlers[function] = handler

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def invoke_async(self, function: str, payload: dict[str, Any],
                           idempotency_key: str | None = None) -> str:
        handler = self._handlers.get(function)
        if handler is None and self._resolve is not None:
            handler = self._resolve(function)
        if handler is None:
            raise LookupError(f"no handler registered for function {function!r}")
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")  # TypeError if not JSON
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"async payload of {len(body)} bytes exceeds FC's 128 KB limit; pass object keys")
        if idempotency_key is not None:
            seen = self._keys.get((function, idempotency_key))
            if seen is not None:
                return seen  # queued, running or done already: not run again
        invocation_id = uuid.uuid4().hex
        if idempotency_key is not None:
            self._keys[(function, idempotency_key)] = invocation_id
        job = self._run(function, handler, body, invocation_id, idempotency_key)
        name = f"invoke:{function}:{invocation_id}"
        current = asyncio.get_running_loop()
        server = self._server_loop() if self._server_loop is not None else None
        home = server if _alive(server) else self._home
        if home is not None and home is not current and _alive(home):
            home.call_soon_threadsafe(self._start, job, name)
        else:
            self._home = current
            self._start(job, name)
        return invocation_id

    def _start(self, job: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(job, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, function: str, handler: JobHandler, body: bytes, invocation_id: str,
                   idempotency_key: str | None) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await handler(json.loads(body))
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == self.max_attempts:
                    log.exception("async job %s %s failed after %d attempts", function, invocation_id, attempt)
                    if idempotency_key is not None:
                        # FC would give up too; a later invocation with this key may try again
                        self._keys.pop((function, idempotency_key), None)
                    return
                log.warning("async job %s %s failed (attempt %d of %d); retrying",
                            function, invocation_id, attempt, self.max_attempts, exc_info=True)
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))

    async def drain(self) -> None:
        """Wait until no job is pending, including jobs that jobs started."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel pending jobs (shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
