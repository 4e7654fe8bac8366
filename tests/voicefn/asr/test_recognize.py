"""Sync recognition against a fake DashScope client: the text a user gets back, the history
record and bill it leaves, what upstream was sent, and how upstream trouble reaches the user."""

from __future__ import annotations

import base64

import pytest

from voicefn.asr.intake import inspect
from voicefn.asr.recognize import recognize
from voicefn.auth.principal import Principal
from voicefn.billing import asr_bill, format_money
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.results import AsrResult
from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.settings import Settings

from .conftest import FakeDashScope, wav

MODEL = "qwen3-asr-flash"


async def test_the_text_comes_back_recorded_and_billed(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    data = wav(4.0)
    fake_dashscope.recognitions.append(AsrResult(text="今天天气不错", language="zh", emotion="happy", seconds=4,
                                                 usage={"input_tokens": 100, "output_tokens": 7, "seconds": 4},
                                                 request_id="r1"))
    out = (await recognize(services, principal, model=MODEL, audio=inspect(data), enable_itn=True,
                           source={"file_url": "https://user.example.com/a.wav"})).public()
    assert out["text"] == "今天天气不错" and out["language"] == "zh" and out["emotion"] == "happy"
    assert out["duration"] == 4
    assert out["usage"] == {"input_tokens": 100, "output_tokens": 7, "seconds": 4}
    assert out["bill"] == format_money(asr_bill(MODEL, 4)) and float(out["bill"]) > 0

    row = await services.state.get_history(principal.user_id, out["record_id"])
    assert row is not None
    assert row["type"] == "asr" and row["model_name"] == MODEL and row["bill"] == out["bill"]
    assert row["output_text"] == "今天天气不错" and row["duration"] == 4

    # upstream got the audio inlined as a data URI of the very bytes: never the user's URL
    (call,) = fake_dashscope.called("recognize")
    assert call["audio"] == "data:audio/wav;base64," + base64.b64encode(data).decode()
    assert "user.example.com" not in repr(fake_dashscope.calls)
    assert call["api_key"] == "sk-platform" and call["enable_itn"] is True


async def test_without_upstream_seconds_the_audio_length_is_billed(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.recognitions.append(AsrResult(text="嗯", language=None, emotion=None, seconds=None,
                                                 usage={}, request_id="r2"))
    out = await recognize(services, principal, model=MODEL, audio=inspect(wav(2.5)), language="zh")
    assert out.duration == 3  # billed by the started second
    assert out.language == "zh"  # the caller's hint when upstream detected none
    assert out.bill == format_money(asr_bill(MODEL, 3))


@pytest.mark.parametrize("data", [b"", b"not audio at all" * 10, b"RIFF\x00\x00\x00\x00WAVEjunk"])
def test_bytes_that_are_not_audio_are_invalid_audio(data: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        inspect(data)
    assert caught.value.code == "INVALID_AUDIO" and caught.value.status == 400


def test_audio_longer_than_a_minute_is_refused_for_sync_recognition() -> None:
    with pytest.raises(ApiError) as caught:
        inspect(wav(61.0, rate=8000))
    assert caught.value.code == "AUDIO_TOO_LONG"


@pytest.mark.parametrize(("upstream", "code"), [
    (UpstreamError("Throttling.RateQuota", "too many requests", http_status=429, retry_after=3), "RATE_LIMITED"),
    (UpstreamError("InvalidApiKey", "invalid api key", http_status=401), "UNAUTHORIZED"),
    (UpstreamError("InternalError", "engine failed", http_status=500), "UPSTREAM_ERROR"),
    (UpstreamError("RequestTimeOut", "no answer"), "TIMEOUT"),
    (UpstreamError("InvalidParameter", "The audio is malformed", http_status=400), "INVALID_PARAMETER"),
])
async def test_upstream_failures_reach_the_user_as_api_errors_and_nothing_is_billed(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope,
        upstream: UpstreamError, code: str) -> None:
    fake_dashscope.recognitions.append(upstream)
    with pytest.raises(ApiError) as caught:
        await recognize(services, principal, model=MODEL, audio=inspect(wav(1.0)))
    assert caught.value.code == code
    if code == "RATE_LIMITED":
        assert caught.value.retry_after == 3 and caught.value.status == 429
    items, total = await services.state.list_history(principal.user_id)
    assert total == 0 and items == []


async def test_a_user_without_a_key_is_refused_before_upstream(
        services: Services, fake_dashscope: FakeDashScope) -> None:
    # the platform key is for the listed users only; this one has none of its own
    services.settings = Settings(data_dir=services.settings.data_dir, platform_api_key="sk-platform",
                                 platform_key_users=("someone-else",))
    with pytest.raises(ApiError) as caught:
        await recognize(services, Principal("no-key-user"), model=MODEL, audio=inspect(wav(1.0)))
    assert caught.value.code == "NO_API_KEY"
    assert fake_dashscope.calls == []
