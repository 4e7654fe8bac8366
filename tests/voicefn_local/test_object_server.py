"""The local object server: OSS's behaviour for signed GET/PUT and PostObject, over ASGI."""

from __future__ import annotations

import asyncio
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


# ---- upload size limits and streaming ---------------------------------------------------------

def _leftovers(store: LocalObjectStore) -> list[Path]:
    tmp = store.root / ".tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


async def _chunks(total: int, size: int = 4096):
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"\x01" * n


async def test_a_put_url_signed_for_a_size_takes_up_to_that_size(store: LocalObjectStore,
                                                                  http: httpx.AsyncClient) -> None:
    url = store.signed_put_url("uploads/asr/u1/a.wav", content_type="audio/wav", max_size=len(DATA))
    assert f"max_size={len(DATA)}" in url
    response = await http.put(url, content=DATA, headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200 and await store.get("uploads/asr/u1/a.wav") == DATA


async def test_a_larger_put_is_refused_with_or_without_content_length(store: LocalObjectStore,
                                                                       http: httpx.AsyncClient) -> None:
    url = store.signed_put_url("uploads/asr/u1/a.wav", content_type="audio/wav", max_size=1000)
    declared = await http.put(url, content=b"x" * 1001, headers={"Content-Type": "audio/wav"})
    chunked = await http.put(url, content=_chunks(50_000), headers={"Content-Type": "audio/wav"})
    for response in (declared, chunked):
        assert response.status_code == 400 and _code(response) == "EntityTooLarge"
        assert response.headers["connection"] == "close"  # the rest of the body is not read
    assert await store.head("uploads/asr/u1/a.wav") is None
    assert _leftovers(store) == []  # the partial temp file is gone


async def test_the_signed_size_cannot_be_changed_or_dropped(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    url = store.signed_put_url("uploads/asr/u1/a.wav", content_type="audio/wav", max_size=1000)
    for bad in (url.replace("max_size=1000", "max_size=99999999"), url.replace("max_size=1000&", "")):
        response = await http.put(bad, content=b"x" * 10, headers={"Content-Type": "audio/wav"})
        assert response.status_code == 403 and _code(response) == "SignatureDoesNotMatch"
    assert await store.head("uploads/asr/u1/a.wav") is None


async def test_a_chunked_put_is_streamed_into_the_store(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    import hashlib

    url = store.signed_put_url("uploads/asr/u1/big.wav", content_type="audio/wav", max_size=300_000)
    response = await http.put(url, content=_chunks(300_000, 7000), headers={"Content-Type": "audio/wav"})
    assert response.status_code == 200
    info = await store.head("uploads/asr/u1/big.wav")
    assert info is not None and info.size == 300_000
    assert info.etag == hashlib.md5(b"\x01" * 300_000).hexdigest().upper() == response.headers["etag"].strip('"')
    assert _leftovers(store) == []


async def test_a_post_object_file_is_copied_in_chunks(store: LocalObjectStore, http: httpx.AsyncClient) -> None:
    blob = bytes(range(256)) * 12_000  # 3 MB: more than one copy chunk
    policy = store.post_policy("uploads/asr/u1/p.wav", max_size=len(blob), content_type="audio/wav")
    response = await http.post(policy.url, data=policy.fields, files=_files(blob))
    assert response.status_code == 200 and await store.get("uploads/asr/u1/p.wav") == blob


# ---- through the real dev server (uvicorn on a socket, as `voicefn serve` runs it) ---------------

class _Body:
    """A chunked request body of ``total`` bytes that counts what the client got to send."""

    def __init__(self, total: int, chunk: int = 1024 * 1024) -> None:
        self.total = total
        self.chunk = b"\x02" * chunk  # one buffer, sent again and again
        self.sent = 0

    def __iter__(self):
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


def _traced_peak(run) -> tuple[object, int]:
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_300_mb_put_to_a_64_kb_ticket_is_refused_early_and_unbuffered(stack) -> None:
    from voicefn.services import get_services

    with stack.client("big-putter") as client:
        ticket = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "a.wav",
                                                         "content_type": "audio/wav", "size": 64 * 1024}).json()["data"]
    body = _Body(300 * 1024 * 1024)

    def put() -> object:
        try:  # no Content-Length: a chunked body the server can only count
            return httpx.put(ticket["put_url"], content=iter(body), headers=ticket["put_headers"], timeout=30)
        except httpx.TransportError as exc:  # the server closed the connection while we were sending
            return exc

    response, peak = _traced_peak(put)
    if isinstance(response, httpx.Response):
        assert response.status_code == 400 and _code(response) == "EntityTooLarge"
    assert body.sent < 64 * 1024 * 1024, body.sent       # refused early: most of the 300 MB never left
    assert peak < 16 * 1024 * 1024, peak                   # and nothing like the body was held in memory
    store = get_services().objects
    assert asyncio.run(store.head(ticket["key"])) is None
    assert _leftovers(store) == []


def test_a_large_chunked_put_is_streamed_to_disk_not_memory(stack) -> None:
    from voicefn.services import get_services

    store = get_services().objects
    key = "scratch/streamed.bin"  # outside every trigger's prefix: no event, just the store
    url = store.signed_put_url(key, 60, "application/octet-stream", max_size=100 * 1024 * 1024)
    body = _Body(48 * 1024 * 1024)
    response, peak = _traced_peak(lambda: httpx.put(url, content=iter(body), timeout=60,
                                                    headers={"Content-Type": "application/octet-stream"}))
    try:
        assert isinstance(response, httpx.Response) and response.status_code == 200, response
        info = asyncio.run(store.head(key))
        assert info is not None and info.size == body.sent == 48 * 1024 * 1024
        assert peak < 16 * 1024 * 1024, peak  # 48 MB went through a few chunks of memory
    finally:
        asyncio.run(store.delete(key))


async def test_a_post_body_past_the_largest_upload_is_cut_off(store: LocalObjectStore, http: httpx.AsyncClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn_local import object_server

    monkeypatch.setattr(object_server, "MAX_UPLOAD_BYTES", 10_000)
    monkeypatch.setattr(object_server, "_COPY_CHUNK", 1000)
    policy = store.post_policy("uploads/asr/u1/p.wav", max_size=10 ** 9, content_type="audio/wav")
    request = http.build_request("POST", policy.url, data=policy.fields, files=_files(b"x" * 50_000))
    body = request.read()

    async def chunked():  # the same form, without a Content-Length
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    response = await http.post(policy.url, content=chunked(),
                               headers={"Content-Type": request.headers["content-type"]})
    assert response.status_code == 400 and _code(response) == "EntityTooLarge"
    assert await store.head("uploads/asr/u1/p.wav") is None
