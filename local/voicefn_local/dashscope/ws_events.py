"""The JSON events the CosyVoice WebSocket sends, shaped exactly as DashScope sends them."""

from __future__ import annotations

import uuid
from typing import Any


def task_started(task_id: str) -> dict[str, Any]:
    return {"header": {"task_id": task_id, "event": "task-started", "attributes": {}},
            "payload": {}}


def result_generated(task_id: str, kind: str, index: int, *, original_text: str | None = None,
                     characters: int | None = None) -> dict[str, Any]:
    """``kind`` is ``sentence-begin``, ``sentence-synthesis`` or ``sentence-end``."""
    output: dict[str, Any] = {"sentence": {"index": index, "words": []}, "type": kind}
    if original_text is not None:
        output["original_text"] = original_text
    payload: dict[str, Any] = {"output": output}
    if characters is not None:
        payload["usage"] = {"characters": characters}
    return {"header": {"task_id": task_id, "event": "result-generated", "attributes": {}},
            "payload": payload}


def task_finished(task_id: str, characters: int) -> dict[str, Any]:
    return {"header": {"task_id": task_id, "event": "task-finished",
                       "attributes": {"request_uuid": str(uuid.uuid4())}},
            "payload": {"output": {"sentence": {"words": []}}, "usage": {"characters": characters}}}


def task_failed(task_id: str, code: str, message: str) -> dict[str, Any]:
    return {"header": {"task_id": task_id, "event": "task-failed", "error_code": code,
                       "error_message": message, "attributes": {}},
            "payload": {}}
