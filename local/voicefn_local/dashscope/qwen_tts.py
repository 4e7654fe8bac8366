"""Qwen TTS (``qwen3-tts-flash``, ``qwen-tts``, ...) on the multimodal-generation endpoint (§5).

Body ``{"model", "input": {"text", "voice", "language_type"?}, "parameters": {}}``. The answer is
a 24 kHz WAV at ``output.audio.url``; streamed, base64 24 kHz PCM chunks then a final chunk with
the URL and usage.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.calls import admit, algo_failure
from voicefn_local.dashscope.catalog import EmulatedVoice
from voicefn_local.dashscope.cosyvoice_params import voice_error
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.files import new_file_id
from voicefn_local.dashscope.http_audio import AudioJob
from voicefn_local.dashscope.responses import EventStream, TruncatedJSON
from voicefn_local.dashscope.results import store_audio
from voicefn_local.dashscope.state import EmulatorState, get_state
from voicefn_local.dashscope.synthesis import VoiceParams, check_text_length

API = "qwen_tts"
SAMPLE_RATE = 24000
_LANGUAGE_TYPES = {"chinese": "zh", "english": "en", "cantonese": "yue"}


def _serves(voice: EmulatedVoice, model: str) -> bool:
    # A dated snapshot (qwen3-tts-flash-2025-09-18) speaks with its base model's voices.
    return any(model == m or model.startswith(m + "-") for m in voice.models)


def _voice(state: EmulatorState, model: str, data: dict[str, Any]) -> VoiceParams:
    voice_id = data.get("voice")
    if not voice_id or not isinstance(voice_id, str):
        raise DashScopeError("InvalidParameter", 'Required parameter "voice" missing from request.')
    found = state.voices.lookup(voice_id)
    if found is None:
        raise voice_error(voice_id, "voice not found")
    if not _serves(found, model):
        raise voice_error(voice_id, f"voice is not available for model {model}")
    language_type = str(data.get("language_type") or "").lower()
    return VoiceParams(language=_LANGUAGE_TYPES.get(language_type, found.language),
                       gender=found.gender)


async def handle_qwen_tts(request: Request, body: dict[str, Any], stream: bool) -> Response:
    """Multimodal handler for the Qwen TTS family (the route has checked the API key)."""
    state = get_state(request)
    model = str(body.get("model"))
    data = body.get("input")
    if not isinstance(data, dict):
        raise DashScopeError("InvalidParameter", 'Required parameter "input" missing from request.')
    text = data.get("text")
    fault = await admit(state, request, api=API, counter="qwen_tts", model=model,
                        voice=data.get("voice"), text=text if isinstance(text, str) else None)
    if not isinstance(text, str) or not text.strip():
        raise DashScopeError("BadRequest.EmptyInput", 'Required input parameter "text" is empty.')
    check_text_length(text)
    job = AudioJob(state, text, _voice(state, model, data), SAMPLE_RATE, fault)
    request_id = new_request_id()
    audio_id = new_file_id()
    expires_at = int(time.time()) + state.files.ttl_s

    async def final(pcm: bytes, characters: int) -> dict[str, Any]:
        audio = await store_audio(state, request, pcm, "wav", SAMPLE_RATE, file_id=audio_id)
        return {"request_id": request_id,
                "output": {"finish_reason": "stop", "audio": {**audio, "data": ""}},
                "usage": {"characters": characters}}

    if stream:
        def chunk(index: int, sentence: str, pcm_b64: str, characters: int) -> dict[str, Any]:
            return {"request_id": request_id,
                    "output": {"finish_reason": "null",
                               "audio": {"data": pcm_b64, "id": audio_id, "expires_at": expires_at}},
                    "usage": {"characters": characters}}
        return EventStream(job.sse(request_id, chunk, final), request_id=request_id)

    result = await final(await job.whole_pcm(), job.characters)
    if fault is not None and fault.kind == "task_failed":
        raise algo_failure()
    if fault is not None and fault.kind == "drop":
        return TruncatedJSON(result)
    return JSONResponse(result)
