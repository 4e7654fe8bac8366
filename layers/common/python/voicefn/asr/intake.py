"""Getting a user's audio in: from base64, an upload, or a URL — checked by its bytes.

A URL of our own object store is read as an object, only for its owner or with a valid signature;
any other URL is fetched only if it points to a public address (voicefn.net.ssrf), with size and
time limits. The format comes from the bytes,
never from a file name or a declared content type.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voicefn.errors import ApiError
from voicefn.net.ssrf import Resolver, system_resolver
from voicefn.services import Services
from voicefn.uploads.limits import ACCEPTED_FORMATS as _FORMATS

if TYPE_CHECKING:
    import httpx

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


async def readable_key(services: Services, url: str, user_id: str) -> str | None:
    """The object key ``url`` names in our own store if this user may read it there: their own
    upload or generated audio, or any object whose URL carries a valid, unexpired signature (a
    capability whoever holds it could download anyway). None when ``url`` is not a URL of our
    store. Raises UnsafeUrl for a URL of our store this user may not read: it is refused like
    any other unreadable URL, whether or not the object exists."""
    from voicefn.net.errors import UnsafeUrl
    from voicefn.storage.owners import owns

    key = services.objects.key_from_url(url)
    if key is None:
        return None
    if await owns(services.state, key, user_id) or services.objects.signed_key_from_url(url) == key:
        return key
    raise UnsafeUrl("the URL points to a stored file this request may not read")


async def fetch_url(services: Services, url: str, *, user_id: str, param: str,
                    max_bytes: int = MAX_SYNC_BYTES, timeout_s: float = FETCH_TIMEOUT_S) -> bytes:
    """The bytes at a user's URL: an object of our store they may read, or a public URL fetched
    through the guard (:mod:`voicefn.net.fetch`)."""
    from voicefn.net.errors import FetchError, to_api_error
    from voicefn.net.fetch import safe_fetch

    try:
        key = await readable_key(services, url, user_id)
        return await safe_fetch(url, max_bytes=max_bytes, timeout_s=timeout_s,
                                objects=services.objects if key is not None else None,
                                resolver=SEAMS.resolver, transport=SEAMS.transport)
    except FetchError as exc:
        raise to_api_error(exc, param) from exc


async def copy_to_storage(services: Services, url: str, *, user_id: str, key_stem: str, param: str,
                          max_bytes: int, timeout_s: float) -> tuple[str, Audio]:
    """Fetch a user's URL (as :func:`fetch_url`), check it is audio, and store it as
    ``{key_stem}.{format}`` owned by ``user_id``: what DashScope then gets is a signed URL of our
    own object, never the user's URL (DESIGN §8; transcription, voice enrollment).

    Every fetch failure is the same "could not be fetched" (or "too large"): the answer must not
    tell what a server behind the URL said. Not audio: INVALID_AUDIO."""
    from voicefn.storage.owners import grant

    try:
        data = await fetch_url(services, url, user_id=user_id, param=param, max_bytes=max_bytes,
                               timeout_s=timeout_s)
    except ApiError as err:
        if err.code == "PAYLOAD_TOO_LARGE":
            raise ApiError("INVALID_AUDIO", f"{param}: the file is larger than {max_bytes // (1024 * 1024)} MB",
                           param=param) from None
        raise ApiError("INVALID_PARAMETER", f"{param} could not be fetched: it must be a public http(s) URL "
                       "that serves the audio file", param=param) from None
    audio = inspect(data, max_seconds=None, max_bytes=max_bytes, param=param)
    key = f"{key_stem}.{audio.format}"
    await services.objects.put(key, data)
    await grant(services.state, key, user_id)
    return key, audio


@dataclass
class FetchSeams:
    """How user URLs reach the internet: the system resolver and a real connection, except in
    tests, which play the internet on loopback (tests/voicefn/net/conftest.py)."""

    resolver: Resolver = field(default=system_resolver)
    transport: "httpx.AsyncBaseTransport | None" = None


SEAMS = FetchSeams()


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
