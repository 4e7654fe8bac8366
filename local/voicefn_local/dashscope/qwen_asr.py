"""Qwen ASR (``qwen3-asr-flash``, ``qwen-audio-asr``) on the multimodal-generation endpoint (§3.1).

Body ``{"model", "input": {"messages": [{"role": "system", "content": [{"text"}]}?,
{"role": "user", "content": [{"audio": "<data URI | http(s) URL>"}]}]}, "parameters":
{"asr_options": {"language", "enable_itn"}}}``. The system text (context, hot words) is accepted
and ignored by the engines. The answer carries the text in ``output.choices[0].message.content``,
the language in its ``annotations`` and the billed seconds in ``usage.seconds``; streamed
(``X-DashScope-SSE``), one chunk per sentence then a final one (cumulative text unless
``incremental_output``).

:func:`recognize` is the part shared with the OpenAI-compatible route (:mod:`.asr_compat`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn.billing import billable_seconds
from voicefn.text.charclass import is_cjk

from voicefn_local.dashscope.asr_audio import (AudioFetchFailed, AudioTooLarge, InvalidAudio,
                                               decode_audio, is_http_url, read_audio_ref)
from voicefn_local.dashscope.calls import admit
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.responses import EventStream, TruncatedJSON
from voicefn_local.dashscope.sse import sse_error, sse_result
from voicefn_local.dashscope.state import EmulatorState, get_state
from voicefn_local.engines.asr_base import Transcript

API = "asr_sync"
NEUTRAL = "neutral"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def is_qwen_asr_model(model: str | None) -> bool:
    """qwen3-asr-flash, qwen-audio-asr and their dated snapshots (not filetrans, not realtime)."""
    if not model or "filetrans" in model or "realtime" in model:
        return False
    return model.startswith(("qwen3-asr-flash", "qwen-audio-asr"))


def count_tokens(text: str) -> int:
    """The emulator's token count: one per CJK character, Latin word or punctuation mark."""
    return sum(len(t) if any(is_cjk(ch) for ch in t) else 1 for t in _TOKEN.findall(text))


@dataclass(frozen=True)
class AsrRequest:
    audio: str              # data URI or URL
    context: str            # system text, "" if none
    language: str | None
    enable_itn: bool


@dataclass(frozen=True)
class Recognition:
    transcript: Transcript
    seconds: int            # billed
    context_tokens: int
    fault: Fault | None


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


def asr_request(audio: str, context: str, options: Any) -> AsrRequest:
    """Check ``asr_options`` (``{"language", "enable_itn"}``, both optional)."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise DashScopeError("InvalidParameter", "asr_options must be an object.")
    language = options.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise DashScopeError("InvalidParameter", "asr_options.language must be a language code.")
    return AsrRequest(audio, context, language.strip() if language else None,
                      bool(options.get("enable_itn", False)))


async def admit_asr(state: EmulatorState, request: Request, model: str,
                    audio: str | None) -> Fault | None:
    """Count the call and apply its fault (``match.text_contains`` sees an http(s) audio URL)."""
    return await admit(state, request, api=API, counter="asr_sync", model=model, voice=None,
                       text=audio if audio and is_http_url(audio) else None)


async def recognize(state: EmulatorState, model: str, asr: AsrRequest,
                    fault: Fault | None) -> Recognition:
    """Read and decode the audio, transcribe it; DashScopeError for bad input."""
    config = state.config
    try:
        data = await read_audio_ref(asr.audio, max_bytes=config.max_asr_audio_bytes,
                                    timeout_s=config.fetch_timeout_s)
        audio = await decode_audio(data)
    except AudioTooLarge as exc:
        raise DashScopeError("BadRequest.TooLarge", f"The audio is too large: {exc}.",
                             status=413) from None
    except AudioFetchFailed as exc:
        raise DashScopeError("InvalidParameter", f"The audio could not be read: {exc}.") from None
    except InvalidAudio as exc:
        raise DashScopeError("InvalidParameter",
                             f"The audio could not be decoded ({exc}); send wav, mp3, ogg, opus "
                             "or flac.") from None
    if audio.seconds > config.max_asr_sync_seconds:
        raise DashScopeError("InvalidParameter",
                             f"The audio lasts {audio.seconds:.1f} s; {model} accepts at most "
                             f"{config.max_asr_sync_seconds:g} s. Use qwen3-asr-flash-filetrans "
                             "for longer files.")
    transcript = await state.asr.transcribe(audio, asr.language)
    seconds = billable_seconds(audio.seconds)
    state.stats.incr("asr_seconds", seconds)
    return Recognition(transcript, seconds, count_tokens(asr.context), fault)


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


def algo_failure() -> DashScopeError:
    """What the ``task_failed`` fault reports on the sync ASR APIs."""
    return DashScopeError("InternalError.Algo",
                          "[asr] the recognition engine failed (injected task_failed fault)")


async def handle_qwen_asr(request: Request, body: dict[str, Any], stream: bool) -> Response:
    """Multimodal handler for the Qwen ASR family (the route has checked the API key)."""
    state = get_state(request)
    model = str(body.get("model"))
    try:
        hint: str | None = parse_native(body).audio
    except DashScopeError:
        hint = None  # counted (and faulted) all the same, then refused below
    fault = await admit_asr(state, request, model, hint)
    result = await recognize(state, model, parse_native(body), fault)
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
