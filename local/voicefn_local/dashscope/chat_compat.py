"""The chat models of DashScope's OpenAI-compatible mode (§4.3), answered by the local engine.

``qwen-plus``, ``qwen-turbo``, ``qwen-max``, ``qwen-flash`` (and their ``-latest``/dated
snapshots) and the qwen3 text models all map to the emulator's one chat engine. Non-streamed:
``chat.completion`` with ``usage``. Streamed: ``chat.completion.chunk`` events (the first carries
the role, the last the ``finish_reason``), with ``stream_options.include_usage`` one more chunk with
``choices: []`` and ``usage``, then ``data: [DONE]``.

Faults (``match.api`` = ``chat``, or ``X-Fake-Fault``): ``latency`` before the first token,
``throttle`` 429, ``error`` 500, ``slow_frames`` a delay before each token, ``task_failed`` an
error after the first token (SSE ``data: {"error": ...}``, non-streamed 500), ``drop`` the
connection cut after the first token (non-streamed: half the body).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import aclosing
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.calls import admit
from voicefn_local.dashscope.chat_request import parse_chat
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.responses import DROP, EventStream, TruncatedJSON
from voicefn_local.dashscope.state import EmulatorState, get_state
from voicefn_local.engines.llm_base import ChatEvent, ChatPrompt, EngineError, Finish, Piece
from voicefn_local.engines.llm_scripted import ChatScript, script_from_header

SCRIPT_HEADER = "x-fake-chat-script"
_QWEN = re.compile(r"qwen-(plus|turbo|max|flash|long)(-latest|-\d{4}-\d{2}-\d{2})?")
_NOT_TEXT = ("asr", "tts", "vl", "omni", "realtime", "livetranslate", "embedding", "mt-", "image")


def is_chat_model(model: str) -> bool:
    if _QWEN.fullmatch(model):
        return True
    return model.startswith(("qwen3-", "qwen3.5-", "qwen2.5-")) and not any(t in model for t in _NOT_TEXT)


def generation_failed() -> DashScopeError:
    return DashScopeError("InternalError.Algo", "The model failed while generating (injected task_failed fault).")


def engine_failure(exc: EngineError) -> DashScopeError:
    if exc.status == 400:
        return DashScopeError("InvalidParameter", exc.message)
    return DashScopeError("InternalError", exc.message)


def _error_event(err: DashScopeError) -> bytes:
    # after the 200 and some tokens, a failure can only be told in the stream (it ends without [DONE])
    kind = "invalid_request_error" if err.status < 500 else "server_error"
    code = "invalid_parameter_error" if err.status < 500 else "internal_error"
    return _sse({"error": {"message": err.message, "type": kind, "param": None, "code": code}})


def _usage(finish: Finish) -> dict[str, int]:
    return {"prompt_tokens": finish.prompt_tokens, "completion_tokens": finish.completion_tokens,
            "total_tokens": finish.prompt_tokens + finish.completion_tokens}


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _chunk(base: dict[str, Any], delta: dict[str, Any] | None, finish: str | None = None,
           usage: dict[str, int] | None = None) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    return _sse({**base, "object": "chat.completion.chunk", "choices": choices, "usage": usage})


async def _stream(base: dict[str, Any], first: ChatEvent, events: AsyncIterator[ChatEvent], fault: Fault | None,
                  include_usage: bool) -> AsyncIterator[Any]:
    # EventStream closes this generator (and so the generation) when the client goes away.
    yield _chunk(base, {"role": "assistant", "content": ""})
    async with aclosing(events):
        event: ChatEvent | None = first
        while event is not None:
            if isinstance(event, Piece):
                yield _chunk(base, {"content": event.text})
                if fault is not None and fault.kind == "task_failed":
                    yield _error_event(generation_failed())
                    return
                if fault is not None and fault.kind == "drop":
                    yield DROP
                    return
            else:
                yield _chunk(base, {}, event.reason)
                if include_usage:
                    yield _chunk(base, None, usage=_usage(event))
            try:
                event = await anext(events, None)
            except EngineError as exc:
                yield _error_event(engine_failure(exc))
                return
    yield b"data: [DONE]\n\n"


async def _collect(events: AsyncIterator[ChatEvent]) -> tuple[str, Finish]:
    parts: list[str] = []
    async for event in events:
        if isinstance(event, Piece):
            parts.append(event.text)
        else:
            return "".join(parts), event
    raise DashScopeError("InternalError", "the chat engine ended without finishing")


async def _unless_gone(request: Request, events: AsyncIterator[ChatEvent], step: Awaitable[Any]) -> Any:
    """``step``'s result, or None when the client disconnects first: the generation is then
    stopped (closed) rather than left running for nobody. Engine errors come out as DashScope's."""
    work = asyncio.ensure_future(step)
    watcher = asyncio.ensure_future(_wait_disconnect(request))
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work, watcher):
            task.cancel()
        await asyncio.gather(work, watcher, return_exceptions=True)
    if work.cancelled() or not work.done():
        await events.aclose()  # type: ignore[attr-defined]
        return None
    if isinstance(work.exception(), EngineError):
        await events.aclose()  # type: ignore[attr-defined]
        raise engine_failure(work.exception()) from None  # type: ignore[arg-type]
    return work.result()


async def _wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _script(state: EmulatorState, request: Request, prompt: ChatPrompt) -> ChatScript | None:
    try:
        script = script_from_header(request.headers.get(SCRIPT_HEADER))
    except ValueError as exc:
        raise DashScopeError("InvalidParameter", f"X-Fake-Chat-Script: {exc}") from None
    return script or state.chat.scripts.take(prompt.last_user_text)


async def handle_compat_chat(request: Request, body: dict[str, Any], stream: bool, *,
                             answer: ChatScript | None = None, api: str = "chat") -> Response:
    """``answer``: what to say when no script is given (the VLM's description of the picture)."""
    state = get_state(request)
    model = str(body.get("model"))
    try:
        prompt = parse_chat(body)
        script = _script(state, request, prompt) or answer
    except DashScopeError:
        state.stats.incr(f"{api}_calls")  # every call is counted, even a refused one
        raise
    fault = await admit(state, request, api=api, counter=f"{api}_calls", model=model, voice=None,
                        text=prompt.last_user_text)
    events = state.chat.generate(prompt, model=model, stream=stream, script=script, fault=fault)
    base = {"id": f"chatcmpl-{uuid.uuid4()}", "created": int(time.time()), "model": model,
            "system_fingerprint": None}
    if stream:
        # the first token is awaited before the 200, so a prompt the engine refuses gets a 400
        first = await _unless_gone(request, events, anext(events))
        if first is None:
            return Response(status_code=499)  # nobody is listening any more
        options = body.get("stream_options") or {}
        return EventStream(_stream(base, first, events, fault, bool(options.get("include_usage"))),
                           request_id=new_request_id())
    result = await _unless_gone(request, events, _collect(events))
    if result is None:
        return Response(status_code=499)
    text, finish = result
    await events.aclose()  # type: ignore[attr-defined]
    if fault is not None and fault.kind == "task_failed":
        raise generation_failed()
    reply = {**base, "object": "chat.completion",
             "choices": [{"index": 0, "finish_reason": finish.reason, "logprobs": None,
                          "message": {"role": "assistant", "content": text}}],
             "usage": _usage(finish)}
    if fault is not None and fault.kind == "drop":
        return TruncatedJSON(reply)
    return JSONResponse(reply)
