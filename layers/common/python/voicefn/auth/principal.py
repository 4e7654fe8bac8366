"""The caller of a request: a user (JWT ``sub``) or a service (API key) acting for a user."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Literal

from voicefn.auth.jwt import verify_token
from voicefn.errors import ApiError
from voicefn.settings import Settings

__all__ = ["Principal", "authenticate", "valid_user_id", "ACTING_USER_HEADER"]

ACTING_USER_HEADER = "X-Voicefn-User"
# user ids become storage keys and OSS path segments: keep them boring
_USER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")


@dataclass(frozen=True)
class Principal:
    user_id: str
    kind: Literal["user", "service"] = "user"
    service: str | None = None


def valid_user_id(value: str) -> bool:
    return bool(_USER_ID.fullmatch(value))


def _service_name(credential: str, service_keys: dict[str, str]) -> str | None:
    """Constant-time match against every configured key (no early exit on a hit)."""
    found: str | None = None
    given = credential.encode()
    for key, name in service_keys.items():
        if hmac.compare_digest(given, key.encode()):
            found = name
    return found


def authenticate(authorization: str | None, acting_user: str | None, settings: Settings) -> Principal:
    """Resolve ``Authorization: Bearer <service key | JWT>`` to a :class:`Principal`.

    A service key may act for the user named in ``X-Voicefn-User``; a JWT user is always its own
    ``sub`` (the header is ignored, so a user cannot act as someone else).
    """
    if authorization is None or not authorization.strip():
        raise ApiError("UNAUTHORIZED", "missing Authorization header (expected 'Bearer <token>')")
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise ApiError("UNAUTHORIZED", "Authorization header must be 'Bearer <token>'")

    service = _service_name(credential, settings.service_keys) if settings.service_keys else None
    if service is not None:
        if acting_user is None or acting_user == "":
            return Principal(user_id=f"service:{service}", kind="service", service=service)
        if not valid_user_id(acting_user):
            raise ApiError("INVALID_PARAMETER",
                           f"{ACTING_USER_HEADER} must match [A-Za-z0-9_.:@-]{{1,128}}",
                           param=ACTING_USER_HEADER)
        return Principal(user_id=acting_user, kind="service", service=service)

    claims = verify_token(credential, settings)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not valid_user_id(sub):
        raise ApiError("UNAUTHORIZED", "token subject is not a valid user id")
    return Principal(user_id=sub)
