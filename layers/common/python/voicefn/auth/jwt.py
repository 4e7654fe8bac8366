"""Bearer JWTs: verify (HS256 secret and/or RS256 public key from settings) and issue (local).

PyJWT pulls in ``cryptography`` (45-80 ms), so it is imported on first use only: HS256 tokens are
verified by :mod:`voicefn.auth.hs256` with the standard library, RS256 ones and issuing use PyJWT.
A verified token is remembered for a short while (``VERIFIED_TTL_S``, never past its own expiry),
so a client's every request does not pay the signature check again (issue 13).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicefn.errors import ApiError
from voicefn.settings import Settings
from voicefn.ttlcache import TtlCache

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = ["verify_token", "issue_token", "local_jwt_secret", "LEEWAY_S", "VERIFIED_TTL_S"]

LEEWAY_S = 30  # clock skew between the token issuer and FC
SECRET_FILE = "jwt.secret"
# A verified token's claims are reused this long (bounded by the token's own exp + leeway):
# the signature cannot change, and what verification depends on is part of the cache key.
VERIFIED_TTL_S = 60.0
_verified: TtlCache[dict[str, Any]] = TtlCache(max_entries=4096, ttl_s=VERIFIED_TTL_S)

_secret_lock = threading.Lock()
_secret_cache: dict[str, str] = {}


def _unauthorized(message: str) -> ApiError:
    return ApiError("UNAUTHORIZED", message)


def local_jwt_secret(settings: Settings) -> str:
    """The HS256 secret: the configured one, else (local runtime only) ``data_dir/jwt.secret``.

    The file is created once with 32 random bytes (hex, mode 0600), so each data dir has its own
    secret. In the cloud nothing is invented: no configured secret means auth fails closed.
    """
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.runtime != "local":
        raise _unauthorized("authentication is not configured on this server")
    path = Path(settings.data_dir) / SECRET_FILE
    key = str(path.resolve())
    with _secret_lock:
        cached = _secret_cache.get(key)
        if cached is not None:
            return cached
        secret = _read_or_create_secret(path)
        _secret_cache[key] = secret
        return secret


def _read_or_create_secret(path: Path) -> str:
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ApiError("INTERNAL_ERROR", f"cannot read the local JWT secret file {path}") from exc
    if len(existing) >= 32:
        with contextlib.suppress(OSError):
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)  # tighten a copy made with a loose umask
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    # write a private temp file, then link it into place: a concurrent server either wins the
    # link (we read its secret) or loses it (it reads ours); nobody sees a half-written file.
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret + "\n")
        try:
            if existing == "" and not path.exists():
                os.link(tmp, path)
            else:  # empty or truncated file: replace it
                os.replace(tmp, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return secret


def issue_token(user_id: str, secret: str, *, ttl_s: int = 86400, extra: dict[str, Any] | None = None) -> str:
    """An HS256 token for ``user_id`` (``voicefn token``, tests). ``extra`` adds claims (iss, aud...)."""
    import jwt as pyjwt

    now = int(time.time())
    claims = {**(extra or {}), "sub": user_id, "iat": now, "exp": now + int(ttl_s)}
    return pyjwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _rsa_public_key(pem: str) -> "RSAPublicKey":
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    # env vars often carry the PEM with literal "\n"
    key = load_pem_public_key(pem.replace("\\n", "\n").strip().encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("VOICEFN_JWT_PUBLIC_KEY is not an RSA public key")
    return key


def _keys(settings: Settings) -> dict[str, Any]:
    """Algorithm -> key, for what is configured. Never 'none'."""
    keys: dict[str, Any] = {}
    if settings.jwt_public_key:
        try:
            keys["RS256"] = _rsa_public_key(settings.jwt_public_key)
        except ValueError as exc:
            raise ApiError("INTERNAL_ERROR", "the server's JWT public key is not a valid RSA PEM") from exc
    if settings.jwt_secret or (settings.runtime == "local"):
        keys["HS256"] = local_jwt_secret(settings)
    if not keys:
        raise _unauthorized("authentication is not configured on this server")
    return keys


def _verification_key(token: str, settings: Settings) -> tuple[Any, ...]:
    # everything a verification depends on: another secret, issuer or audience is another answer
    return (token, settings.jwt_secret, settings.jwt_public_key, settings.jwt_issuer,
            settings.jwt_audience, settings.runtime, str(settings.data_dir))


def verify_token(token: str, settings: Settings) -> dict[str, Any]:
    """Verify a Bearer JWT and return its claims; raise ``ApiError('UNAUTHORIZED')`` saying why."""
    if not token or not token.strip():
        raise _unauthorized("missing bearer token")
    key = _verification_key(token, settings)
    claims = _verified.get(key)
    if claims is not None and time.time() < claims["exp"] + LEEWAY_S:
        return dict(claims)
    claims = _verify(token, settings)
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and "nbf" not in claims:
        _verified.put(key, dict(claims), ttl_s=exp + LEEWAY_S - time.time())
    return claims


_REFUSALS = {"ExpiredSignatureError": "token has expired",
             "InvalidSignatureError": "token signature is invalid",
             "InvalidIssuerError": "token issuer is not accepted",
             "InvalidAudienceError": "token audience is not accepted",
             "ImmatureSignatureError": "token is not valid yet"}


def _refusal(kind: str, detail: str, claim: str | None = None) -> ApiError:
    """The words for a refused token, by the PyJWT exception that refused it (``hs256`` names
    the same ones), so both verifiers say the same."""
    if kind == "MissingRequiredClaimError":
        return _unauthorized(f"token is missing the required '{claim}' claim")
    return _unauthorized(_REFUSALS.get(kind) or f"token is invalid: {detail}")


def _verify(token: str, settings: Settings) -> dict[str, Any]:
    from voicefn.auth import hs256

    try:
        header = hs256.load_header(token)
    except hs256.Rejected:
        raise _unauthorized("bearer token is not a valid JWT") from None
    keys = _keys(settings)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in keys:
        accepted = ", ".join(sorted(keys))
        raise _unauthorized(f"token algorithm {alg!r} is not accepted (accepted: {accepted})")
    if alg == "HS256":  # the standard library's HMAC: PyJWT would first load cryptography
        try:
            return hs256.verify(token, keys[alg], leeway=LEEWAY_S, issuer=settings.jwt_issuer or None,
                                audience=settings.jwt_audience or None)
        except hs256.Rejected as exc:
            raise _refusal(exc.kind, str(exc), exc.claim) from None
    return _verify_with_pyjwt(token, keys[alg], alg, settings)


def _verify_with_pyjwt(token: str, key: Any, alg: str, settings: Settings) -> dict[str, Any]:
    import jwt as pyjwt

    try:
        # the key is chosen by the algorithm, so an RS256 public key can never be used as an
        # HMAC secret (algorithm confusion)
        return pyjwt.decode(
            token, key, algorithms=[alg], leeway=LEEWAY_S,
            issuer=settings.jwt_issuer or None, audience=settings.jwt_audience or None,
            options={"require": ["sub", "exp"], "verify_aud": bool(settings.jwt_audience),
                     "verify_iss": bool(settings.jwt_issuer)},
        )
    except pyjwt.PyJWTError as exc:
        raise _refusal(type(exc).__name__, str(exc), getattr(exc, "claim", None)) from None
