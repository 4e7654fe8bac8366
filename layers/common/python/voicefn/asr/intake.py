"""Getting a user's audio in: from base64, an upload, or a URL — checked by its bytes.

A URL of our own object store is read as an object; any other URL is fetched only if it points to
a public address (voicefn.net.ssrf), with size and time limits. The format comes from the bytes,
never from a file name or a declared content type.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Callable

from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.uploads.limits import ACCEPTED_FORMATS as _FORMATS

MAX_SYNC_BYTES = 10 * 1024 * 1024   # DashScope: ≤ 10 MB per file for sync recognition
FETCH_TIMEOUT_S = 20.0
SYNC_MAX_SECONDS = 60.0             # seed 003 §2.1: sync recognition is for audio up to 60 s
ACCEPTED_FORMATS = _FORMATS["asr"]  # what recognition takes, uploaded or sent inline


@dataclass(frozen=True)
class Audio:
    data: bytes
    format: str
    duration: float

    def data_uri(self) -> str:
        mime = {"mp3": "audio/mpeg", "opus": "audio/ogg", "ogg": "audio/ogg", "m4a": "audio/mp4"}.get(
            self.format, f"audio/{self.format}")
        return f"data:{mime};base64,{base64.b64encode(self.data).decode()}"


def decode_base64(value: str, *, max_bytes: int = MAX_SYNC_BYTES) -> bytes:
    raw = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    if len(raw) > (max_bytes * 4) // 3 + 8:
        raise ApiError("INVALID_AUDIO", f"audio is larger than {max_bytes // (1024 * 1024)} MB", param="audio_base64")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("INVALID_AUDIO", "audio_base64 is not valid base64", param="audio_base64") from exc


def readable_by(user_id: str) -> Callable[[str], bool]:
    """Which of our own objects a user may name by URL: their own uploads, and generated audio
    (``audio/…`` keys are random UUIDs: knowing one is like holding a link to it)."""
    from voicefn.uploads import parse_upload_key

    def allowed(key: str) -> bool:
        if key.startswith("audio/"):
            return True
        upload = parse_upload_key(key)
        return upload is not None and upload.user_id == user_id
    return allowed


async def fetch_url(services: Services, url: str, *, user_id: str, param: str,
                    max_bytes: int = MAX_SYNC_BYTES) -> bytes:
    from voicefn.net.errors import FetchError, to_api_error
    from voicefn.net.fetch import safe_fetch

    try:
        return await safe_fetch(url, max_bytes=max_bytes, timeout_s=FETCH_TIMEOUT_S, objects=services.objects,
                                allow_key=readable_by(user_id))
    except FetchError as exc:
        raise to_api_error(exc, param) from exc


def inspect(data: bytes, *, max_seconds: float | None = SYNC_MAX_SECONDS,
            max_bytes: int = MAX_SYNC_BYTES, param: str = "audio") -> Audio:
    """Accept ``data`` only if its bytes are audio of a supported format and allowed length."""
    from voicefn.audio import InvalidAudio
    from voicefn.audio.probe import audio_info

    if not data:
        raise ApiError("INVALID_AUDIO", "the audio is empty", param=param)
    if len(data) > max_bytes:
        raise ApiError("INVALID_AUDIO", f"audio is larger than {max_bytes // (1024 * 1024)} MB", param=param)
    try:
        info = audio_info(data)
    except InvalidAudio as exc:
        raise ApiError("INVALID_AUDIO", f"not a supported audio file ({exc})", param=param) from exc
    if info.format not in ACCEPTED_FORMATS:
        raise ApiError("INVALID_AUDIO", f"unsupported audio format {info.format}", param=param)
    if info.duration <= 0:
        raise ApiError("INVALID_AUDIO", "the audio has no samples", param=param)
    if max_seconds is not None and info.duration > max_seconds:
        raise ApiError("AUDIO_TOO_LONG", f"audio is {info.duration:.1f} s; at most {max_seconds:g} s here "
                       "(use /api/audio/asr/transcribe for long audio)", param=param)
    return Audio(data=data, format=info.format, duration=info.duration)
