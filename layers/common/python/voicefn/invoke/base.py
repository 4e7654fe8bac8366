"""The Invoker port."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol, runtime_checkable

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]

# FC's limit on an asynchronous invocation's payload: pass object keys, never audio
MAX_PAYLOAD_BYTES = 128 * 1024


@runtime_checkable
class Invoker(Protocol):
    async def invoke_async(self, function: str, payload: dict[str, Any],
                           idempotency_key: str | None = None) -> str:
        """Queue ``payload`` for ``function``; return an invocation id. Delivery is at least once:
        the handler may run more than once and must be idempotent."""
        ...
