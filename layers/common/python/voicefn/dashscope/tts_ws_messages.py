"""The CosyVoice duplex messages, built exactly as SDK 2.0.2's ``tts_v2.Request`` builds them.

Key order, the fixed ``text_type``/``seed``/``type`` values, and which optional keys appear (and
where) follow the SDK: ``bit_rate`` only for opus; then ``extra`` (the SDK's
``additional_params``) with ``enable_ssml`` appended to it as ``.call()`` does; then
``instruction`` and ``language_hints`` only when given. :func:`encode` serialises like the SDK
(``json.dumps`` defaults), so the text frames are byte-identical. Tests hold this to the capture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class CosyVoiceParams:
    """A CosyVoice task's parameters under DashScope's own names (``rate``, ``pitch``...)."""

    model: str
    voice: str
    format: str
    sample_rate: int
    volume: int = 50
    rate: float = 1.0
    pitch: float = 1.0
    instruction: str | None = None
    language_hints: list[str] | None = None
    enable_ssml: bool = False
    bit_rate: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def run_task(self, task_id: str) -> dict[str, Any]:
        return build_run_task(
            task_id, model=self.model, voice=self.voice, format=self.format,
            sample_rate=self.sample_rate, volume=self.volume, rate=self.rate, pitch=self.pitch,
            instruction=self.instruction, language_hints=self.language_hints,
            enable_ssml=self.enable_ssml, bit_rate=self.bit_rate, extra=self.extra or None)


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


# -- what the server sends during a task, as the session reports it ---------------------------

@dataclass(frozen=True)
class SentenceBegin:
    """``result-generated`` / ``sentence-begin``: DashScope started speaking sentence ``index``."""

    index: int
    text: str


@dataclass(frozen=True)
class AudioFrame:
    """One binary frame; ``sentence`` is the index of the ``sentence-synthesis`` event before it."""

    data: bytes
    sentence: int


@dataclass(frozen=True)
class SentenceEnd:
    """``sentence-end``: sentence ``index`` is spoken; ``characters`` is the task's running total."""

    index: int
    text: str
    characters: int


SessionEvent = SentenceBegin | AudioFrame | SentenceEnd


def sentence_of(output: Any) -> tuple[str, int, str] | None:
    """(type, index, original text) of a result-generated ``output``; None if it is not one."""
    if not isinstance(output, dict):
        return None
    kind = output.get("type")
    sentence = output.get("sentence")
    index = sentence.get("index") if isinstance(sentence, dict) else None
    if not isinstance(kind, str) or not isinstance(index, int):
        return None
    text = output.get("original_text")
    return kind, index, text if isinstance(text, str) else ""
