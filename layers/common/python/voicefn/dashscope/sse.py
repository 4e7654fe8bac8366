"""DashScope's native server-sent events, parsed into payload dicts.

One event a block, blocks separated by a blank line::

    id:1
    event:result
    :HTTP_STATUS/200
    data:{"output":{...},"usage":{...},"request_id":"..."}

``event:error`` carries ``{code, message, request_id}`` and ends the stream; the SDK reports it
with status 400 unless a ``status:`` line says otherwise, and so do we (the ``:HTTP_STATUS/``
comment is read as a hint too). ``event:done`` is skipped, as the SDK does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from voicefn.dashscope.errors import UNKNOWN, UpstreamError

_STATUS_COMMENT = ":HTTP_STATUS/"


@dataclass
class SseEvent:
    event: str | None = None
    status: int | None = None
    data: list[str] = field(default_factory=list)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


async def iter_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Group SSE lines into events (a trailing event without its blank line still counts)."""
    current = SseEvent()
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if current.data:
                yield current
            current = SseEvent()
            continue
        if line.startswith(_STATUS_COMMENT):
            current.status = current.status or _int_or_none(line[len(_STATUS_COMMENT):])
            continue
        if line.startswith(":"):
            continue  # heartbeat or comment
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            current.event = value.strip()
        elif name == "status":
            current.status = _int_or_none(value)
        elif name == "data":
            current.data.append(value)
    if current.data:
        yield current


def event_payload(ev: SseEvent) -> dict[str, Any] | None:
    """The event's JSON payload; ``None`` for events to skip; raises for an error event."""
    if ev.event == "done":
        return None
    text = "\n".join(ev.data)
    try:
        payload = json.loads(text)
    except ValueError:
        raise UpstreamError(UNKNOWN, text[:500], http_status=ev.status or 500) from None
    is_error = ev.event == "error" or (ev.status is not None and ev.status >= 400)
    if is_error:
        payload = payload if isinstance(payload, dict) else {}
        raise UpstreamError(str(payload.get("code") or UNKNOWN),
                            str(payload.get("message") or payload.get("msg") or ""),
                            http_status=ev.status or 400, request_id=payload.get("request_id"))
    if not isinstance(payload, dict):
        raise UpstreamError(UNKNOWN, f"unexpected SSE payload: {text[:200]}",
                            http_status=ev.status or 500, retryable=False)
    return payload


async def iter_payloads(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    async for ev in iter_events(lines):
        payload = event_payload(ev)
        if payload is not None:
            yield payload
