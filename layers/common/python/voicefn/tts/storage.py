"""Where synthesized audio goes: ``audio/tts/{date}/{uuid}.{format}`` (seed 003 §1.1)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from voicefn.audio.formats import content_type, extension
from voicefn.storage.objects import ObjectInfo, ObjectStore

AUDIO_URL_TTL_S = 24 * 3600


def new_audio_key(fmt: str, prefix: str = "audio/tts") -> str:
    day = datetime.now(timezone.utc).strftime("%Y%m%d")
    return f"{prefix}/{day}/{uuid.uuid4().hex}.{extension(fmt)}"


async def store_audio(objects: ObjectStore, audio: bytes, fmt: str, sample_rate: int | None = None) -> ObjectInfo:
    if fmt == "wav":  # a stored file has its true sizes; 0xFFFFFFFF is for streams only
        from voicefn.audio.wav import with_true_sizes

        audio = with_true_sizes(audio)
    return await objects.put(new_audio_key(fmt), audio, content_type(fmt, sample_rate))


def audio_url(objects: ObjectStore, key: str) -> str:
    return objects.signed_get_url(key, AUDIO_URL_TTL_S)
