"""open_stream (the HTTP stream's layer side) against a fake DashScope client."""

from __future__ import annotations

import pytest

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.tts.params import TtsParams, VoiceSettings
from voicefn.tts.streaming import CachedAudioStream, StreamAborted, abort_on_failure, open_stream

from .conftest import FakeDashScope, frame

PARAMS = TtsParams(VoiceSettings(model="cosyvoice-v3-flash", voice="longanyang", format="pcm",
                                 sample_rate=8000), "一句话。")


async def test_a_second_identical_stream_comes_from_the_cache_without_an_upstream_call(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    first = await open_stream(services, principal, PARAMS)
    audio = b"".join([c async for c in first.chunks()])
    assert audio == b"".join(frame("一句话。", k) for k in range(3))
    second = await open_stream(services, principal, PARAMS)
    assert isinstance(second, CachedAudioStream)
    assert b"".join([c async for c in second.chunks()]) == audio
    assert len(fake_dashscope.sessions) == 1
    items, total = await services.state.list_history(principal.user_id)
    assert total == 2 and items[0]["bill"] == "0"  # the cached one is free


async def test_upstream_failures_before_the_first_byte_are_a_status_not_a_stream(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.faults = ["bad_key"]
    with pytest.raises(ApiError):
        await open_stream(services, principal, PARAMS)
    fake_dashscope.faults = ["fail_start", "fail_start"]
    fake_dashscope.sessions.clear()
    stream = await open_stream(services, principal, PARAMS.with_text("重试之后。"))  # retried
    assert len(fake_dashscope.sessions) == 3
    assert [c async for c in stream.chunks()]


async def test_bad_settings_fail_before_any_upstream_call(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    bad = TtsParams(VoiceSettings(model="cosyvoice-v3-flash", voice="longanyang", format="flac"), "x")
    with pytest.raises(ApiError) as refused:
        await open_stream(services, principal, bad)
    assert refused.value.param == "format" and fake_dashscope.sessions == []


async def test_a_failure_after_the_first_byte_aborts_the_body(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.faults = ["fail_after_audio"]
    stream = await open_stream(services, principal, PARAMS.with_text("会失败。"))
    got: list[bytes] = []
    with pytest.raises(StreamAborted, match="UPSTREAM_ERROR"):
        async for chunk in abort_on_failure(stream.chunks()):
            got.append(chunk)
    assert got == [frame("会失败。", 0)]
    _, total = await services.state.list_history(principal.user_id)
    assert total == 0
