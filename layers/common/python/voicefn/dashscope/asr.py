"""Speech recognition over DashScope's native HTTP API (reference §3.1–3.2).

- qwen3-asr-flash / qwen-audio-asr, synchronous: ``POST /services/aigc/multimodal-generation/
  generation`` with the audio (data URI or URL) in a user message, optional context text in a
  system message, and ``parameters: {"asr_options": {...}, "result_format": "message"}``.
- qwen3-asr-flash-filetrans, asynchronous: submit ``POST /services/audio/asr/transcription``
  with ``X-DashScope-Async: enable``; poll ``GET /tasks/{id}``; download the result JSON from
  ``output.result.transcription_url`` (a signed URL, valid 24 h, fetched without the API key).

Bodies are built key for key as SDK 2.0.2 builds them (``dashscope_sdk_capture.jsonl``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from voicefn.dashscope.errors import UNKNOWN, UpstreamError
from voicefn.dashscope.http import DashScopeHttp
from voicefn.dashscope.results import AsrResult, TranscriptionTask

RECOGNITION_PATH = "services/aigc/multimodal-generation/generation"
TRANSCRIPTION_PATH = "services/audio/asr/transcription"
TASK_STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")

# DashScope task ids are UUIDs; anything else cannot name a task (and must not reach the path).
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def recognition_body(*, model: str, audio: str, language: str | None = None,
                     enable_itn: bool = False, context: str | None = None) -> dict[str, Any]:
    """``MultiModalConversation.call(messages, asr_options=..., result_format="message")``'s
    body: the system message only when there is context; ``language`` only when given."""
    asr_options: dict[str, Any] = {}
    if language:
        asr_options["language"] = language
    asr_options["enable_itn"] = bool(enable_itn)
    messages: list[dict[str, Any]] = []
    if context:
        messages.append({"role": "system", "content": [{"text": context}]})
    messages.append({"role": "user", "content": [{"audio": audio}]})
    return {"model": model,
            "parameters": {"asr_options": asr_options, "result_format": "message"},
            "input": {"messages": messages}}


def transcription_body(*, model: str, file_url: str, channel_id: Sequence[int] = (0,),
                       language: str | None = None, enable_itn: bool = False,
                       enable_words: bool = True) -> dict[str, Any]:
    """``QwenTranscription.async_call(model, file_url, channel_id=, enable_itn=, enable_words=)``'s
    body; ``language`` (only when given) goes last, as a further keyword would."""
    parameters: dict[str, Any] = {"channel_id": [int(c) for c in channel_id],
                                  "enable_itn": bool(enable_itn),
                                  "enable_words": bool(enable_words)}
    if language:
        parameters["language"] = language
    return {"model": model, "parameters": parameters, "input": {"file_url": file_url}}


def _bad_reply(what: str, envelope: dict[str, Any]) -> UpstreamError:
    # A reply that does not say what the protocol says it must: retrying will not fix it.
    return UpstreamError(UNKNOWN, f"DashScope reply has no {what}",
                         request_id=envelope.get("request_id"), retryable=False)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text_of(content: Any) -> str:
    if isinstance(content, str):  # compatible-mode shape, accepted all the same
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content
                       if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def parse_recognition(envelope: dict[str, Any]) -> AsrResult:
    """The text, detected language and emotion, and usage of a recognition reply."""
    choices = _dict(envelope.get("output")).get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _bad_reply("output.choices", envelope)
    message = _dict(choices[0].get("message"))
    info: dict[str, Any] = next((a for a in message.get("annotations") or []
                       if isinstance(a, dict) and a.get("type") == "audio_info"), {})
    usage = _dict(envelope.get("usage"))
    return AsrResult(text=_text_of(message.get("content")),
                     language=info.get("language") or None, emotion=info.get("emotion") or None,
                     seconds=_number(usage.get("seconds")), usage=dict(usage),
                     request_id=envelope.get("request_id") or "")


def parse_task(envelope: dict[str, Any]) -> TranscriptionTask:
    """``GET /tasks/{id}``'s reply as a :class:`TranscriptionTask`."""
    output = _dict(envelope.get("output"))
    status = output.get("task_status")
    if not isinstance(status, str) or not status:
        raise _bad_reply("output.task_status", envelope)

    def text(value: Any) -> str | None:
        return str(value) if value not in (None, "") else None

    return TranscriptionTask(
        task_id=str(output.get("task_id") or ""), status=status.upper(),
        submit_time=text(output.get("submit_time")),
        scheduled_time=text(output.get("scheduled_time")),
        end_time=text(output.get("end_time")),
        transcription_url=text(_dict(output.get("result")).get("transcription_url")),
        code=text(output.get("code")), message=text(output.get("message")),
        usage_seconds=_number(_dict(envelope.get("usage")).get("seconds")),
        request_id=envelope.get("request_id") or "")


async def recognize(http: DashScopeHttp, *, api_key: str, model: str, audio: str,
                    language: str | None = None, enable_itn: bool = False,
                    context: str | None = None) -> AsrResult:
    """Recognize short audio (``audio``: a data URI or a URL DashScope can reach) in one call."""
    body = recognition_body(model=model, audio=audio, language=language, enable_itn=enable_itn,
                            context=context)
    return parse_recognition(await http.post(RECOGNITION_PATH, body, api_key=api_key))


async def submit_transcription(http: DashScopeHttp, *, api_key: str, model: str, file_url: str,
                               channel_id: Sequence[int] = (0,), language: str | None = None,
                               enable_itn: bool = False, enable_words: bool = True) -> str:
    """Start a file transcription task (``file_url`` must be public); returns its task id."""
    body = transcription_body(model=model, file_url=file_url, channel_id=channel_id,
                              language=language, enable_itn=enable_itn, enable_words=enable_words)
    envelope = await http.post(TRANSCRIPTION_PATH, body, api_key=api_key, async_task=True)
    task_id = _dict(envelope.get("output")).get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise _bad_reply("output.task_id", envelope)
    return task_id


async def get_transcription_task(http: DashScopeHttp, *, api_key: str,
                                 task_id: str) -> TranscriptionTask:
    """Where a task is. An id that cannot be a DashScope task id is UNKNOWN, as DashScope
    reports a task it does not know, without asking it."""
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        return TranscriptionTask(task_id=str(task_id), status="UNKNOWN",
                                 message="no task has this id")
    task = parse_task(await http.get_task(task_id, api_key=api_key))
    return task if task.task_id else replace(task, task_id=task_id)


async def fetch_transcription(http: DashScopeHttp, url: str, *, max_bytes: int) -> dict[str, Any]:
    """The transcription JSON (``file_url``, ``audio_info``, ``transcripts``) at a task's
    ``transcription_url``. It is signed by DashScope, so no API key is sent."""
    try:
        content = await http.fetch_bytes(url, max_bytes=max_bytes)
    except UpstreamError as e:
        if e.http_status in (403, 404, 410):
            # An expired or missing result, not an account problem (as a 403 from DashScope is).
            raise UpstreamError("ResultExpired", "the transcription result is no longer "
                                "available (results are kept for 24 h)", retryable=False) from e
        raise
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(UNKNOWN, "the transcription result is not a JSON object",
                            retryable=False)
    return data
