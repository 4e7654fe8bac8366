"""What only the OSS adapter does: real OSS PostObject signatures, STS, endpoints, settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from voicefn.settings import Settings
from voicefn.storage.oss_objects import OssObjectStore

ENDPOINT = "https://oss-cn-hangzhou-internal.aliyuncs.com"
PUBLIC = "https://oss-cn-hangzhou.aliyuncs.com"


def _store(**kwargs: object) -> OssObjectStore:
    args: dict = {"access_key_id": "STS.id", "access_key_secret": "the-secret", "public_endpoint": PUBLIC}
    args.update(kwargs)
    return OssObjectStore("voice-bucket", ENDPOINT, **args)


def test_post_policy_is_a_real_oss_v1_policy() -> None:
    policy = _store(security_token="tok").post_policy("uploads/asr/u1/t.wav", expires_s=600, max_size=5000,
                                                      content_type="audio/wav")
    fields = policy.fields
    # OSS v1 PostObject: Signature = base64(HMAC-SHA1(AccessKeySecret, base64 policy))
    expected = base64.b64encode(hmac.new(b"the-secret", fields["policy"].encode(), hashlib.sha1).digest()).decode()
    assert fields["Signature"] == expected
    assert fields["OSSAccessKeyId"] == "STS.id"
    assert fields["x-oss-security-token"] == "tok"
    assert fields["key"] == "uploads/asr/u1/t.wav"
    assert fields["success_action_status"] == "200"
    assert fields["Content-Type"] == "audio/wav"
    doc = json.loads(base64.b64decode(fields["policy"]))
    assert {"bucket": "voice-bucket"} in doc["conditions"]
    assert ["content-length-range", 0, 5000] in doc["conditions"]
    assert ["eq", "$key", "uploads/asr/u1/t.wav"] in doc["conditions"]
    # browsers and mini-programs upload to the public endpoint, virtual-host style
    assert policy.url == "https://voice-bucket.oss-cn-hangzhou.aliyuncs.com"


def test_post_policy_without_sts_has_no_token_field() -> None:
    assert "x-oss-security-token" not in _store().post_policy("k.wav").fields


def test_signed_urls_use_the_public_endpoint_and_carry_the_sts_token() -> None:
    store = _store(security_token="tok")
    url = store.signed_get_url("audio/tts/a.mp3", expires_s=60)
    parts = urlsplit(url)
    assert parts.netloc == "voice-bucket.oss-cn-hangzhou.aliyuncs.com"
    assert parts.path == "/audio/tts/a.mp3"  # slash_safe: no %2F
    query = parse_qs(parts.query)
    assert query["security-token"] == ["tok"] and query["OSSAccessKeyId"] == ["STS.id"]
    assert "Signature" in query and "Expires" in query


def test_key_from_url_accepts_internal_public_and_unsigned_forms() -> None:
    store = _store(public_endpoint=None)
    assert store.key_from_url("https://voice-bucket.oss-cn-hangzhou-internal.aliyuncs.com/a/b.wav") == "a/b.wav"
    assert store.key_from_url("https://voice-bucket.oss-cn-hangzhou.aliyuncs.com/a/b%20c.wav?Expires=1") == "a/b c.wav"
    assert store.key_from_url("http://voice-bucket.oss-cn-hangzhou.aliyuncs.com/a.wav") == "a.wav"
    assert store.key_from_url("https://other.oss-cn-hangzhou.aliyuncs.com/a.wav") is None
    assert store.key_from_url("https://voice-bucket.oss-cn-beijing.aliyuncs.com/a.wav") is None
    assert store.key_from_url("https://voice-bucket.oss-cn-hangzhou.aliyuncs.com/") is None


def test_from_settings_reads_fc_role_credentials() -> None:
    settings = Settings(runtime="cloud", oss_bucket="voice-bucket", fc_region="cn-shanghai")
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.k", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-VALUE",
           "ALIBABA_CLOUD_SECURITY_TOKEN": "t"}
    store = OssObjectStore.from_settings(settings, environ=env)
    assert store.endpoint == "https://oss-cn-shanghai-internal.aliyuncs.com"
    assert store.public_endpoint == "https://oss-cn-shanghai.aliyuncs.com"
    assert store.post_policy("k.wav").fields["x-oss-security-token"] == "t"
    assert "SECRET-VALUE" not in repr(store) and "STS.k" not in repr(store)


def test_from_settings_without_credentials_fails_clearly() -> None:
    settings = Settings(runtime="cloud", oss_bucket="voice-bucket", oss_endpoint=ENDPOINT)
    with pytest.raises(RuntimeError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        OssObjectStore.from_settings(settings, environ={})
