"""voicefn speaks voice enrollment itself: its requests are the SDK's (dashscope_sdk_capture.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from voicefn.dashscope import enrollment
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.http import DashScopeHttp

CAPTURE = Path("/work/shared/reference/dashscope_sdk_capture.jsonl")
VOICE = "cosyvoice-v3-plus-myvoice-2a931489c3d841ae9539c2e63e77c5af"


def _sdk_bodies() -> list[dict]:
    if not CAPTURE.is_file():
        pytest.skip("the SDK capture is not on this machine")
    rows = [json.loads(line) for line in CAPTURE.read_text().splitlines() if line.strip()]
    return [r["body"] for r in rows if r.get("path", "").endswith("/services/audio/tts/customization")]


class Recorder:
    def __init__(self, replies: list[httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.replies = replies

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.replies.pop(0)


def _http(recorder: Recorder) -> DashScopeHttp:
    return DashScopeHttp("http://ds.test/api/v1", timeout_s=5,
                         client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)))


def _ok(output: dict) -> httpx.Response:
    return httpx.Response(200, json={"request_id": "r", "output": output, "usage": {}})


async def test_every_action_sends_exactly_the_sdk_s_body() -> None:
    sdk = _sdk_bodies()[:5]
    recorder = Recorder([_ok({"voice_id": VOICE}), _ok({"voice_list": [{"voice_id": VOICE, "status": "OK"}]}),
                         _ok({"status": "DEPLOYING", "target_model": "cosyvoice-v3-plus"}), _ok({}), _ok({})])
    http = _http(recorder)
    created = await enrollment.create_voice(http, api_key="sk-test", target_model="cosyvoice-v3-plus",
                                            prefix="myvoice", url="https://x/a.wav", language_hints=["zh"])
    listed = await enrollment.list_voices(http, api_key="sk-test", prefix="myvoice")
    queried = await enrollment.query_voice(http, api_key="sk-test", voice_id=VOICE)
    await enrollment.update_voice(http, api_key="sk-test", voice_id=VOICE, url="https://x/b.wav")
    await enrollment.delete_voice(http, api_key="sk-test", voice_id=VOICE)
    sent = [json.loads(r.content) for r in recorder.requests]
    assert sent == sdk
    assert [r.content for r in recorder.requests] == [json.dumps(b, ensure_ascii=False).encode() for b in sdk]
    for request in recorder.requests:
        assert request.url.path == "/api/v1/services/audio/tts/customization"
        assert request.headers["Authorization"] == "Bearer sk-test"
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        assert "X-DashScope-Async" not in request.headers
    assert created == VOICE and listed[0].status == "OK"
    assert (queried.status, queried.target_model, queried.voice_id) == ("DEPLOYING", "cosyvoice-v3-plus", VOICE)


async def test_errors_keep_dashscope_s_code() -> None:
    recorder = Recorder([httpx.Response(404, json={"request_id": "r", "code": "VoiceNotFound",
                                                   "message": "voice 'nope' does not exist"})])
    with pytest.raises(UpstreamError) as failed:
        await enrollment.query_voice(_http(recorder), api_key="sk-test", voice_id="nope")
    assert (failed.value.code, failed.value.http_status) == ("VoiceNotFound", 404)


@pytest.mark.parametrize("code, status, message, expected", [
    ("VoiceLimitExceeded", 400, "the account already has 1000 voices", "VOICE_LIMIT_EXCEEDED"),
    ("Throttling.AllocationQuota", 429, "Allocated quota exceeded", "RATE_LIMITED"),
    ("InvalidApiKey", 401, "Invalid API-key provided.", "UNAUTHORIZED"),
    ("InternalError", 500, "boom", "UPSTREAM_ERROR"),
])
def test_enrollment_failures_in_seed_003_s_terms(code: str, status: int, message: str, expected: str) -> None:
    from voicefn.voice.upstream import _api_error, is_missing

    error = UpstreamError(code, message, http_status=status)
    assert _api_error(error).code == expected
    assert not is_missing(error)
    assert is_missing(UpstreamError("VoiceNotFound", "voice 'x' does not exist", http_status=404))
