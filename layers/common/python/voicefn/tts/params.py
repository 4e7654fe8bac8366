"""What a synthesis needs, checked once, whatever route it came from.

:class:`VoiceSettings` is how to speak (model, voice, audio format, rate, volume, pitch,
instruction); :class:`TtsParams` is those settings and the text. A live stream (the TTS
WebSocket, chat) has settings before it has any text. The mapping to DashScope's parameter names
is :meth:`VoiceSettings.cosyvoice`, beside the data it maps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace

from voicefn.dashscope.tts_ws_messages import CosyVoiceParams
from voicefn.errors import ApiError
from voicefn.text.validate import check_text, require_speech

FORMATS = ("mp3", "wav", "pcm", "opus")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
OPUS_SAMPLE_RATES = (8000, 16000, 24000, 48000)
COSYVOICE_MODELS = ("cosyvoice-v3-flash", "cosyvoice-v3-plus", "cosyvoice-v2")


def uses_ssml(text: str) -> bool:
    return text.lstrip().startswith("<speak")


@dataclass(frozen=True)
class VoiceSettings:
    model: str
    voice: str
    format: str = "mp3"
    sample_rate: int = 22050
    volume: int = 50
    speech_rate: float = 1.0
    pitch_rate: float = 1.0
    instruction: str | None = None

    def cosyvoice(self, *, ssml: bool = False) -> CosyVoiceParams:
        """DashScope's run-task parameters for these settings (its names: rate, pitch)."""
        return CosyVoiceParams(model=self.model, voice=self.voice, format=self.format,
                               sample_rate=self.sample_rate, volume=self.volume,
                               rate=self.speech_rate, pitch=self.pitch_rate,
                               instruction=self.instruction, enable_ssml=ssml)

    def with_text(self, text: str) -> TtsParams:
        return TtsParams(self, text)


@dataclass(frozen=True)
class TtsParams:
    settings: VoiceSettings
    text: str

    # Read-through shortcuts: most callers want one setting, not the settings object.
    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def voice(self) -> str:
        return self.settings.voice

    @property
    def format(self) -> str:
        return self.settings.format

    @property
    def sample_rate(self) -> int:
        return self.settings.sample_rate

    @property
    def instruction(self) -> str | None:
        return self.settings.instruction

    def with_text(self, text: str) -> TtsParams:
        return replace(self, text=text)

    def cosyvoice(self, text: str | None = None) -> CosyVoiceParams:
        """DashScope's parameters for ``text`` (default: all of it), SSML detected from it."""
        return self.settings.cosyvoice(ssml=uses_ssml(self.text if text is None else text))

    def cache_key(self, normalized_text: str) -> str:
        """Content address of the audio this request produces (DESIGN §7 TTS cache)."""
        fields = asdict(self.settings)  # the same flat fields (and so keys) as before the split
        fields["text"] = normalized_text
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
        return "tts:" + hashlib.sha256(blob).hexdigest()


def check_settings(s: VoiceSettings) -> None:
    """seed 003 §1.1's ranges for the voice settings, each with the code a client can act on."""
    if s.model not in COSYVOICE_MODELS:
        raise ApiError("INVALID_MODEL", f"unknown TTS model {s.model!r}; use one of {', '.join(COSYVOICE_MODELS)}",
                       param="model")
    if not s.voice:
        raise ApiError("INVALID_VOICE", "voice is required", param="voice")
    if s.format not in FORMATS:
        raise ApiError("INVALID_PARAMETER", f"format must be one of {', '.join(FORMATS)}", param="format")
    if s.sample_rate not in SAMPLE_RATES:
        raise ApiError("INVALID_PARAMETER", f"sample_rate must be one of {SAMPLE_RATES}", param="sample_rate")
    if s.format == "opus" and s.sample_rate not in OPUS_SAMPLE_RATES:
        raise ApiError("INVALID_PARAMETER", f"opus supports sample rates {OPUS_SAMPLE_RATES}",
                       param="sample_rate")
    if not 0 <= s.volume <= 100:
        raise ApiError("INVALID_PARAMETER", "volume must be in [0, 100]", param="volume")
    if not 0.5 <= s.speech_rate <= 2.0:
        raise ApiError("INVALID_PARAMETER", "speech_rate must be in [0.5, 2.0]", param="speech_rate")
    if not 0.5 <= s.pitch_rate <= 2.0:
        raise ApiError("INVALID_PARAMETER", "pitch_rate must be in [0.5, 2.0]", param="pitch_rate")
    if s.instruction is not None and len(s.instruction) > 500:
        raise ApiError("INVALID_PARAMETER", "instruction is at most 500 characters", param="instruction")
    check_text(s.instruction, param="instruction")


def check_ranges(p: TtsParams, *, max_chars: int) -> None:
    """seed 003 §1.1's ranges: the settings, then the text."""
    check_settings(p.settings)
    if not p.text or not p.text.strip():
        raise ApiError("INVALID_PARAMETER", "text must not be empty (characters no voice can say, such as "
                       "control and zero-width characters or emoji, are not counted)", param="text")
    _check_text(p.text, max_chars)


def _check_text(text: str, max_chars: int) -> None:
    """Something to say, within the limit counted as DashScope counts (and bills) characters:
    a CJK ideograph is 2, any other character 1, SSML tags not at all."""
    from voicefn.billing import billable_characters

    require_speech(text, param="text")
    characters = billable_characters(text)
    if characters > max_chars:
        raise ApiError("TEXT_TOO_LONG", f"text is {characters} characters (CJK ideographs count 2); at most "
                       f"{max_chars} per request (use /api/audio/tts/synthesize-long for longer text)", param="text")


def fit_sample_rate(s: VoiceSettings) -> VoiceSettings:
    """Opus has no 22050 (seed 003's default) or 44100: a supported rate asked for with opus
    becomes the nearest rate opus has (ties go up), which the response then reports."""
    if s.format != "opus" or s.sample_rate in OPUS_SAMPLE_RATES or s.sample_rate not in SAMPLE_RATES:
        return s
    nearest = min(OPUS_SAMPLE_RATES, key=lambda rate: (abs(rate - s.sample_rate), -rate))
    return replace(s, sample_rate=nearest)
