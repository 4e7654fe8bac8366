"""HS256 bearer tokens verified with the standard library (issue 13: cold start).

PyJWT imports ``cryptography`` when it loads (45-80 ms of a cold start here), although an HMAC
needs only :mod:`hmac`; a deployment's tokens are HS256 unless it configures an RS256 key. So
:func:`voicefn.auth.jwt.verify_token` verifies HS256 here, RS256 (and issuing) stays with PyJWT.

This is PyJWT 2.15's decoding for the options ``verify_token`` passes it, step for step and in
its order: strict base64url segments, a JSON-object header, the ``kid``/``crit``/``b64`` header
rules, the algorithm allow-list, the signature, a JSON-object payload, then the required claims,
``iat``, ``nbf``, ``exp`` (with leeway), ``iss``, ``aud``, ``sub`` and ``jti``. Each failure is a
:class:`Rejected` whose ``kind`` names PyJWT's exception class, so the caller words it the same.
``tests/voicefn/auth/test_hs256.py`` runs both on the same tokens and requires the same verdict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

__all__ = ["Rejected", "load_header", "verify"]

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_SUPPORTED_CRIT = {"b64"}


class Rejected(Exception):
    """``kind``: the PyJWT exception this stands for (``DecodeError``, ``InvalidTokenError``,
    ``InvalidSignatureError``, ``ExpiredSignatureError``, ...); ``claim`` for a missing one."""

    def __init__(self, kind: str, message: str, claim: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.claim = claim


def _segment(segment: bytes, name: str) -> bytes:
    """PyJWT's strict base64url: at most two '=', none that break the length, no stray bytes,
    and the canonical encoding only."""
    stripped, padding = segment, 0
    while stripped.endswith(b"="):
        stripped, padding = stripped[:-1], padding + 1
        if padding > 2:
            raise Rejected("DecodeError", f"Invalid {name} padding")
    if padding and len(segment) % 4 != 0:
        raise Rejected("DecodeError", f"Invalid {name} padding")
    if len(stripped) % 4 == 1 or any(c not in _ALPHABET for c in stripped):
        raise Rejected("DecodeError", f"Invalid {name} padding")
    try:
        decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    except (TypeError, binascii.Error):
        raise Rejected("DecodeError", f"Invalid {name} padding") from None
    if base64.urlsafe_b64encode(decoded).replace(b"=", b"") != stripped:
        raise Rejected("DecodeError", f"Invalid {name} padding")
    return decoded


def _load(token: str) -> tuple[bytes, bytes, dict[str, Any], bytes]:
    data = token.encode("utf-8")
    try:
        signing_input, crypto = data.rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
    except ValueError:
        raise Rejected("DecodeError", "Not enough segments") from None
    try:
        header = json.loads(_segment(header_segment, "header"))
    except (ValueError, RecursionError) as exc:
        raise Rejected("DecodeError", f"Invalid header string: {exc}") from None
    if not isinstance(header, dict):
        raise Rejected("DecodeError", "Invalid header string: must be a json object")
    if header.get("b64", True) is False:
        if payload_segment:
            raise Rejected("DecodeError", "Payload segment must be empty when 'b64' is false.")
        payload = b""
    else:
        payload = _segment(payload_segment, "payload")
    return payload, signing_input, header, _segment(crypto, "crypto")


def _check_headers(header: dict[str, Any]) -> None:
    if "kid" in header and not isinstance(header["kid"], str):
        raise Rejected("InvalidTokenError", "Key ID header parameter must be a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or len(crit) == 0:
            raise Rejected("InvalidTokenError", "Invalid 'crit' header: must be a non-empty list")
        for ext in crit:
            if not isinstance(ext, str):
                raise Rejected("InvalidTokenError", "Invalid 'crit' header: values must be strings")
            if ext not in _SUPPORTED_CRIT:
                raise Rejected("InvalidTokenError", f"Unsupported critical extension: {ext}")
            if ext not in header:
                raise Rejected("InvalidTokenError", f"Critical extension '{ext}' is missing from headers")


def load_header(token: str) -> dict[str, Any]:
    """The unverified header (PyJWT's ``get_unverified_header``); :class:`Rejected` if malformed."""
    _, _, header, _ = _load(token)
    _check_headers(header)
    return header


def _number(value: Any, kind: str, message: str) -> int:
    try:
        return int(value)
    except (ValueError, TypeError, OverflowError):
        raise Rejected(kind, message) from None


def verify(token: str, secret: str, *, leeway: float, issuer: str | None, audience: str | None,
           require: tuple[str, ...] = ("sub", "exp")) -> dict[str, Any]:
    """The claims of an HS256 ``token`` signed with ``secret``; :class:`Rejected` otherwise."""
    payload, signing_input, header, signature = _load(token)
    _check_headers(header)
    if header.get("b64", True) is False:
        crit = header.get("crit") or []
        if not isinstance(crit, list) or "b64" not in crit:
            raise Rejected("InvalidTokenError",
                           "The 'b64' header parameter requires 'b64' to be listed in 'crit'.")
        raise Rejected("DecodeError", 'It is required that you pass in a value for the "detached_payload" '
                       "argument to decode a message having the b64 header set to false.")
    if "alg" not in header:
        raise Rejected("InvalidAlgorithmError", "Algorithm not specified")
    if header["alg"] != "HS256":
        raise Rejected("InvalidAlgorithmError", "The specified alg value is not allowed")
    key = secret.encode("utf-8")
    if not key:
        raise Rejected("InvalidKeyError", "HMAC key must not be empty.")
    if not hmac.compare_digest(signature, hmac.new(key, signing_input, hashlib.sha256).digest()):
        raise Rejected("InvalidSignatureError", "Signature verification failed")
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise Rejected("DecodeError", f"Invalid payload string: {exc}") from None
    if not isinstance(claims, dict):
        raise Rejected("DecodeError", "Invalid payload string: must be a json object")
    _check_claims(claims, leeway=leeway, issuer=issuer, audience=audience, require=require)
    return claims


def _check_claims(claims: dict[str, Any], *, leeway: float, issuer: str | None, audience: str | None,
                  require: tuple[str, ...]) -> None:
    for claim in require:
        if claims.get(claim) is None:
            raise Rejected("MissingRequiredClaimError", f'Token is missing the "{claim}" claim', claim)
    now = time.time()
    if "iat" in claims:
        iat = _number(claims["iat"], "InvalidIssuedAtError", "Issued At claim (iat) must be an integer.")
        if iat > now + leeway:
            raise Rejected("ImmatureSignatureError", "The token is not yet valid (iat)")
    if "nbf" in claims:
        nbf = _number(claims["nbf"], "DecodeError", "Not Before claim (nbf) must be an integer.")
        if nbf > now + leeway:
            raise Rejected("ImmatureSignatureError", "The token is not yet valid (nbf)")
    if "exp" in claims:
        exp = _number(claims["exp"], "DecodeError", "Expiration Time claim (exp) must be an integer.")
        if exp <= now - leeway:
            raise Rejected("ExpiredSignatureError", "Signature has expired")
    if issuer:
        if "iss" not in claims:
            raise Rejected("MissingRequiredClaimError", 'Token is missing the "iss" claim', "iss")
        if not isinstance(claims["iss"], str):
            raise Rejected("InvalidIssuerError", "Payload Issuer (iss) must be a string")
        if claims["iss"] != issuer:
            raise Rejected("InvalidIssuerError", "Invalid issuer")
    if audience:
        if "aud" not in claims or not claims["aud"]:
            raise Rejected("MissingRequiredClaimError", 'Token is missing the "aud" claim', "aud")
        audiences = claims["aud"]
        if isinstance(audiences, str):
            audiences = [audiences]
        if not isinstance(audiences, list) or any(not isinstance(a, str) for a in audiences):
            raise Rejected("InvalidAudienceError", "Invalid claim format in token")
        if audience not in audiences:
            raise Rejected("InvalidAudienceError", "Audience doesn't match")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise Rejected("InvalidSubjectError", "Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise Rejected("InvalidJTIError", "JWT ID must be a string")
