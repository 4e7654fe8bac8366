"""Qwen ASR in OpenAI-compatible mode (§3.1): ``{"model", "messages": [{"role": "user", "content":
[{"type": "input_audio", "input_audio": {"data": "<URL | data URI>"}}]}], "asr_options"?,
"stream"?}``. The reply's ``choices[0].message.content`` is the text, with ``annotations``
beside it; streamed, ``chat.completion.chunk`` deltas per sentence and ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.asr_recognize import (NEUTRAL, AsrRequest, Recognition, admit_asr,
                                                   algo_failure, asr_request, count_tokens,
                                                   recognize)
from voicefn_local.dashscope.responses import EventStream
from voicefn_local.dashscope.state import get_state


def _audio_item(item: Any) -> str | None:
    if isinstance(item, dict) and item.get("type") == "input_audio":
        data = item.get("input_audio")
        if isinstance(data, dict) and isinstance(data.get("data"), str):
            return data["data"]
    return None


def parse_compat(body: dict[str, Any]) -> AsrRequest:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise DashScopeError("InvalidParameter", 'Required parameter "messages" missing from request.')
    audio, context = None, []
    for message in messages:
        if not isinstance(message, dict):
            raise DashScopeError("InvalidParameter", "Each message must be an object.")
        content = message.get("content")
        if message.get("role") == "system":
            if isinstance(content, str):
                context.append(content)
            elif isinstance(content, list):
                context += [c["text"] for c in content
                            if isinstance(c, dict) and isinstance(c.get("text"), str)]
        elif message.get("role") == "user" and audio is None and isinstance(content, list):
            audio = next((a for a in map(_audio_item, content) if a), None)
    if not audio:
        raise DashScopeError("InvalidParameter",
                             'The user message must contain an "input_audio" item.')
    return asr_request(audio, "\n".join(context), body.get("asr_options"))


def _usage(result: Recognition) -> dict[str, Any]:
    completion = count_tokens(result.transcript.text)
    return {"prompt_tokens": result.context_tokens, "completion_tokens": completion,
            "total_tokens": result.context_tokens + completion, "seconds": result.seconds}


def _annotations(result: Recognition) -> list[dict[str, str]]:
    return [{"type": "audio_info", "language": result.transcript.language, "emotion": NEUTRAL}]


def _chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None,
           usage: dict[str, Any] | None = None, choices: bool = True) -> bytes:
    data = {**base, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
            if choices else [], "usage": usage}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _stream(base: dict[str, Any], result: Recognition,
                  include_usage: bool) -> AsyncIterator[bytes]:
    sentences = [s.text for s in result.transcript.sentences] or [result.transcript.text]
    sep = "" if result.transcript.language in ("zh", "yue", "ja") else " "
    for index, sentence in enumerate(sentences):
        delta: dict[str, Any] = {"content": (sep if index else "") + sentence}
        if index == 0:
            delta["role"] = "assistant"
        yield _chunk(base, delta, None)
        if index == 0 and result.fault is not None and result.fault.kind == "task_failed":
            err = algo_failure()
            yield f"data: {json.dumps({'error': {'message': err.message, 'code': 'internal_error'}})}\n\n".encode()
            return
    yield _chunk(base, {"annotations": _annotations(result)}, "stop")
    if include_usage:
        yield _chunk(base, {}, None, _usage(result), choices=False)
    yield b"data: [DONE]\n\n"


async def handle_compat_asr(request: Request, body: dict[str, Any], stream: bool) -> Response:
    state = get_state(request)
    model = str(body.get("model"))
    try:
        hint: str | None = parse_compat(body).audio
    except DashScopeError:
        hint = None
    fault = await admit_asr(state, request, model, hint)
    result = await recognize(state, model, parse_compat(body), fault)
    request_id = new_request_id()
    base = {"id": f"chatcmpl-{uuid.uuid4()}", "created": int(time.time()), "model": model}
    if stream:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return EventStream(_stream(base, result, include_usage), request_id=request_id)
    if result.fault is not None and result.fault.kind == "task_failed":
        raise algo_failure()
    return JSONResponse({**base, "object": "chat.completion",
                         "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                      "message": {"role": "assistant",
                                                  "content": result.transcript.text,
                                                  "annotations": _annotations(result)}}],
                         "usage": _usage(result)})
