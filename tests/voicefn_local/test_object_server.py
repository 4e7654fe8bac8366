"""The local object server: OSS's behaviour for signed GET/PUT and PostObject, over ASGI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from voicefn.storage.local_objects import LocalObjectStore
from voicefn.storage.objects import ObjectInfo
from voicefn_local.object_server import object_router

BASE = "http://127.0.0.1:8000"
DATA = bytes(range(256)) * 8


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path, "voicefn-local", BASE, b"server-secret")


@pytest.fixture
async def http(store: LocalObjectStore) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(object_router(lambda: store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def _code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/xml")
    match = re.search(r"<Code>([^<]+)</Code>", response.text)
    assert match, response.text
    return match.group(1)


async def test_signed_get_serves_file_with_type_and_etag(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    info = await store.put("audio/tts/a.mp3", DATA, "audio/mpeg")
    response = await http.get(store.signed_get_url("audio/tts/a.mp3"))
    assert response.status_code == 200 and response.content == DATA
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["etag"] == f'"{info.etag}"'


async def test_range_request_gets_partial_content(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    await store.put("audio/tts/a.mp3", DATA, "audio/mpeg")
    response = await http.get(store.signed_get_url("audio/tts/a.mp3"), headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == DATA[10:20]
    assert response.headers["content-range"] == f"bytes 10-19/{len(DATA)}"


async def test_get_refusals(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    await store.put("a.wav", b"x")
    url = store.signed_get_url("a.wav")
    bad_sig = re.sub(r"signature=(.)", lambda m: "signature=" + ("0" if m.group(1) != "0" else "1"), url)
    response = await http.get(bad_sig)
    assert response.status_code == 403 and _code(response) == "SignatureDoesNotMatch"

    response = await http.get(url.split("?")[0])
    assert response.status_code == 403 and _code(response) == "AccessDenied"

    expired = store.signed_get_url("a.wav", expires_s=-10)
    response = await http.get(expired)
    assert response.status_code == 403 and "expired" in response.text

    response = await http.get(store.signed_get_url("missing.wav"))
    assert response.status_code == 404 and _code(response) == "NoSuchKey"

    response = await http.get(url.replace("/voicefn-local/", "/other-bucket/"))
    assert response.status_code == 404 and _code(response) == "NoSuchBucket"


async def test_traversal_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.get("/_objects/voicefn-local/a/..%2F..%2F..%2Fetc%2Fpasswd?expires=9999999999&signature=00")
    assert response.status_code in (400, 403, 404)
    assert "root:" not in response.text


async def test_signed_put_stores_and_fires_the_hook(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    seen: list[ObjectInfo] = []

    async def hook(info: ObjectInfo) -> None:
        seen.append(info)

    store.on_created = hook
    url = store.signed_put_url("uploads/voice/u1/s.wav", content_type="audio/wav")
    response = await http.put(url, content=DATA, headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200
    assert await store.get("uploads/voice/u1/s.wav") == DATA
    assert [i.key for i in seen] == ["uploads/voice/u1/s.wav"]
    assert response.headers["etag"] == f'"{seen[0].etag}"'


async def test_put_with_another_content_type_is_refused(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    url = store.signed_put_url("uploads/voice/u1/s.wav", content_type="audio/wav")
    response = await http.put(url, content=DATA, headers={"Content-Type": "text/html"})
    assert response.status_code == 403
    assert await store.head("uploads/voice/u1/s.wav") is None


async def test_put_with_a_get_signature_is_refused(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    response = await http.put(store.signed_get_url("x.bin"), content=b"x")
    assert response.status_code == 403 and await store.head("x.bin") is None


def _files(data: bytes = DATA, content_type: str = "audio/wav") -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("t.wav", data, content_type)}


async def test_post_object_upload(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    policy = store.post_policy("uploads/asr/u1/t.wav", max_size=len(DATA), content_type="audio/wav")
    response = await http.post(policy.url, data=policy.fields, files=_files())
    assert response.status_code == 200
    assert await store.get("uploads/asr/u1/t.wav") == DATA
    head = await store.head("uploads/asr/u1/t.wav")
    assert head is not None and head.content_type == "audio/wav"


@pytest.mark.parametrize("status, expected", [(None, 204), ("204", 204), ("201", 201)])
async def test_post_object_success_action_status(store: LocalObjectStore, http: httpx.AsyncClient,
                                                 status: str | None, expected: int) -> None:
    fields = dict(store.post_policy("k.wav").fields)
    fields.pop("success_action_status")
    if status:
        fields["success_action_status"] = status
    response = await http.post(f"{BASE}/_objects/voicefn-local", data=fields, files=_files(b"abc"))
    assert response.status_code == expected
    if expected == 201:
        assert "<Key>k.wav</Key>" in response.text


async def test_post_object_refusals(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    policy = store.post_policy("uploads/asr/u1/t.wav", max_size=10)
    response = await http.post(policy.url, data=policy.fields, files=_files(b"x" * 11))
    assert response.status_code == 400 and _code(response) == "EntityTooLarge"

    wrong_key = {**policy.fields, "key": "uploads/asr/u2/t.wav"}
    response = await http.post(policy.url, data=wrong_key, files=_files(b"x"))
    assert response.status_code == 403

    response = await http.post(policy.url, data=policy.fields)
    assert response.status_code == 400 and _code(response) == "InvalidArgument"

    expired = store.post_policy("uploads/asr/u1/t.wav", expires_s=-1)
    response = await http.post(expired.url, data=expired.fields, files=_files(b"x"))
    assert response.status_code == 403 and "expired" in response.text
    assert await store.head("uploads/asr/u1/t.wav") is None
    assert await store.head("uploads/asr/u2/t.wav") is None


async def test_post_fields_after_the_file_are_ignored(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    policy = store.post_policy("k.wav", content_type="audio/wav")
    boundary = "voicefnboundary"
    parts = []
    for name, value in policy.fields.items():
        if name != "Content-Type":
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="k.wav"\r\n'
                 f"Content-Type: audio/wav\r\n\r\n".encode() + b"RIFF" + b"\r\n")
    # a Content-Type sent after the file must not count (OSS stops reading fields at the file)
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="Content-Type"\r\n\r\ntext/html\r\n'.encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = await http.post(policy.url, content=body,
                               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 200
    head = await store.head("k.wav")
    assert head is not None and head.content_type == "audio/wav"


async def test_store_provider_is_called_per_request(tmp_path: Path) -> None:
    stores = [LocalObjectStore(tmp_path / "a", "voicefn-local", BASE, b"one")]
    app = FastAPI()
    app.include_router(object_router(lambda: stores[0]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        await stores[0].put("x", b"1")
        url = stores[0].signed_get_url("x")
        assert (await client.get(url)).status_code == 200
        stores[0] = LocalObjectStore(tmp_path / "b", "voicefn-local", BASE, b"two")
        assert (await client.get(url)).status_code == 403
