"""Upload object keys: ``uploads/{purpose}/{user}/{ticket_id}.{ext}``, written and read back.

The key says whose upload it is and which ticket it belongs to, so an OSS event (which carries
only the bucket and key) finds its ticket without a lookup table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicefn.uploads.limits import ACCEPTED_TYPES, PURPOSES

__all__ = ["UploadKey", "content_type_extension", "decode_user_segment", "encode_user_segment",
           "parse_upload_key", "upload_key"]

_USER_SAFE = re.compile(r"[A-Za-z0-9_.-]")
_UPLOAD_KEY = re.compile(r"uploads/(?P<purpose>[a-z]+)/(?P<user>[A-Za-z0-9_.~-]{1,400})/"
                         r"(?P<ticket>[0-9a-f]{32})\.(?P<ext>[a-z0-9]{1,8})")


@dataclass(frozen=True)
class UploadKey:
    """What an upload's object key says: ``uploads/{purpose}/{user}/{ticket_id}.{ext}``."""

    purpose: str
    user_id: str     # decoded: the owner's user id as authentication gave it
    ticket_id: str
    ext: str


def encode_user_segment(user_id: str) -> str:
    """The user id as one key segment: ``:`` and ``@`` (valid in user ids) become ``~3a``/``~40``,
    and a leading dot ``~2e`` (a segment of ``.`` or ``..`` is no valid key). Reversible."""
    out = "".join(ch if _USER_SAFE.fullmatch(ch) else f"~{ord(ch):02x}" for ch in user_id)
    return "~2e" + out[1:] if out.startswith(".") else out


def decode_user_segment(segment: str) -> str | None:
    """Inverse of :func:`encode_user_segment`; None if ``segment`` is no valid encoding."""
    out, i = [], 0
    while i < len(segment):
        if segment[i] == "~":
            code = segment[i + 1:i + 3]
            if not re.fullmatch(r"[0-9a-f]{2}", code):
                return None
            out.append(chr(int(code, 16)))
            i += 3
        else:
            out.append(segment[i])
            i += 1
    return "".join(out)


def upload_key(purpose: str, user_id: str, ticket_id: str, ext: str) -> str:
    return f"uploads/{purpose}/{encode_user_segment(user_id)}/{ticket_id}.{ext}"


def parse_upload_key(key: str) -> UploadKey | None:
    """The parts of an upload key, or None for any other key (the event handler's first check)."""
    match = _UPLOAD_KEY.fullmatch(key or "")
    if match is None or match["purpose"] not in PURPOSES:
        return None
    user_id = decode_user_segment(match["user"])
    if not user_id or encode_user_segment(user_id) != match["user"]:
        return None  # only the one canonical spelling names a user
    return UploadKey(match["purpose"], user_id, match["ticket"], match["ext"])


def content_type_extension(purpose: str, content_type: str) -> str | None:
    """The key extension for a declared Content-Type (parameters ignored), None if not allowed."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return ACCEPTED_TYPES.get(purpose, {}).get(media_type)
