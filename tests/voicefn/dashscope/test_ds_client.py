"""DashScopeClient: built from settings, one per process, retries where nothing was handed out."""

from __future__ import annotations

import httpx
import pytest

from voicefn.dashscope.client import DashScopeClient
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.http import DashScopeHttp
from voicefn.dashscope.tts_ws_messages import CosyVoiceParams
from voicefn.settings import Settings, reset_settings

TTS = CosyVoiceParams(model="cosyvoice-v3-flash", voice="longanyang", format="mp3", sample_rate=22050)


def client_for(fake, retries: int = 2) -> DashScopeClient:
    return DashScopeClient(http_url="http://127.0.0.1:1/api/v1", ws_url=fake.url,
                           compat_url="http://127.0.0.1:1/compatible-mode/v1", timeout_s=2.0,
                           retries=retries, retry_budget_s=3.0)


def test_from_settings_takes_urls_timeouts_and_policy():
    s = Settings(dashscope_http_url="http://h/api/v1", dashscope_ws_url="ws://w/inference",
                 dashscope_compat_url="http://h/compatible-mode/v1", upstream_timeout_s=7.0,
                 upstream_retries=4, upstream_retry_budget_s=9.0)
    c = DashScopeClient.from_settings(s)
    assert (c.http_url, c.ws_url, c.compat_url) == (
        "http://h/api/v1", "ws://w/inference", "http://h/compatible-mode/v1")
    assert (c.timeout_s, c.retries, c.retry_budget_s) == (7.0, 4, 9.0)
    assert c.http.base_url == "http://h/api/v1"


def test_services_hold_one_client_per_process(monkeypatch):
    from voicefn.services import get_services, reset_services

    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://first/api/v1")
    reset_settings()
    reset_services()
    try:
        a = get_services().dashscope
        assert get_services().dashscope is a and a.http_url == "http://first/api/v1"
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://second/api/v1")
        reset_settings()
        reset_services()
        assert get_services().dashscope.http_url == "http://second/api/v1"
    finally:
        reset_services()
        reset_settings()


async def test_tts_bytes_retries_a_failed_task(cosyvoice):
    cosyvoice.fault, cosyvoice.fail_code, cosyvoice.fault_connections = \
        "fail_start", "InternalError", 1
    result = await client_for(cosyvoice).tts_bytes(api_key="sk-test", text="hi", params=TTS)
    assert result.audio == cosyvoice.chunk("hi", 0) + cosyvoice.chunk("hi", 1)
    assert len(cosyvoice.received) == 2


async def test_tts_bytes_retries_even_after_partial_audio(cosyvoice):
    # Nothing reached the caller yet, so a drop mid-synthesis is retried too.
    cosyvoice.fault, cosyvoice.fault_connections = "drop", 1
    result = await client_for(cosyvoice).tts_bytes(api_key="sk-test", text="hi", params=TTS)
    assert result.audio == cosyvoice.chunk("hi", 0) + cosyvoice.chunk("hi", 1)
    assert result.characters == 2


async def test_tts_bytes_does_not_retry_a_bad_key(cosyvoice):
    with pytest.raises(UpstreamError) as info:
        await client_for(cosyvoice).tts_bytes(api_key="wrong", text="hi", params=TTS)
    assert info.value.code == "InvalidApiKey" and len(cosyvoice.handshakes) == 1


async def test_tts_stream_retries_before_the_first_chunk(cosyvoice):
    cosyvoice.fault, cosyvoice.fail_code, cosyvoice.fault_connections = \
        "fail_start", "Throttling.RateQuota", 2
    stream = client_for(cosyvoice, retries=3).tts_stream(api_key="sk-test", text="hi", params=TTS)
    assert [c async for c in stream] == [cosyvoice.chunk("hi", 0), cosyvoice.chunk("hi", 1)]
    assert len(cosyvoice.received) == 3 and stream.characters == 2


async def test_tts_stream_does_not_retry_after_audio_was_handed_out(cosyvoice):
    cosyvoice.fault = "drop"
    stream = client_for(cosyvoice, retries=3).tts_stream(api_key="sk-test", text="hi", params=TTS)
    got = []
    with pytest.raises(UpstreamError) as info:
        async for chunk in stream:
            got.append(chunk)
    assert got == [cosyvoice.chunk("hi", 0)] and info.value.retryable
    assert len(cosyvoice.received) == 1


async def test_tts_session_uses_the_clients_url_and_timeouts(cosyvoice):
    c = client_for(cosyvoice)
    async with c.tts_session(api_key="sk-test", params=TTS) as s:
        assert (s.connect_timeout_s, s.idle_timeout_s) == (2.0, 2.0)
        await s.send_text("ab")
        await s.finish()
        assert [x async for x in s.audio()] == [cosyvoice.chunk("ab", 0), cosyvoice.chunk("ab", 1)]


async def test_qwen_tts_retries_a_500():
    replies = [httpx.Response(500, json={"code": "InternalError", "message": "x"}),
               httpx.Response(200, json={"request_id": "r", "output": {"audio": {
                   "url": "http://oss.test/a.wav"}}, "usage": {"characters": 3}})]
    transport = httpx.MockTransport(lambda request: replies.pop(0))
    http = DashScopeHttp("http://ds.test/api/v1", timeout_s=2,
                         client=httpx.AsyncClient(transport=transport))
    c = DashScopeClient(http_url="http://ds.test/api/v1", ws_url="ws://unused",
                        compat_url="http://unused", retries=1, retry_budget_s=2.0, http=http)
    result = await c.qwen_tts(api_key="k", model="qwen3-tts-flash", text="abc", voice="Cherry")
    assert (result.audio_url, result.characters) == ("http://oss.test/a.wav", 3)
    assert replies == []
