"""A short preview spoken with a new voice (seed 001: 试听音频), stored privately for its owner.

Synthesized through the layer's TTS service (so it is billed and recorded like any synthesis
with the voice) but never served from the TTS cache: after a new sample the same text must be
spoken again with the new voice.
"""

from __future__ import annotations

from voicefn.auth.principal import Principal
from voicefn.records.voice import Voice
from voicefn.services import Services

__all__ = ["PREVIEW_TEXTS", "PREVIEW_URL_TTL_S", "make_preview", "preview_url", "want_preview"]

PREVIEW_URL_TTL_S = 24 * 3600
PREVIEW_TEXTS = {"zh": "你好，这是我的专属声音。欢迎使用语音合成服务。",
                 "en": "Hello, this is my own cloned voice. Welcome to speech synthesis."}


def preview_text(voice: Voice) -> str:
    hints = voice.extra.get("language_hints") or []
    return PREVIEW_TEXTS["en"] if hints and hints[0] != "zh" else PREVIEW_TEXTS["zh"]


async def make_preview(services: Services, voice: Voice) -> Voice:
    """Synthesize the preview of an OK voice, store it (granted to the owner only) and record its
    key on the voice; the voice as stored afterwards."""
    from voicefn.tts.params import TtsParams, VoiceSettings
    from voicefn.tts.service import TtsService

    owner = Principal(user_id=voice.owner)
    params = TtsParams(VoiceSettings(model=voice.target_model or "", voice=voice.voice_id, format="mp3"),
                       preview_text(voice))
    tts = TtsService(services)
    api_key = await tts.prepare(owner, params)
    result = await services.dashscope.tts_bytes(api_key=api_key, text=params.text, params=params.cosyvoice())
    generation = voice.extra.get("generation")
    done = await tts.finish_synthesis(owner, params, result.audio, result.characters,
                                      idempotency_key=f"voice:preview:{voice.voice_id}:{generation}")
    row = await services.state.get_voice(voice.voice_id)
    if row is None:
        return voice
    stored = Voice.from_row(row)
    if stored.extra.get("generation") == generation:
        stored.preview_key = done.object_key
        stored.extra["preview_record_id"] = done.record_id
        stored.updated_at = None
        await services.state.put_voice(stored.to_row())
    return stored


def preview_url(services: Services, voice: Voice) -> str | None:
    return services.objects.signed_get_url(voice.preview_key, PREVIEW_URL_TTL_S) if voice.preview_key else None


async def want_preview(services: Services, voice: Voice) -> Voice:
    """Ask for a preview once the voice is OK (the watch job makes it); made now if it is OK already."""
    from voicefn.voice.enroll import refresh

    row = await services.state.get_voice(voice.voice_id)
    if row is None:
        return voice
    stored = Voice.from_row(row)
    stored.extra["preview_wanted"] = True
    await services.state.put_voice(stored.to_row())
    stored = await refresh(services, stored)
    if stored.usable and not stored.preview_key:  # it became OK meanwhile: the job may have missed the wish
        stored = await make_preview(services, stored)
    return stored
