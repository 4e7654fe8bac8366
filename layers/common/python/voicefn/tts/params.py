"""What a synthesis needs, checked once, whatever route it came from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace

from voicefn.errors import ApiError

FORMATS = ("mp3", "wav", "pcm", "opus")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
OPUS_SAMPLE_RATES = (8000, 16000, 24000, 48000)
COSYVOICE_MODELS = ("cosyvoice-v3-flash", "cosyvoice-v3-plus", "cosyvoice-v2")


@dataclass(frozen=True)
class TtsParams:
    model: str
    voice: str
    text: str
    format: str = "mp3"
    sample_rate: int = 22050
    volume: int = 50
    speech_rate: float = 1.0
    pitch_rate: float = 1.0
    instruction: str | None = None

    def with_text(self, text: str) -> "TtsParams":
        return replace(self, text=text)

    def cache_key(self, normalized_text: str) -> str:
        """Content address of the audio this request produces (DESIGN §7 TTS cache)."""
        fields = asdict(self)
        fields["text"] = normalized_text
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
        return "tts:" + hashlib.sha256(blob).hexdigest()


def check_ranges(p: TtsParams, *, max_chars: int) -> None:
    """seed 003 §1.1's ranges, each failing with the code a client can act on."""
    if p.model not in COSYVOICE_MODELS:
        raise ApiError("INVALID_MODEL", f"unknown TTS model {p.model!r}; use one of {', '.join(COSYVOICE_MODELS)}",
                       param="model")
    if not p.voice:
        raise ApiError("INVALID_VOICE", "voice is required", param="voice")
    if not p.text or not p.text.strip():
        raise ApiError("INVALID_PARAMETER", "text must not be empty", param="text")
    _check_text(p, max_chars)
    if p.format not in FORMATS:
        raise ApiError("INVALID_PARAMETER", f"format must be one of {', '.join(FORMATS)}", param="format")
    if p.sample_rate not in SAMPLE_RATES:
        raise ApiError("INVALID_PARAMETER", f"sample_rate must be one of {SAMPLE_RATES}", param="sample_rate")
    if p.format == "opus" and p.sample_rate not in OPUS_SAMPLE_RATES:
        raise ApiError("INVALID_PARAMETER", f"opus supports sample rates {OPUS_SAMPLE_RATES}",
                       param="sample_rate")
    if not 0 <= p.volume <= 100:
        raise ApiError("INVALID_PARAMETER", "volume must be in [0, 100]", param="volume")
    if not 0.5 <= p.speech_rate <= 2.0:
        raise ApiError("INVALID_PARAMETER", "speech_rate must be in [0.5, 2.0]", param="speech_rate")
    if not 0.5 <= p.pitch_rate <= 2.0:
        raise ApiError("INVALID_PARAMETER", "pitch_rate must be in [0.5, 2.0]", param="pitch_rate")
    if p.instruction is not None and len(p.instruction) > 500:
        raise ApiError("INVALID_PARAMETER", "instruction is at most 500 characters", param="instruction")


def _check_text(p: TtsParams, max_chars: int) -> None:
    """Something to say, within the limit counted as DashScope counts (and bills) characters:
    a CJK ideograph is 2, any other character 1, SSML tags not at all."""
    from voicefn.billing import billable_characters
    from voicefn.text.validate import check_text, require_speech

    require_speech(p.text, param="text")
    check_text(p.instruction, param="instruction")
    characters = billable_characters(p.text)
    if characters > max_chars:
        raise ApiError("TEXT_TOO_LONG", f"text is {characters} characters (CJK ideographs count 2); at most "
                       f"{max_chars} per request (use /api/audio/tts/synthesize-long for longer text)", param="text")


def fit_sample_rate(p: TtsParams) -> TtsParams:
    """Opus has no 22050 (seed 003's default) or 44100: a supported rate asked for with opus
    becomes the nearest rate opus has (ties go up), which the response then reports."""
    if p.format != "opus" or p.sample_rate in OPUS_SAMPLE_RATES or p.sample_rate not in SAMPLE_RATES:
        return p
    nearest = min(OPUS_SAMPLE_RATES, key=lambda rate: (abs(rate - p.sample_rate), -rate))
    return replace(p, sample_rate=nearest)
