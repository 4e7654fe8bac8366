"""``POST /api/v1/services/audio/tts/SpeechSynthesizer``: CosyVoice over plain HTTP (reference §1).

Every parameter is inside ``input`` (there is no ``parameters`` object). Non-streamed, the
answer is a URL to the audio file; with ``X-DashScope-SSE: enable`` it is base64 PCM chunks
and a final chunk with the URL.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.auth import bearer_key
from voicefn_local.dashscope.calls import admit, algo_failure, authorize, json_body
from voicefn_local.dashscope.cloned_voices import account_of
from voicefn_local.dashscope.cosyvoice_params import parse_cosyvoice
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.http_audio import AudioJob
from voicefn_local.dashscope.responses import EventStream, TruncatedJSON
from voicefn_local.dashscope.results import store_audio
from voicefn_local.dashscope.synthesis import check_text_length, strip_ssml

API = "tts_http"


def wants_sse(request: Request) -> bool:
    return request.headers.get("x-dashscope-sse", "").lower() == "enable"


def _input_text(data: Any) -> tuple[dict[str, Any], str]:
    if not isinstance(data, dict):
        raise DashScopeError("InvalidParameter", 'Required parameter "input" missing from request.')
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DashScopeError("BadRequest.EmptyInput", 'Required input parameter "text" is empty.')
    check_text_length(text)
    return data, text


async def speech_synthesizer(request: Request) -> Response:
    state = authorize(request)
    body = await json_body(request)
    model, raw_input = body.get("model"), body.get("input")
    voice = raw_input.get("voice") if isinstance(raw_input, dict) else None
    text_hint = raw_input.get("text") if isinstance(raw_input, dict) else None
    fault = await admit(state, request, api=API, counter="tts_http", model=model, voice=voice,
                        text=text_hint if isinstance(text_hint, str) else None)
    data, text = _input_text(raw_input)
    account = account_of(bearer_key(request.headers) or "")
    spec = parse_cosyvoice(state.voices, model, data, clones=state.cloned_voices, account=account)
    if spec.ssml:
        text = strip_ssml(text)
    job = AudioJob(state, text, spec.voice, spec.sample_rate, fault)
    request_id = new_request_id()

    async def final(pcm: bytes, characters: int) -> dict[str, Any]:
        audio = await store_audio(state, request, pcm, spec.fmt, spec.sample_rate,
                                  bit_rate_kbps=spec.bit_rate_kbps)
        return {"request_id": request_id, "output": {"finish_reason": "stop", "audio": audio},
                "usage": {"characters": characters}}

    if wants_sse(request):
        def chunk(index: int, sentence: str, pcm_b64: str, characters: int) -> dict[str, Any]:
            return {"request_id": request_id,
                    "output": {"type": "sentence-synthesis", "finish_reason": "null",
                               "sentence": {"index": index, "words": []},
                               "original_text": sentence, "audio": {"data": pcm_b64}},
                    "usage": {"characters": characters}}
        return EventStream(job.sse(request_id, chunk, final), request_id=request_id)

    result = await final(await job.whole_pcm(), job.characters)
    if fault is not None and fault.kind == "task_failed":
        raise algo_failure()
    if fault is not None and fault.kind == "drop":
        return TruncatedJSON(result)
    return JSONResponse(result)
