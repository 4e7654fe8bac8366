"""Qwen ASR (``qwen3-asr-flash``, ``qwen-audio-asr``) on the multimodal-generation endpoint (§3.1).

Body ``{"model", "input": {"messages": [{"role": "system", "content": [{"text"}]}?,
{"role": "user", "content": [{"audio": "<data URI | http(s) URL>"}]}]}, "parameters":
{"asr_options": {"language", "enable_itn"}}}``. The system text (context, hot words) is accepted
and ignored by the engines. The answer carries the text in ``output.choices[0].message.content``,
the language in its ``annotations`` and the billed seconds in ``usage.seconds``; streamed
(``X-DashScope-SSE``), one chunk per sentence then a final one (cumulative text unless
``incremental_output``).

The recognition itself is shared with compatible mode (:mod:`.asr_recognize`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.asr_recognize import (NEUTRAL, AsrRequest, Recognition, admit_asr,
                                                   algo_failure, asr_request, count_tokens,
                                                   recognize)
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.responses import EventStream, TruncatedJSON
from voicefn_local.dashscope.sse import sse_error, sse_result
from voicefn_local.dashscope.state import get_state


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
    return []


def parse_native(body: dict[str, Any]) -> AsrRequest:
    """The audio, context and options of a native multimodal-generation body."""
    data = body.get("input")
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages:
        raise DashScopeError("InvalidParameter", 'Required parameter "messages" missing from request.')
    audio, context = None, []
    for message in messages:
        if not isinstance(message, dict):
            raise DashScopeError("InvalidParameter", "Each message must be an object.")
        if message.get("role") == "system":
            context += _texts(message.get("content"))
        elif message.get("role") == "user" and audio is None:
            content = message.get("content")
            items = content if isinstance(content, list) else []
            audio = next((c["audio"] for c in items
                          if isinstance(c, dict) and isinstance(c.get("audio"), str)), None)
    if not audio:
        raise DashScopeError("InvalidParameter",
                             'The user message must contain an "audio" item (a URL or data URI).')
    params = body.get("parameters") or {}
    options = params.get("asr_options") if isinstance(params, dict) else None
    return asr_request(audio, "\n".join(context), options)


def _message(text: str, language: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": text}],
            "annotations": [{"type": "audio_info", "language": language, "emotion": NEUTRAL}]}


def _usage(result: Recognition, text: str) -> dict[str, Any]:
    return {"input_tokens_details": {"text_tokens": result.context_tokens},
            "output_tokens_details": {"text_tokens": count_tokens(text)},
            "seconds": result.seconds}


def native_body(request_id: str, result: Recognition, text: str, finish: str) -> dict[str, Any]:
    return {"request_id": request_id,
            "output": {"choices": [{"finish_reason": finish,
                                    "message": _message(text, result.transcript.language)}]},
            "usage": _usage(result, text)}


async def _sse(request_id: str, result: Recognition, incremental: bool) -> AsyncIterator[Any]:
    transcript = result.transcript
    sentences = [s.text for s in transcript.sentences] or [transcript.text]
    so_far, seq = "", 0
    sep = "" if transcript.language in ("zh", "yue", "ja") else " "
    for index, sentence in enumerate(sentences):
        so_far = f"{so_far}{sep}{sentence}" if so_far else sentence
        seq += 1
        yield sse_result(seq, native_body(request_id, result, sentence if incremental else so_far,
                                          "null"))
        if index == 0 and result.fault is not None and result.fault.kind == "task_failed":
            yield sse_error(seq + 1, algo_failure(), request_id)
            return
    yield sse_result(seq + 1, native_body(request_id, result, "" if incremental else so_far,
                                          "stop"))


async def handle_qwen_asr(request: Request, body: dict[str, Any], stream: bool) -> Response:
    """Multimodal handler for the Qwen ASR family (the route has checked the API key)."""
    state = get_state(request)
    arrived = time.monotonic()
    model = str(body.get("model"))
    try:
        hint: str | None = parse_native(body).audio
    except DashScopeError:
        hint = None  # counted (and faulted) all the same, then refused below
    fault = await admit_asr(state, request, model, hint)
    result = await recognize(state, model, parse_native(body), fault)
    state.call_times.record("asr_sync", arrived, time.monotonic())
    request_id = new_request_id()
    if stream:
        params = body.get("parameters") or {}
        incremental = isinstance(params, dict) and bool(params.get("incremental_output"))
        return EventStream(_sse(request_id, result, incremental), request_id=request_id)
    if result.fault is not None and result.fault.kind == "task_failed":
        raise algo_failure()
    answer = native_body(request_id, result, result.transcript.text, "stop")
    if result.fault is not None and result.fault.kind == "drop":
        return TruncatedJSON(answer)
    return JSONResponse(answer)
