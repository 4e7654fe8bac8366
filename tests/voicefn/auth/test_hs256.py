"""voicefn.auth.hs256 against PyJWT: the same tokens, the same verdict (claims, or the same words).

The reference is the PyJWT path ``verify_token`` took before (RS256 still takes it), run on a corpus
of valid, expired, early, forged and malformed tokens, with and without an issuer and audience.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt as pyjwt
import pytest

from voicefn.auth import jwt as vjwt
from voicefn.errors import ApiError

SECRET = "s3cret-for-tests-0123456789abcdef0123"
NOW = int(time.time())


def _reference(token: str, settings: Any) -> dict[str, Any]:
    """What ``voicefn.auth.jwt._verify`` did before: PyJWT's header, then PyJWT's decoding."""
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError:
        raise vjwt._unauthorized("bearer token is not a valid JWT") from None
    keys = vjwt._keys(settings)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in keys:
        raise vjwt._unauthorized(f"token algorithm {alg!r} is not accepted (accepted: {', '.join(sorted(keys))})")
    return vjwt._verify_with_pyjwt(token, keys[alg], alg, settings)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: Any = None, claims: Any = None, *, secret: str = SECRET, raw_header: bytes | None = None,
           raw_claims: bytes | None = None) -> str:
    head = _b64(raw_header if raw_header is not None else json.dumps(
        {"alg": "HS256", "typ": "JWT"} if header is None else header).encode())
    body = _b64(raw_claims if raw_claims is not None else json.dumps(
        {"sub": "u1", "exp": NOW + 600} if claims is None else claims).encode())
    signature = _b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{signature}"


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "u1", "exp": NOW + 600, "iat": NOW}
    for name, value in changes.items():
        if value is ...:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


GOOD = _token(claims=_claims())
CORPUS: dict[str, str] = {
    "valid": GOOD,
    "valid, extra claims": _token(claims=_claims(name="Ann", scope=["a"])),
    "expired": _token(claims=_claims(exp=NOW - 100)),
    "expired within the leeway": _token(claims=_claims(exp=NOW - 10)),
    "exp a numeric string": _token(claims=_claims(exp=str(NOW + 600))),
    "exp a word": _token(claims=_claims(exp="soon")),
    "exp a float": _token(claims=_claims(exp=NOW + 600.5)),
    "exp a list": _token(claims=_claims(exp=[NOW])),
    "exp null": _token(claims=_claims(exp=None)),
    "no exp": _token(claims=_claims(exp=...)),
    "no sub": _token(claims=_claims(sub=...)),
    "sub a number": _token(claims=_claims(sub=42)),
    "jti a number": _token(claims=_claims(jti=7)),
    "nbf ahead": _token(claims=_claims(nbf=NOW + 100)),
    "nbf within the leeway": _token(claims=_claims(nbf=NOW + 10)),
    "nbf a word": _token(claims=_claims(nbf="later")),
    "iat ahead": _token(claims=_claims(iat=NOW + 100)),
    "iat a word": _token(claims=_claims(iat="now")),
    "iat true": _token(claims=_claims(iat=True)),
    "exp huge": _token(claims=_claims(exp=1e400)),
    "other secret": _token(claims=_claims(), secret="another-secret-0123456789abcdef"),
    "signature cut": GOOD[:-4],
    "signature empty": GOOD.rsplit(".", 1)[0] + ".",
    "alg none": _token(header={"alg": "none"}),
    "alg HS512": _token(header={"alg": "HS512"}),
    "alg lower case": _token(header={"alg": "hs256"}),
    "alg missing": _token(header={"typ": "JWT"}),
    "alg a number": _token(header={"alg": 256}),
    "header a list": _token(raw_header=b'["HS256"]'),
    "header not json": _token(raw_header=b"{alg: HS256}"),
    "payload not json": _token(raw_claims=b"{sub: u1}"),
    "payload a list": _token(raw_claims=b'["u1"]'),
    "payload a string": _token(raw_claims=b'"u1"'),
    "kid a number": _token(header={"alg": "HS256", "kid": 1}),
    "kid a string": _token(header={"alg": "HS256", "kid": "k1"}),
    "crit empty": _token(header={"alg": "HS256", "crit": []}),
    "crit unknown": _token(header={"alg": "HS256", "crit": ["exp"], "exp": 1}),
    "crit b64 absent": _token(header={"alg": "HS256", "crit": ["b64"]}),
    "crit not a list": _token(header={"alg": "HS256", "crit": "b64"}),
    "crit a number inside": _token(header={"alg": "HS256", "crit": [1]}),
    "b64 false, no crit": _token(header={"alg": "HS256", "b64": False}),
    "b64 false, crit": _token(header={"alg": "HS256", "b64": False, "crit": ["b64"]}),
    "b64 true, crit": _token(header={"alg": "HS256", "b64": True, "crit": ["b64"]}),
    "one segment": "abc",
    "two segments": GOOD.rsplit(".", 1)[0],
    "four segments": GOOD + ".x",
    "empty": "",
    "dots only": "..",
    "padding =": GOOD.split(".")[0] + "=." + ".".join(GOOD.split(".")[1:]),
    "padding ===": GOOD.split(".")[0] + "===." + ".".join(GOOD.split(".")[1:]),
    "signature padded": GOOD + "=",
    "junk in the payload": GOOD.split(".")[0] + "." + GOOD.split(".")[1] + "!." + GOOD.split(".")[2],
    "standard base64 alphabet": GOOD.replace("-", "+").replace("_", "/"),
    "non-canonical last character": GOOD[:-1] + ("B" if GOOD[-1] != "B" else "C"),
    "whitespace inside": GOOD[:10] + " " + GOOD[10:],
    "unicode": GOOD + "é",
    "deep header": _token(raw_header=b"[" * 100_000 + b"]" * 100_000),
}
WITH_ISS_AUD = {
    "iss and aud right": _token(claims=_claims(iss="voicefn", aud="mini-program")),
    "aud in a list": _token(claims=_claims(iss="voicefn", aud=["other", "mini-program"])),
    "aud wrong": _token(claims=_claims(iss="voicefn", aud="other")),
    "aud empty": _token(claims=_claims(iss="voicefn", aud="")),
    "aud missing": _token(claims=_claims(iss="voicefn")),
    "aud numbers": _token(claims=_claims(iss="voicefn", aud=[1, 2])),
    "aud an object": _token(claims=_claims(iss="voicefn", aud={"a": 1})),
    "iss wrong": _token(claims=_claims(iss="someone", aud="mini-program")),
    "iss missing": _token(claims=_claims(aud="mini-program")),
    "iss a number": _token(claims=_claims(iss=5, aud="mini-program")),
}


def _outcome(verify: Any, token: str, settings: Any) -> tuple[str, Any]:
    try:
        return "claims", verify(token, settings)
    except ApiError as err:
        assert err.code == "UNAUTHORIZED"
        return "refused", err.message


@pytest.mark.parametrize("name", sorted({**CORPUS, **WITH_ISS_AUD}))
@pytest.mark.parametrize("checks", ["plain", "issuer and audience"])
def test_the_same_verdict_as_pyjwt(make_settings, name: str, checks: str) -> None:
    extra = {"jwt_issuer": "voicefn", "jwt_audience": "mini-program"} if checks != "plain" else {}
    settings = make_settings(jwt_secret=SECRET, **extra)
    token = {**CORPUS, **WITH_ISS_AUD}[name]
    ours = _outcome(vjwt._verify, token, settings)
    assert ours == _outcome(_reference, token, settings)


def test_the_corpus_covers_both_verdicts(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    verdicts = {_outcome(vjwt._verify, token, settings)[0] for token in CORPUS.values()}
    assert verdicts == {"claims", "refused"}
    assert _outcome(vjwt._verify, GOOD, settings)[1]["sub"] == "u1"


def test_an_hs256_verification_loads_neither_pyjwt_nor_cryptography(make_settings, tmp_path) -> None:
    import subprocess
    import sys

    code = ("import sys; from voicefn.settings import Settings; from voicefn.auth.jwt import verify_token; "
            f"s = Settings(runtime='cloud', data_dir={str(tmp_path)!r}, jwt_secret={SECRET!r}); "
            f"print(verify_token({GOOD!r}, s)['sub'], 'jwt' in sys.modules, 'cryptography' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["u1", "False", "False"]
