"""Mapping OpenAI's speech request onto ours (models, voices, speed, formats)."""

from __future__ import annotations

from voicefn.billing import billable_characters
from voicefn.catalog.models import resolve_openai_tts_model
from voicefn.catalog.voices import default_voice, get_voice, resolve_openai_voice
from voicefn.errors import ApiError
from voicefn.text.clean import strip_unspeakable
from voicefn.text.validate import require_speech
from voicefn.text.split import pack_segments
from voicefn.tts.openai_names import speech_settings
from voicefn.tts.params import TtsParams
from voicefn_tts.schemas import OpenAISpeechRequest

MAX_INPUT_CHARS = 4096          # OpenAI's limit
UPSTREAM_PIECE_CHARS = 2000     # CosyVoice's limit per continue-task
SAMPLE_RATE = 24000             # OpenAI's pcm is 24 kHz 16-bit mono; we use 24 kHz for every format
UPSTREAM_FORMAT = {"mp3": "mp3", "opus": "opus", "wav": "wav", "pcm": "pcm", "flac": "wav"}


DEFAULT_MODEL = "cosyvoice-v3-flash"  # what an unknown model name means here (seed 004's proxy
                                      # sends any model name to its TTS_DEFAULT_MODEL)


def to_params(body: OpenAISpeechRequest) -> tuple[TtsParams, list[str]]:
    model = resolve_openai_tts_model(body.model) or DEFAULT_MODEL
    voice_name = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    if voice_name is None or voice_name == "":
        voice_name = default_voice(model) or ""  # seed 004's example sends no voice
    if not isinstance(voice_name, str) or not voice_name:
        raise ApiError("INVALID_VOICE", "voice must be a voice id", param="voice")
    voice = resolve_openai_voice(voice_name) or voice_name
    if body.response_format == "aac":
        raise ApiError("INVALID_PARAMETER", "response_format aac is not supported; use mp3, opus, flac, wav or pcm",
                       param="response_format")
    if not body.input.strip():
        raise ApiError("INVALID_PARAMETER", "input must not be empty", param="input")
    require_speech(body.input, param="input")
    if len(body.input) > MAX_INPUT_CHARS:
        raise ApiError("TEXT_TOO_LONG", f"input is {len(body.input)} characters; at most {MAX_INPUT_CHARS}",
                       param="input")
    system = get_voice(voice)
    instruction = body.instructions if body.instructions and _instructable(system) else None
    text = strip_unspeakable(body.input)
    settings = speech_settings(model, voice, body.response_format, speed=body.speed, instruction=instruction)
    return TtsParams(settings, text), pack_segments(text, UPSTREAM_PIECE_CHARS, measure=billable_characters)


def _instructable(voice: object) -> bool:
    features = getattr(voice, "features", None)
    if isinstance(features, dict):
        return bool(features.get("instruct"))
    return bool(getattr(features, "instruct", False))
