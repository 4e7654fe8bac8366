"""DashScope's native server-sent events: ``id``, ``event``, an ``:HTTP_STATUS`` comment, ``data``."""

from __future__ import annotations

import json
from typing import Any

from voicefn_local.dashscope.errors import DashScopeError, error_body


def sse_result(seq: int, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id:{seq}\nevent:result\n:HTTP_STATUS/200\ndata:{payload}\n\n".encode()


def sse_error(seq: int, err: DashScopeError, request_id: str) -> bytes:
    payload = json.dumps(error_body(err, request_id), ensure_ascii=False, separators=(",", ":"))
    return f"id:{seq}\nevent:error\n:HTTP_STATUS/{err.status}\ndata:{payload}\n\n".encode()
