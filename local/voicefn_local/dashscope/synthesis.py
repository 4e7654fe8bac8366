"""Shared synthesis plumbing of the TTS APIs: parameters, SSML, engine calls, audio framing."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from voicefn_local.dashscope.errors import DashScopeError
from voicefn_local.dashscope.stats import Stats
from voicefn_local.engines.base import TtsEngine
from voicefn_local.engines.clone import CloneProfile

MAX_TEXT_CHARS = 20_000  # per continue-task / request (the WebSocket API's documented limit)
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class VoiceParams:
    language: str           # "zh" | "yue" | "en"
    gender: str             # "female" | "male"
    rate: float = 1.0
    pitch: float = 1.0
    volume: int = 50
    clone: CloneProfile | None = None   # a cloned voice's measured pitch and pace


def _number(params: dict[str, object], name: str, default: float, low: float, high: float) -> float:
    raw = params.get(name, default)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise DashScopeError("InvalidParameter", f"{name} must be a number")
    if not low <= raw <= high:
        raise DashScopeError("InvalidParameter", f"{name} {raw} is out of range [{low}, {high}]")
    return float(raw)


def voice_params(params: dict[str, object], *, language: str, gender: str,
                 clone: CloneProfile | None = None) -> VoiceParams:
    """Validate DashScope's ``rate`` (0.5-2), ``pitch`` (0.5-2), ``volume`` (0-100)."""
    return VoiceParams(
        language=language,
        gender=gender,
        rate=_number(params, "rate", 1.0, 0.5, 2.0),
        pitch=_number(params, "pitch", 1.0, 0.5, 2.0),
        volume=int(_number(params, "volume", 50, 0, 100)),
        clone=clone,
    )


def strip_ssml(text: str) -> str:
    """The words of an SSML document (``<speak>...</speak>``); plain text is returned as is."""
    if not text.lstrip().startswith("<speak"):
        return text
    return html.unescape(_TAG.sub("", text)).strip()


def check_text_length(text: str, limit: int = MAX_TEXT_CHARS) -> None:
    if len(text) > limit:
        raise DashScopeError("InvalidParameter",
                             f"text is too long: {len(text)} characters, the limit is {limit}")


class EngineRunner:
    """Calls the engine in a worker thread (the event loop stays free) and counts the calls."""

    def __init__(self, engine: TtsEngine, stats: Stats) -> None:
        self.engine = engine
        self.stats = stats

    async def pcm(self, text: str, voice: VoiceParams, sample_rate: int) -> bytes:
        self.stats.incr("engine_calls")
        return await asyncio.to_thread(
            self.engine.synthesize, text, language=voice.language, gender=voice.gender,
            sample_rate=sample_rate, rate=voice.rate, pitch=voice.pitch, volume=voice.volume,
            clone=voice.clone)


def pcm_frames(pcm: bytes, sample_rate: int, frame_ms: int) -> Iterator[bytes]:
    """Split 16-bit mono PCM into pieces of ``frame_ms`` (the last may be shorter)."""
    step = max(2, sample_rate * frame_ms // 1000 * 2)
    for start in range(0, len(pcm), step):
        yield pcm[start:start + step]
