"""What we sell: TTS/ASR models with prices, and system voices (seed 003 §1.2, §2.0, §4.1)."""

from voicefn.catalog.models import (
    AsrModel,
    TtsModel,
    asr_models,
    get_asr_model,
    get_tts_model,
    resolve_openai_tts_model,
    tts_models,
)
from voicefn.catalog.voices import (
    OPENAI_VOICE_MAP,
    SystemVoice,
    VoiceFeatures,
    default_voice,
    get_voice,
    resolve_openai_voice,
    system_voices,
    voice_supports_model,
)

__all__ = [
    "AsrModel", "TtsModel", "asr_models", "get_asr_model", "get_tts_model", "resolve_openai_tts_model",
    "tts_models", "OPENAI_VOICE_MAP", "SystemVoice", "VoiceFeatures", "default_voice", "get_voice",
    "resolve_openai_voice", "system_voices", "voice_supports_model",
]
