"""What only the local ObjectStore does: its own signatures, policies, paths and hook."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from voicefn.settings import Settings
from voicefn.storage.keys import InvalidObjectKey
from voicefn.storage.local_objects import LocalObjectStore, derive_object_secret
from voicefn.storage.objects import ObjectInfo
from voicefn.storage.signing import PostPolicyError, UrlSignatureError

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path, "voicefn-local", BASE, b"s3cret")


def _query(url: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))


async def test_files_live_under_root_bucket_key(store: LocalObjectStore, tmp_path: Path) -> None:
    await store.put("audio/tts/a.mp3", b"abc")
    assert (tmp_path / "voicefn-local" / "audio" / "tts" / "a.mp3").read_bytes() == b"abc"
    # temp files never stay behind in the bucket or the temp dir
    assert sorted(p.name for p in (tmp_path / "voicefn-local" / "audio" / "tts").iterdir()) == ["a.mp3"]
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_signed_get_url_verifies(store: LocalObjectStore) -> None:
    url = store.signed_get_url("a/b.wav", expires_s=60)
    assert url.startswith(f"{BASE}/_objects/voicefn-local/a/b.wav?")
    q = _query(url)
    store.verify_get("a/b.wav", q["expires"], q["signature"])


def test_expired_get_url_is_rejected(store: LocalObjectStore) -> None:
    q = _query(store.signed_get_url("a/b.wav", expires_s=60))
    with pytest.raises(UrlSignatureError, match="expired"):
        store.verify_get("a/b.wav", q["expires"], q["signature"], now=time.time() + 61)


@pytest.mark.parametrize("tamper", ["key", "expires", "signature", "method", "missing"])
def test_tampered_get_url_is_rejected(store: LocalObjectStore, tamper: str) -> None:
    q = _query(store.signed_get_url("a/b.wav", expires_s=60))
    key, expires, signature = "a/b.wav", q["expires"], q["signature"]
    with pytest.raises(UrlSignatureError):
        if tamper == "key":
            store.verify_get("a/c.wav", expires, signature)
        elif tamper == "expires":
            store.verify_get(key, str(int(expires) + 3600), signature)
        elif tamper == "signature":
            store.verify_get(key, expires, ("0" if signature[0] != "0" else "1") + signature[1:])
        elif tamper == "method":
            store.verify_put(key, expires, signature)
        else:
            store.verify_get(key, expires, None)


def test_url_signed_by_another_secret_is_rejected(store: LocalObjectStore, tmp_path: Path) -> None:
    other = LocalObjectStore(tmp_path, "voicefn-local", BASE, b"other")
    q = _query(other.signed_get_url("a/b.wav"))
    with pytest.raises(UrlSignatureError):
        store.verify_get("a/b.wav", q["expires"], q["signature"])


def test_put_url_binds_the_content_type(store: LocalObjectStore) -> None:
    q = _query(store.signed_put_url("up/x.wav", expires_s=60, content_type="audio/wav"))
    store.verify_put("up/x.wav", q["expires"], q["signature"], "audio/wav")
    with pytest.raises(UrlSignatureError):
        store.verify_put("up/x.wav", q["expires"], q["signature"], "audio/mpeg")
    with pytest.raises(UrlSignatureError):
        store.verify_put("up/x.wav", q["expires"], q["signature"], None)


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../etc/passwd", "/etc/passwd", "a\x00b", ".."])
def test_path_traversal_keys_are_rejected(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        store.path_for(key)


async def test_symlink_out_of_the_bucket_is_refused(store: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"outside-{os.getpid()}"
    outside.mkdir(exist_ok=True)
    (tmp_path / "voicefn-local").mkdir(parents=True, exist_ok=True)
    (tmp_path / "voicefn-local" / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidObjectKey):
        await store.put("link/x.txt", b"x")
    assert not (outside / "x.txt").exists()


async def test_a_key_cannot_be_both_object_and_prefix(store: LocalObjectStore) -> None:
    await store.put("a", b"file")
    with pytest.raises(InvalidObjectKey):
        await store.put("a/b", b"nested")
    assert await store.get("a") == b"file"
    assert await store.head("a/b") is None


async def test_head_recomputes_etag_when_the_file_changed_behind_its_back(store: LocalObjectStore) -> None:
    await store.put("x.bin", b"one")
    store.path_for("x.bin").write_bytes(b"changed outside")
    head = await store.head("x.bin")
    assert head is not None and head.size == len(b"changed outside")
    import hashlib

    assert head.etag == hashlib.md5(b"changed outside").hexdigest().upper()


async def test_on_created_hook_sees_every_put(store: LocalObjectStore) -> None:
    seen: list[ObjectInfo] = []

    async def hook(info: ObjectInfo) -> None:
        seen.append(info)

    store.on_created = hook
    info = await store.put("uploads/asr/u/t.wav", b"RIFF", "audio/wav")
    assert seen == [info]


async def test_a_failing_hook_does_not_fail_the_put(store: LocalObjectStore,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    async def broken(info: ObjectInfo) -> None:
        raise RuntimeError("event bus down")

    store.on_created = broken
    await store.put("k.bin", b"x")
    assert await store.get("k.bin") == b"x"
    assert any("on_created hook failed" in r.getMessage() for r in caplog.records)


def test_post_policy_document(store: LocalObjectStore) -> None:
    policy = store.post_policy("uploads/asr/u/t.wav", expires_s=300, max_size=1000, content_type="audio/wav")
    assert policy.url == f"{BASE}/_objects/voicefn-local"
    assert policy.fields["Content-Type"] == "audio/wav"
    assert abs(policy.expires_at - (time.time() + 300)) < 5
    doc = json.loads(base64.b64decode(policy.fields["policy"]))
    assert doc["conditions"] == [{"bucket": "voicefn-local"}, ["eq", "$key", "uploads/asr/u/t.wav"],
                                 ["content-length-range", 0, 1000], ["eq", "$Content-Type", "audio/wav"]]
    assert doc["expiration"].endswith(".000Z")


def _form(store: LocalObjectStore, **kwargs: object) -> dict[str, str]:
    return dict(store.post_policy("uploads/voice/u/s.wav", **kwargs).fields)  # type: ignore[arg-type]


def test_post_form_within_policy_gives_the_key(store: LocalObjectStore) -> None:
    fields = _form(store, max_size=100, content_type="audio/wav")
    assert store.verify_post_form(fields, 100, "audio/wav") == "uploads/voice/u/s.wav"
    # field names are case-insensitive in OSS forms
    lowered = {k.lower(): v for k, v in fields.items()}
    assert store.verify_post_form(lowered, 1, None) == "uploads/voice/u/s.wav"


def test_post_form_too_large_is_rejected(store: LocalObjectStore) -> None:
    with pytest.raises(PostPolicyError) as err:
        store.verify_post_form(_form(store, max_size=100), 101)
    assert err.value.code == "EntityTooLarge"


def test_post_form_key_mismatch_is_rejected(store: LocalObjectStore) -> None:
    fields = _form(store)
    fields["key"] = "uploads/voice/someone-else/s.wav"
    with pytest.raises(PostPolicyError) as err:
        store.verify_post_form(fields, 10)
    assert err.value.status == 403


def test_post_form_content_type_mismatch_is_rejected(store: LocalObjectStore) -> None:
    fields = _form(store, content_type="audio/wav")
    fields["Content-Type"] = "text/html"
    with pytest.raises(PostPolicyError):
        store.verify_post_form(fields, 10)


def test_post_form_expired_is_rejected(store: LocalObjectStore) -> None:
    fields = _form(store, expires_s=60)
    with pytest.raises(PostPolicyError, match="expired"):
        store.verify_post_form(fields, 10, now=time.time() + 120)


def test_post_form_with_edited_policy_is_rejected(store: LocalObjectStore) -> None:
    fields = _form(store, max_size=10)
    doc = json.loads(base64.b64decode(fields["policy"]))
    doc["conditions"][2] = ["content-length-range", 0, 10**9]
    fields["policy"] = base64.b64encode(json.dumps(doc).encode()).decode()
    with pytest.raises(PostPolicyError) as err:
        store.verify_post_form(fields, 1000)
    assert err.value.code == "SignatureDoesNotMatch"


def test_post_form_for_another_bucket_is_rejected(store: LocalObjectStore, tmp_path: Path) -> None:
    other = LocalObjectStore(tmp_path, "other-bucket", BASE, b"s3cret")
    with pytest.raises(PostPolicyError):
        store.verify_post_form(dict(other.post_policy("k.wav").fields), 1)


def test_key_from_url_ignores_other_servers(store: LocalObjectStore) -> None:
    assert store.key_from_url(f"{BASE}/_objects/voicefn-local/a/b%20c.wav") == "a/b c.wav"
    assert store.key_from_url("http://127.0.0.1:9999/_objects/voicefn-local/a.wav") is None
    assert store.key_from_url(f"{BASE}/other/voicefn-local/a.wav") is None
    assert store.key_from_url(f"{BASE}/_objects/voicefn-local/..%2F..%2Fsecret") is None


def test_from_settings_uses_data_dir_and_a_derived_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_base_url="http://127.0.0.1:8123", oss_bucket="bkt")
    store = LocalObjectStore.from_settings(settings, master_key=b"k" * 32)
    assert store.root == tmp_path / "objects" and store.bucket == "bkt"
    assert store.signed_get_url("a.wav").startswith("http://127.0.0.1:8123/_objects/bkt/a.wav?")
    twin = LocalObjectStore(tmp_path / "objects", "bkt", "http://127.0.0.1:8123", derive_object_secret(b"k" * 32))
    q = _query(store.signed_get_url("a.wav"))
    twin.verify_get("a.wav", q["expires"], q["signature"])
    assert "s3cret" not in repr(store) and "secret" not in repr(twin).lower()
