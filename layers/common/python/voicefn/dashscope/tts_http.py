"""Synthesis over DashScope's plain HTTP endpoints (reference §1 "HTTP CosyVoice" and §5).

- CosyVoice, non-realtime: ``POST /services/audio/tts/SpeechSynthesizer``; every parameter sits
  in ``input`` and there is no ``parameters`` object.
- Qwen TTS: ``POST /services/aigc/multimodal-generation/generation`` with
  ``{"model", "parameters": {}, "input": {"text", "voice", "language_type"?}}``.

Both answer with a URL to the audio (valid 24 h), or, streamed over SSE, with base64 PCM chunks in
``output.audio.data``. Bodies are built key for key as the SDK builds them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from voicefn.dashscope.errors import UNKNOWN, UpstreamError
from voicefn.dashscope.http import DashScopeHttp
from voicefn.dashscope.results import CosyVoiceHttpResult, QwenTtsResult

COSYVOICE_HTTP_PATH = "services/audio/tts/SpeechSynthesizer"
MULTIMODAL_PATH = "services/aigc/multimodal-generation/generation"


def cosyvoice_http_body(*, model: str, text: str, voice: str, format: str = "wav",
                        sample_rate: int = 24000, **params: Any) -> dict[str, Any]:
    """``HttpSpeechSynthesizer.call``'s body: None-valued extras (volume, rate…) are left out."""
    return {"model": model,
            "input": {"text": text, "voice": voice, "format": format, "sample_rate": sample_rate,
                      **{k: v for k, v in params.items() if v is not None}}}


def qwen_tts_body(*, model: str, text: str, voice: str, language_type: str | None = None,
                  parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """``MultiModalConversation.call(text=, voice=, language_type=)``'s body, in its key order."""
    payload_input: dict[str, Any] = {"text": text, "voice": voice}
    if language_type:
        payload_input["language_type"] = language_type
    return {"model": model, "parameters": dict(parameters or {}), "input": payload_input}


def _audio_info(envelope: dict[str, Any]) -> dict[str, Any]:
    output = envelope.get("output") or {}
    audio = output.get("audio") if isinstance(output, dict) else None
    return audio if isinstance(audio, dict) else {}


def _characters(envelope: dict[str, Any]) -> int | None:
    usage = envelope.get("usage")
    value = usage.get("characters") if isinstance(usage, dict) else None
    return value if isinstance(value, int) else None


def _url_result(envelope: dict[str, Any]) -> dict[str, Any]:
    audio = _audio_info(envelope)
    if not audio.get("url"):
        raise UpstreamError(UNKNOWN, "DashScope reply has no output.audio.url",
                            request_id=envelope.get("request_id"), retryable=False)
    return {"audio_url": audio["url"], "characters": _characters(envelope) or 0,
            "request_id": envelope.get("request_id") or "", "audio_id": audio.get("id"),
            "expires_at": audio.get("expires_at")}


def _decode(data: str, request_id: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError(UNKNOWN, "DashScope sent audio that is not valid base64",
                            request_id=request_id, retryable=False) from None


def _qwen_chunk(envelope: dict[str, Any]) -> str | None:
    return _audio_info(envelope).get("data") or None


def _cosyvoice_chunk(envelope: dict[str, Any]) -> str | None:
    # The SDK takes audio only from "sentence-*" chunks; the final chunk carries the URL.
    output = envelope.get("output") or {}
    if isinstance(output, dict) and str(output.get("type", "")).startswith("sentence-"):
        return _audio_info(envelope).get("data") or None
    return None


class HttpAudioStream:
    """PCM chunks from an SSE synthesis, as an async iterator; totals readable when it ends."""

    def __init__(self, events: AsyncIterator[dict[str, Any]], chunk_of: Callable[[dict[str, Any]], str | None]) -> None:
        self._events = events
        self._chunk_of = chunk_of
        self.characters = 0
        self.request_id = ""
        self.audio_url: str | None = None
        self._gen = self._run()

    def __aiter__(self) -> HttpAudioStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()  # ends the HTTP response even if iteration never started

    async def _run(self) -> AsyncGenerator[bytes, None]:
        async for envelope in self._events:
            self.request_id = envelope.get("request_id") or self.request_id
            self.characters = _characters(envelope) or self.characters
            self.audio_url = _audio_info(envelope).get("url") or self.audio_url
            data = self._chunk_of(envelope)
            if data:
                yield _decode(data, self.request_id)


async def qwen_tts(http: DashScopeHttp, *, api_key: str, model: str, text: str, voice: str,
                   language_type: str | None = None,
                   parameters: dict[str, Any] | None = None) -> QwenTtsResult:
    """Qwen TTS in one reply: a URL to a WAV file, and the billed characters."""
    body = qwen_tts_body(model=model, text=text, voice=voice, language_type=language_type,
                         parameters=parameters)
    envelope = await http.post(MULTIMODAL_PATH, body, api_key=api_key)
    return QwenTtsResult(**_url_result(envelope))


def qwen_tts_stream(http: DashScopeHttp, *, api_key: str, model: str, text: str, voice: str,
                    language_type: str | None = None,
                    parameters: dict[str, Any] | None = None) -> HttpAudioStream:
    """Qwen TTS streamed: raw PCM (24 kHz, 16-bit mono) chunks as DashScope produces them."""
    body = qwen_tts_body(model=model, text=text, voice=voice, language_type=language_type,
                         parameters=parameters)
    return HttpAudioStream(http.stream(MULTIMODAL_PATH, body, api_key=api_key), _qwen_chunk)


async def cosyvoice_http_tts(http: DashScopeHttp, *, api_key: str, model: str, text: str,
                             voice: str, format: str = "wav", sample_rate: int = 24000,
                             **params: Any) -> CosyVoiceHttpResult:
    """Non-realtime CosyVoice: a URL to the audio file, and the billed characters."""
    body = cosyvoice_http_body(model=model, text=text, voice=voice, format=format,
                               sample_rate=sample_rate, **params)
    envelope = await http.post(COSYVOICE_HTTP_PATH, body, api_key=api_key)
    return CosyVoiceHttpResult(**_url_result(envelope))


def cosyvoice_http_tts_stream(http: DashScopeHttp, *, api_key: str, model: str, text: str,
                              voice: str, format: str = "pcm", sample_rate: int = 24000,
                              **params: Any) -> HttpAudioStream:
    """Non-realtime CosyVoice over SSE: decoded audio chunks, sentence by sentence."""
    body = cosyvoice_http_body(model=model, text=text, voice=voice, format=format,
                               sample_rate=sample_rate, **params)
    return HttpAudioStream(http.stream(COSYVOICE_HTTP_PATH, body, api_key=api_key),
                           _cosyvoice_chunk)
