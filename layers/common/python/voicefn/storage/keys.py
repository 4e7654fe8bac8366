"""Object keys: validation and default content types, shared by every ObjectStore adapter.

OSS accepts almost any key, but a key is also a filesystem path in the local adapter and ends up
in URLs and OSS events. Both adapters accept the same, conservative set so that code which works
locally works in the cloud and the other way round.
"""

from __future__ import annotations

import mimetypes

MAX_KEY_BYTES = 1023  # OSS limit


class InvalidObjectKey(ValueError):
    """The key is empty, too long, absolute, escapes its bucket, or has characters we refuse."""


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is acceptable, else raise :class:`InvalidObjectKey`."""
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("object key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidObjectKey(f"object key longer than {MAX_KEY_BYTES} bytes")
    if "\x00" in key:
        raise InvalidObjectKey("object key contains NUL")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise InvalidObjectKey("object key contains control characters")
    if "\\" in key:
        # a path separator on Windows dev machines; never needed in our keys
        raise InvalidObjectKey("object key contains a backslash")
    if key.startswith("/"):
        raise InvalidObjectKey("object key must be relative (no leading '/')")
    if key.endswith("/"):
        raise InvalidObjectKey("object key must not end with '/' (directory markers are not objects)")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise InvalidObjectKey("object key has an empty, '.' or '..' path segment")
    return key


# audio types as OSS and browsers name them (Python's table says audio/x-wav and lacks some)
_AUDIO_TYPES = {
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".pcm": "audio/pcm", ".opus": "audio/opus",
    ".ogg": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".flac": "audio/flac",
    ".amr": "audio/amr", ".webm": "audio/webm",
}


def guess_content_type(key: str) -> str:
    """The Content-Type OSS would give an object uploaded without one (by extension)."""
    dot = key.rfind(".")
    ext = key[dot:].lower() if dot > key.rfind("/") else ""
    if ext in _AUDIO_TYPES:
        return _AUDIO_TYPES[ext]
    guessed, _ = mimetypes.guess_type("x" + ext) if ext else (None, None)
    return guessed or "application/octet-stream"
