"""Signed links to one sentence's audio (seed 004's ``tts.audio_url``).

The link names the audio by its TTS cache key, which exists before the audio does: asked for
while the sentence is still being synthesized, the route waits for it. Signed, because a
player (``<audio src>``, ``wx.createInnerAudioContext``) cannot send an Authorization header;
the key alone reveals nothing of the text.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from voicefn.errors import ApiError
from voicefn.services import Services

LINK_TTL_S = 3600
PATH = "/v1/chat/audio"
_PREFIX = "tts:"


def _signature(services: Services, digest: str, expires: int) -> str:
    secret = services.derived_secret("chat-sentence-audio")
    return hmac.new(secret, f"{digest}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def audio_link(services: Services, cache_key: str) -> str:
    digest = cache_key.removeprefix(_PREFIX)
    expires = int(time.time()) + LINK_TTL_S
    base = services.settings.public_base_url.rstrip("/")
    return f"{base}{PATH}/{digest}.mp3?expires={expires}&signature={_signature(services, digest, expires)}"


def check_link(services: Services, name: str, expires: str | None, signature: str | None) -> str:
    """The cache key a link names; 403 for a forged or expired link, 404 for a malformed one."""
    digest = name.removesuffix(".mp3")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ApiError("NOT_FOUND", "no such audio")
    try:
        when = int(expires or "")
    except ValueError:
        raise ApiError("FORBIDDEN", "the audio link is not signed") from None
    if not signature or not hmac.compare_digest(signature, _signature(services, digest, when)):
        raise ApiError("FORBIDDEN", "the audio link's signature is not valid")
    if when < time.time():
        raise ApiError("FORBIDDEN", "the audio link has expired")
    return _PREFIX + digest
