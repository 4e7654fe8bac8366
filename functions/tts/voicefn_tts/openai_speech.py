"""Mapping OpenAI's speech request onto ours (models, voices, speed, formats)."""

from __future__ import annotations

from voicefn.catalog.models import resolve_openai_tts_model
from voicefn.catalog.voices import get_voice, resolve_openai_voice
from voicefn.errors import ApiError
from voicefn.text.split import pack_segments
from voicefn.tts.params import TtsParams, VoiceSettings
from voicefn_tts.schemas import OpenAISpeechRequest

MAX_INPUT_CHARS = 4096          # OpenAI's limit
UPSTREAM_PIECE_CHARS = 2000     # CosyVoice's limit per continue-task
SAMPLE_RATE = 24000             # OpenAI's pcm is 24 kHz 16-bit mono; we use 24 kHz for every format
UPSTREAM_FORMAT = {"mp3": "mp3", "opus": "opus", "wav": "wav", "pcm": "pcm", "flac": "wav"}


def to_params(body: OpenAISpeechRequest) -> tuple[TtsParams, list[str]]:
    model = resolve_openai_tts_model(body.model)
    if model is None:
        raise ApiError("INVALID_MODEL", f"unknown model {body.model!r}; use tts-1, tts-1-hd, gpt-4o-mini-tts "
                       "or a cosyvoice model id", param="model")
    voice_name = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    if not isinstance(voice_name, str) or not voice_name:
        raise ApiError("INVALID_VOICE", "voice is required", param="voice")
    voice = resolve_openai_voice(voice_name) or voice_name
    if body.response_format == "aac":
        raise ApiError("UNSUPPORTED_FORMAT", "response_format aac is not supported; use mp3, opus, flac, wav or pcm",
                       param="response_format")
    if not body.input.strip():
        raise ApiError("INVALID_PARAMETER", "input must not be empty", param="input")
    if len(body.input) > MAX_INPUT_CHARS:
        raise ApiError("TEXT_TOO_LONG", f"input is {len(body.input)} characters; at most {MAX_INPUT_CHARS}",
                       param="input")
    system = get_voice(voice)
    instruction = body.instructions if body.instructions and _instructable(system) else None
    settings = VoiceSettings(model=model, voice=voice, format=UPSTREAM_FORMAT[body.response_format],
                             sample_rate=SAMPLE_RATE, speech_rate=min(2.0, max(0.5, body.speed)),
                             instruction=instruction)
    params = TtsParams(settings, body.input)
    return params, pack_segments(body.input, UPSTREAM_PIECE_CHARS)


def _instructable(voice: object) -> bool:
    features = getattr(voice, "features", None)
    if isinstance(features, dict):
        return bool(features.get("instruct"))
    return bool(getattr(features, "instruct", False))
