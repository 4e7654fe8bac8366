from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time

import jwt as pyjwt
import pytest

from voicefn.auth import jwt as vjwt
from voicefn.auth.jwt import issue_token, local_jwt_secret, verify_token
from voicefn.errors import ApiError

SECRET = "s3cret-for-tests-0123456789abcdef0123"


def _unauthorized(fn, *args) -> str:
    with pytest.raises(ApiError) as info:
        fn(*args)
    assert info.value.code == "UNAUTHORIZED" and info.value.status == 401
    return info.value.message


def test_hs256_round_trip(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    token = issue_token("user-1", SECRET, extra={"name": "Ann"})
    claims = verify_token(token, settings)
    assert claims["sub"] == "user-1" and claims["name"] == "Ann"
    assert claims["exp"] - claims["iat"] == 86400


def test_rs256_with_public_key(make_settings, rsa_keys) -> None:
    private, public = rsa_keys
    settings = make_settings(jwt_public_key=public)
    token = pyjwt.encode({"sub": "u-rsa", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert verify_token(token, settings)["sub"] == "u-rsa"
    # PEM from an env var with literal "\n"
    escaped = make_settings(jwt_public_key=public.replace("\n", "\\n"))
    assert verify_token(token, escaped)["sub"] == "u-rsa"


def test_expired_and_leeway(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    now = int(time.time())
    recent = pyjwt.encode({"sub": "u", "exp": now - 10}, SECRET, algorithm="HS256")
    assert verify_token(recent, settings)["sub"] == "u"  # within the 30 s leeway
    old = pyjwt.encode({"sub": "u", "exp": now - 120}, SECRET, algorithm="HS256")
    assert "expired" in _unauthorized(verify_token, old, settings)
    assert "expired" in _unauthorized(verify_token, issue_token("u", SECRET, ttl_s=-3600), settings)


def test_wrong_signature(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    token = issue_token("u", "another-secret-0123456789abcdef0123")
    assert "signature" in _unauthorized(verify_token, token, settings)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert "signature" in _unauthorized(verify_token, tampered, settings)


def _unsigned(claims: dict) -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _hs256_by_hand(claims: dict, key: bytes) -> str:
    """PyJWT refuses a PEM as an HMAC key, so forge the confused token directly."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing}.{b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())}"


def test_alg_none_rejected(make_settings, rsa_keys) -> None:
    token = _unsigned({"sub": "u", "exp": int(time.time()) + 60})
    for settings in (make_settings(jwt_secret=SECRET), make_settings(jwt_public_key=rsa_keys[1]),
                     make_settings(runtime="local", jwt_secret=None)):
        assert "'none'" in _unauthorized(verify_token, token, settings)


def test_only_configured_algorithms(make_settings, rsa_keys) -> None:
    private, public = rsa_keys
    rs_only = make_settings(jwt_public_key=public)
    hs = issue_token("u", SECRET)
    assert "HS256" in _unauthorized(verify_token, hs, rs_only)
    # algorithm confusion: HS256 signed with the public key as the secret
    confused = _hs256_by_hand({"sub": "u", "exp": int(time.time()) + 60}, public.encode())
    assert "HS256" in _unauthorized(verify_token, confused, rs_only)
    hs_only = make_settings(jwt_secret=SECRET)
    rs = pyjwt.encode({"sub": "u", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert "RS256" in _unauthorized(verify_token, rs, hs_only)
    # local runtime with a public key: HS256 uses the local secret, never the PEM
    local = make_settings(runtime="local", jwt_public_key=public)
    assert "signature" in _unauthorized(verify_token, confused, local)
    both = make_settings(jwt_secret=SECRET, jwt_public_key=public)
    assert verify_token(hs, both)["sub"] == verify_token(rs, both)["sub"] == "u"


def test_required_claims(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    no_sub = pyjwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    assert "'sub'" in _unauthorized(verify_token, no_sub, settings)
    no_exp = pyjwt.encode({"sub": "u"}, SECRET, algorithm="HS256")
    assert "'exp'" in _unauthorized(verify_token, no_exp, settings)


def test_issuer_and_audience_when_configured(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET, jwt_issuer="https://auth.example", jwt_audience="voicefn")
    good = issue_token("u", SECRET, extra={"iss": "https://auth.example", "aud": "voicefn"})
    assert verify_token(good, settings)["sub"] == "u"
    assert "issuer" in _unauthorized(
        verify_token, issue_token("u", SECRET, extra={"iss": "https://evil", "aud": "voicefn"}), settings)
    assert "audience" in _unauthorized(
        verify_token, issue_token("u", SECRET, extra={"iss": "https://auth.example", "aud": "other"}), settings)
    assert "'iss'" in _unauthorized(verify_token, issue_token("u", SECRET, extra={"aud": "voicefn"}), settings)
    # not configured: not checked
    plain = make_settings(jwt_secret=SECRET)
    assert verify_token(issue_token("u", SECRET, extra={"iss": "anyone"}), plain)["sub"] == "u"


@pytest.mark.parametrize("token", ["", "   ", "not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.%%%.x"])
def test_malformed_tokens(make_settings, token: str) -> None:
    _unauthorized(verify_token, token, make_settings(jwt_secret=SECRET))


def test_cloud_without_configuration_fails_closed(make_settings, tmp_path) -> None:
    settings = make_settings(runtime="cloud")
    token = issue_token("u", SECRET)
    assert "not configured" in _unauthorized(verify_token, token, settings)
    assert "not configured" in _unauthorized(local_jwt_secret, settings)
    assert not (tmp_path / "data" / "jwt.secret").exists()


def test_local_secret_created_0600_and_reused(make_settings, tmp_path) -> None:
    settings = make_settings(runtime="local", data_dir=tmp_path / "a")
    secret = local_jwt_secret(settings)
    path = tmp_path / "a" / "jwt.secret"
    assert path.exists() and len(secret) == 64 and int(secret, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_jwt_secret(settings) == secret
    vjwt._secret_cache.clear()  # a restarted server reads the same file
    assert local_jwt_secret(settings) == secret
    assert path.read_text().strip() == secret

    token = issue_token("local-user", secret)
    assert verify_token(token, settings)["sub"] == "local-user"

    other = make_settings(runtime="local", data_dir=tmp_path / "b")
    assert local_jwt_secret(other) != secret
    assert "signature" in _unauthorized(verify_token, token, other)


def test_local_secret_file_permissions_tightened(make_settings, tmp_path) -> None:
    data = tmp_path / "loose"
    data.mkdir()
    (data / "jwt.secret").write_text("ab" * 32 + "\n")
    (data / "jwt.secret").chmod(0o644)
    assert local_jwt_secret(make_settings(runtime="local", data_dir=data)) == "ab" * 32
    assert stat.S_IMODE((data / "jwt.secret").stat().st_mode) == 0o600


def test_configured_secret_wins_over_local_file(make_settings, tmp_path) -> None:
    settings = make_settings(runtime="local", jwt_secret=SECRET)
    assert local_jwt_secret(settings) == SECRET
    assert not (tmp_path / "data" / "jwt.secret").exists()


def test_invalid_public_key_config(make_settings) -> None:
    with pytest.raises(ApiError) as info:
        verify_token(issue_token("u", SECRET), make_settings(jwt_public_key="not a pem"))
    assert info.value.code == "INTERNAL_ERROR"


def test_verified_tokens_are_cached_but_never_past_their_expiry(make_settings, monkeypatch) -> None:
    settings = make_settings(jwt_secret=SECRET)
    # expired a moment ago, still accepted within the leeway for one or two more seconds
    token = pyjwt.encode({"sub": "cached", "exp": int(time.time()) - vjwt.LEEWAY_S + 2}, SECRET, algorithm="HS256")
    assert verify_token(token, settings)["sub"] == "cached"
    calls: list[str] = []
    real = vjwt._verify
    monkeypatch.setattr(vjwt, "_verify", lambda t, s: calls.append(t) or real(t, s))
    assert verify_token(token, settings)["sub"] == "cached" and calls == []  # from the cache
    time.sleep(2.1)
    # past exp + leeway the cached claims are not used: the token is checked again, and refused
    assert "expired" in _unauthorized(verify_token, token, settings)
    assert calls == [token]


def test_the_cache_does_not_outlive_a_changed_secret_or_audience(make_settings) -> None:
    token = issue_token("u", SECRET, extra={"aud": "app-a"})
    assert verify_token(token, make_settings(jwt_secret=SECRET, jwt_audience="app-a"))["sub"] == "u"
    assert "signature" in _unauthorized(verify_token, token, make_settings(jwt_secret="x" * 40, jwt_audience="app-a"))
    assert "audience" in _unauthorized(verify_token, token, make_settings(jwt_secret=SECRET, jwt_audience="app-b"))


def test_the_verified_token_cache_is_bounded(make_settings) -> None:
    settings = make_settings(jwt_secret=SECRET)
    for i in range(vjwt._verified.max_entries + 50):
        verify_token(issue_token(f"user-{i}", SECRET), settings)
    assert len(vjwt._verified) == vjwt._verified.max_entries
