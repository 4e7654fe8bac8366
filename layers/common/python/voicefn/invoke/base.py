"""The Invoker port."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol, runtime_checkable

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]

# FC's limit on an asynchronous invocation's payload: pass object keys, never audio
MAX_PAYLOAD_BYTES = 128 * 1024


@runtime_checkable
class Invoker(Protocol):
    # True if queued jobs outlive this process (FC's queue); False if they die with it (in-process),
    # so that a restarted process must queue its unfinished tasks again (voicefn.jobs.resume)
    keeps_jobs_across_restarts: bool

    async def invoke_async(self, function: str, payload: dict[str, Any],
                           idempotency_key: str | None = None) -> str:
        """Queue ``payload`` for ``function``; return an invocation id. Delivery is at least once:
        the handler may run more than once and must be idempotent."""
        ...
