"""HTTP CosyVoice and Qwen TTS: bodies as the SDK builds them, URL replies, SSE PCM chunks."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.http import DashScopeHttp
from voicefn.dashscope.tts_http import (
    cosyvoice_http_body,
    cosyvoice_http_tts,
    cosyvoice_http_tts_stream,
    qwen_tts,
    qwen_tts_body,
    qwen_tts_stream,
)


def captured(capture: list[dict], path_end: str) -> list[dict]:
    return [r for r in capture if r["kind"] == "http" and r["path"].endswith(path_end)]


def as_json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)  # key order counts


def test_qwen_tts_bodies_match_the_capture(capture):
    records = [r for r in captured(capture, "/multimodal-generation/generation")
               if r["body"]["model"].startswith("qwen3-tts")]
    assert len(records) >= 2
    for r in records:
        i = r["body"]["input"]
        rebuilt = qwen_tts_body(model=r["body"]["model"], text=i["text"], voice=i["voice"],
                                language_type=i.get("language_type"))
        assert as_json(rebuilt) == as_json(r["body"])


def test_cosyvoice_http_bodies_match_the_capture(capture):
    records = captured(capture, "/services/audio/tts/SpeechSynthesizer")
    assert records
    for r in records:
        i = r["body"]["input"]
        rebuilt = cosyvoice_http_body(model=r["body"]["model"], text=i["text"], voice=i["voice"],
                                      format=i["format"], sample_rate=i["sample_rate"])
        assert as_json(rebuilt) == as_json(r["body"])
    with_extras = cosyvoice_http_body(model="m", text="t", voice="v", volume=60, rate=None)
    assert with_extras["input"]["volume"] == 60 and "rate" not in with_extras["input"]
    assert "parameters" not in with_extras


def mock(handler) -> tuple[DashScopeHttp, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return DashScopeHttp("http://ds.test/api/v1", timeout_s=5, client=client), seen


URL_REPLY = {"request_id": "req-1", "output": {"finish_reason": "stop", "audio": {
    "url": "http://oss.test/a.wav", "id": "audio_1", "expires_at": 1700000000, "data": ""}},
    "usage": {"characters": 4, "input_tokens": 1, "output_tokens": 2}}


async def test_qwen_tts_returns_url_and_characters():
    http, seen = mock(lambda r: httpx.Response(200, json=URL_REPLY))
    result = await qwen_tts(http, api_key="k", model="qwen3-tts-flash", text="你好",
                            voice="Cherry", language_type="Chinese")
    assert (result.audio_url, result.characters, result.request_id) == \
        ("http://oss.test/a.wav", 4, "req-1")
    assert (result.audio_id, result.expires_at) == ("audio_1", 1700000000)
    assert seen[0].url.path == "/api/v1/services/aigc/multimodal-generation/generation"
    assert json.loads(seen[0].content)["input"]["language_type"] == "Chinese"


async def test_reply_without_url_is_an_error():
    http, _ = mock(lambda r: httpx.Response(200, json={"request_id": "r", "output": {}}))
    with pytest.raises(UpstreamError) as info:
        await qwen_tts(http, api_key="k", model="qwen3-tts-flash", text="x", voice="Cherry")
    assert info.value.request_id == "r" and not info.value.retryable


def sse_reply(*payloads: dict) -> httpx.Response:
    body = "".join(f"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(p)}\n\n"
                   for n, p in enumerate(payloads, 1))
    return httpx.Response(200, content=body.encode(),
                          headers={"content-type": "text/event-stream"})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_qwen_tts_stream_decodes_pcm_chunks():
    pcm = [b"\x01\x02" * 10, b"\x03\x04" * 10]
    http, seen = mock(lambda r: sse_reply(
        {"request_id": "r2", "output": {"finish_reason": "null", "audio": {"data": b64(pcm[0])}}},
        {"request_id": "r2", "output": {"finish_reason": "null", "audio": {"data": b64(pcm[1])}}},
        {"request_id": "r2", "output": {"finish_reason": "stop", "audio": {
            "url": "http://oss.test/x.wav", "data": ""}}, "usage": {"characters": 2}}))
    stream = qwen_tts_stream(http, api_key="k", model="qwen3-tts-flash", text="hi",
                             voice="Cherry")
    assert [c async for c in stream] == pcm
    assert (stream.characters, stream.request_id, stream.audio_url) == \
        (2, "r2", "http://oss.test/x.wav")
    assert seen[0].headers["x-dashscope-sse"] == "enable"


async def test_qwen_tts_stream_error_mid_stream():
    def reply(request):
        body = (f"event:result\ndata:{json.dumps({'output': {'audio': {'data': b64(b'ab')}}})}\n\n"
                "event:error\ndata:{\"code\":\"InternalError\",\"message\":\"x\"}\n\n")
        return httpx.Response(200, content=body.encode(),
                              headers={"content-type": "text/event-stream"})

    http, _ = mock(reply)
    got = []
    with pytest.raises(UpstreamError) as info:
        async for chunk in qwen_tts_stream(http, api_key="k", model="m", text="t", voice="v"):
            got.append(chunk)
    assert got == [b"ab"] and info.value.code == "InternalError"


async def test_cosyvoice_http_tts_and_stream():
    http, seen = mock(lambda r: httpx.Response(200, json=URL_REPLY))
    result = await cosyvoice_http_tts(http, api_key="k", model="cosyvoice-v3-flash", text="你好",
                                      voice="longanyang")
    assert result.audio_url == "http://oss.test/a.wav" and result.characters == 4
    assert seen[0].url.path == "/api/v1/services/audio/tts/SpeechSynthesizer"
    assert "parameters" not in json.loads(seen[0].content)

    http, _ = mock(lambda r: sse_reply(
        {"output": {"type": "sentence-begin", "sentence": {"index": 0}}},
        {"output": {"type": "sentence-synthesis", "audio": {"data": b64(b"one")}}},
        {"output": {"type": "sentence-synthesis", "audio": {"data": b64(b"two")}}},
        {"output": {"finish_reason": "stop", "audio": {"url": "http://oss.test/b.wav",
                                                      "data": b64(b"onetwo")}},
         "usage": {"characters": 4}, "request_id": "r3"}))
    stream = cosyvoice_http_tts_stream(http, api_key="k", model="cosyvoice-v3-flash",
                                       text="你好", voice="longanyang")
    assert [c async for c in stream] == [b"one", b"two"]  # the final joined copy is not repeated
    assert (stream.audio_url, stream.characters, stream.request_id) == \
        ("http://oss.test/b.wav", 4, "r3")


async def test_bad_base64_is_an_upstream_error():
    http, _ = mock(lambda r: sse_reply({"output": {"audio": {"data": "!!not base64!!"}}}))
    with pytest.raises(UpstreamError):
        [c async for c in qwen_tts_stream(http, api_key="k", model="m", text="t", voice="v")]
