"""The CosyVoice duplex messages, built exactly as SDK 2.0.2's ``tts_v2.Request`` builds them.

Key order, the fixed ``text_type``/``seed``/``type`` values, and which optional keys appear (and
where) follow the SDK: ``bit_rate`` only for opus; then ``extra`` (the SDK's
``additional_params``) with ``enable_ssml`` appended to it as ``.call()`` does; then
``instruction`` and ``language_hints`` only when given. :func:`encode` serialises like the SDK
(``json.dumps`` defaults), so the text frames are byte-identical. Tests hold this to the capture.
"""

from __future__ import annotations

import json
from typing import Any

_TARGET = {"task_group": "audio", "task": "tts", "function": "SpeechSynthesizer"}


def _header(action: str, task_id: str) -> dict[str, str]:
    return {"action": action, "task_id": task_id, "streaming": "duplex"}


def build_run_task(task_id: str, *, model: str, voice: str, format: str, sample_rate: int,
                   volume: int = 50, rate: float = 1.0, pitch: float = 1.0,
                   instruction: str | None = None, language_hints: list[str] | None = None,
                   enable_ssml: bool = False, bit_rate: int | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """run-task. ``format="Default"``/``sample_rate=0`` are passed through as the SDK sends them."""
    parameters: dict[str, Any] = {
        "voice": voice, "volume": volume, "text_type": "PlainText", "sample_rate": sample_rate,
        "rate": rate, "format": format, "pitch": pitch, "seed": 0, "type": 0,
    }
    if format == "opus":
        parameters["bit_rate"] = 32 if bit_rate is None else bit_rate
    additional = dict(extra or {})
    if enable_ssml:
        additional["enable_ssml"] = True
    parameters.update(additional)
    if instruction is not None:
        parameters["instruction"] = instruction
    if language_hints is not None:
        parameters["language_hints"] = language_hints
    return {"header": _header("run-task", task_id),
            "payload": {"model": model, **_TARGET, "input": {}, "parameters": parameters}}


def build_continue_task(task_id: str, model: str, text: str) -> dict[str, Any]:
    return {"header": _header("continue-task", task_id),
            "payload": {"model": model, **_TARGET, "input": {"text": text}}}


def build_flush_task(task_id: str, model: str) -> dict[str, Any]:
    """continue-task asking the server to synthesise what it has buffered so far."""
    return {"header": _header("continue-task", task_id),
            "payload": {"model": model, **_TARGET, "input": {"flush": True}}}


def build_finish_task(task_id: str, cancel: bool = False) -> dict[str, Any]:
    """finish-task; ``cancel`` adds ``directive: "cancel"`` (the SDK's ``streaming_cancel``)."""
    payload_input: dict[str, Any] = {"directive": "cancel"} if cancel else {}
    return {"header": _header("finish-task", task_id), "payload": {"input": payload_input}}


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message)
