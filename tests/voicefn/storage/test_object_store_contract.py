"""The ObjectStore contract, run against both adapters.

- ``local``: LocalObjectStore on a temp dir; its signed URLs are fetched over HTTP from the local
  object server (``voicefn_local.object_server``) through an in-process ASGI transport.
- ``oss``: OssObjectStore (oss2, v1 ``Auth``) against a moto S3 server on 127.0.0.1; signed URLs
  are fetched with httpx over loopback. moto does not check OSS signatures, so signature
  rejection is tested on the local adapter only (test_local_objects.py).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from voicefn.storage.keys import InvalidObjectKey
from voicefn.storage.local_objects import LocalObjectStore
from voicefn.storage.objects import ObjectNotFound, ObjectStore
from voicefn.storage.oss_objects import OssObjectStore
from voicefn_local.object_server import object_router

BLOB = bytes(range(256)) * 41 + b"\x00tail"  # binary, not a multiple of anything


@dataclass
class Harness:
    store: ObjectStore
    http: httpx.AsyncClient


def create_bucket(bucket: Any, attempts: int = 5) -> None:
    """moto answers the odd transient 500 (seen in CI); the bucket is scaffolding, not under test."""
    import time

    import oss2

    for attempt in range(attempts):
        try:
            bucket.create_bucket()
            return
        except oss2.exceptions.ServerError as exc:
            if exc.status < 500 or attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture(params=["local", "oss"])
async def harness(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Harness]:
    if request.param == "local":
        store = LocalObjectStore(tmp_path / "objects", "voicefn-test", "http://objects.test",
                                 b"contract-secret")
        app = FastAPI()
        app.include_router(object_router(lambda: store))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    else:
        import oss2

        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"vf-{uuid.uuid4().hex[:16]}"
        create_bucket(oss2.Bucket(oss2.Auth("test-ak", "test-sk"), endpoint, bucket))
        store = OssObjectStore(bucket, endpoint, access_key_id="test-ak", access_key_secret="test-sk")
        http = httpx.AsyncClient()
    async with http:
        yield Harness(store, http)


async def test_satisfies_the_protocol(harness: Harness) -> None:
    assert isinstance(harness.store, ObjectStore)


async def test_put_get_round_trip_binary(harness: Harness) -> None:
    info = await harness.store.put("audio/tts/20251230/a.bin", BLOB, "application/octet-stream")
    assert info.key == "audio/tts/20251230/a.bin"
    assert info.size == len(BLOB)
    assert await harness.store.get("audio/tts/20251230/a.bin") == BLOB


async def test_head_reports_size_etag_and_content_type(harness: Harness) -> None:
    put = await harness.store.put("audio/tts/x.mp3", BLOB, "audio/mpeg")
    head = await harness.store.head("audio/tts/x.mp3")
    assert head is not None
    assert head.size == len(BLOB)
    assert head.etag == hashlib.md5(BLOB).hexdigest().upper() == put.etag
    assert head.content_type == "audio/mpeg"


async def test_content_type_defaults_from_the_extension(harness: Harness) -> None:
    await harness.store.put("uploads/asr/u1/t.wav", b"RIFF....WAVE")
    head = await harness.store.head("uploads/asr/u1/t.wav")
    assert head is not None and head.content_type == "audio/wav"


async def test_overwrite_replaces_content(harness: Harness) -> None:
    await harness.store.put("k.txt", b"first", "text/plain")
    await harness.store.put("k.txt", b"second!", "text/plain")
    assert await harness.store.get("k.txt") == b"second!"
    head = await harness.store.head("k.txt")
    assert head is not None and head.size == 7 and head.etag == hashlib.md5(b"second!").hexdigest().upper()


async def test_get_missing_raises_object_not_found(harness: Harness) -> None:
    with pytest.raises(ObjectNotFound):
        await harness.store.get("no/such/key.wav")
    assert await harness.store.head("no/such/key.wav") is None


async def test_delete_then_head_is_none(harness: Harness) -> None:
    await harness.store.put("to/delete.bin", b"x")
    await harness.store.delete("to/delete.bin")
    assert await harness.store.head("to/delete.bin") is None
    with pytest.raises(ObjectNotFound):
        await harness.store.get("to/delete.bin")


async def test_delete_missing_is_fine(harness: Harness) -> None:
    await harness.store.delete("never/existed.bin")


@pytest.mark.parametrize("key", ["", "/abs/key", "../escape", "a/../../b", "a//b", "a/./b", "dir/",
                                 "nul\x00byte", "back\\slash"])
async def test_invalid_keys_are_rejected(harness: Harness, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        await harness.store.put(key, b"x")


async def test_signed_get_url_serves_the_bytes(harness: Harness) -> None:
    key = "audio/tts/20251230/语音 1.mp3"  # non-ASCII and a space survive URL encoding
    await harness.store.put(key, BLOB, "audio/mpeg")
    response = await harness.http.get(harness.store.signed_get_url(key, expires_s=60))
    assert response.status_code == 200
    assert response.content == BLOB
    assert response.headers["content-type"].startswith("audio/mpeg")


async def test_signed_put_url_uploads(harness: Harness) -> None:
    url = harness.store.signed_put_url("uploads/voice/u1/sample.wav", expires_s=60, content_type="audio/wav")
    response = await harness.http.put(url, content=BLOB, headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200
    assert await harness.store.get("uploads/voice/u1/sample.wav") == BLOB
    head = await harness.store.head("uploads/voice/u1/sample.wav")
    assert head is not None and head.content_type == "audio/wav"


async def test_post_policy_form_uploads(harness: Harness) -> None:
    policy = harness.store.post_policy("uploads/asr/u1/ticket.wav", expires_s=60, max_size=1 << 20,
                                       content_type="audio/wav")
    for name in ("key", "policy", "OSSAccessKeyId", "Signature", "success_action_status"):
        assert policy.fields[name]
    assert policy.fields["key"] == "uploads/asr/u1/ticket.wav"
    response = await harness.http.post(policy.url, data=policy.fields,
                                       files={"file": ("ticket.wav", BLOB, "audio/wav")})
    assert response.status_code in (200, 204)
    assert await harness.store.get("uploads/asr/u1/ticket.wav") == BLOB


async def test_key_from_url_recognises_own_urls_only(harness: Harness) -> None:
    store = harness.store
    key = "audio/tts/20251230/a b.mp3"
    assert store.key_from_url(store.signed_get_url(key)) == key
    assert store.key_from_url(store.signed_put_url(key, content_type="audio/mpeg")) == key
    unsigned = store.signed_get_url(key).split("?", 1)[0]
    assert store.key_from_url(unsigned) == key
    assert store.key_from_url("https://example.com/audio/tts/a.mp3") is None
    assert store.key_from_url(unsigned.replace(store.bucket, "other-bucket")) is None
    assert store.key_from_url("not a url") is None


async def test_get_range_reads_a_slice(harness: Harness) -> None:
    await harness.store.put("uploads/asr/u1/r.bin", BLOB)
    assert await harness.store.get_range("uploads/asr/u1/r.bin", 0, 16) == BLOB[:16]
    assert await harness.store.get_range("uploads/asr/u1/r.bin", 1000, 300) == BLOB[1000:1300]
    # the end: fewer bytes than asked, then none
    tail_start = len(BLOB) - 10
    assert await harness.store.get_range("uploads/asr/u1/r.bin", tail_start, 100) == BLOB[tail_start:]
    assert await harness.store.get_range("uploads/asr/u1/r.bin", len(BLOB), 10) == b""
    assert await harness.store.get_range("uploads/asr/u1/r.bin", len(BLOB) + 50, 10) == b""
    assert await harness.store.get_range("uploads/asr/u1/r.bin", 5, 0) == b""


async def test_get_range_of_a_missing_key_raises_object_not_found(harness: Harness) -> None:
    with pytest.raises(ObjectNotFound):
        await harness.store.get_range("no/such/key.wav", 0, 10)
