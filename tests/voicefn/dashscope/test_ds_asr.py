"""ASR over DashScope HTTP: requests as the SDK sends them, replies parsed, failures mapped.

The fake is an ``httpx.MockTransport`` that answers as DashScope does (reference §3.1–3.2).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from voicefn.dashscope import asr
from voicefn.dashscope.client import DashScopeClient
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.dashscope.http import DashScopeHttp

BASE = "http://127.0.0.1:18080/api/v1"  # the capture's base, so paths compare as they are
PROTOCOL_HEADERS = ("authorization", "accept", "content-type", "x-dashscope-async",
                    "x-dashscope-sse", "x-accel-buffering")

RECOGNITION_REPLY = {
    "request_id": "568e2bf0-d6f2-97f8-9f15-a57b11dc6977",
    "output": {"choices": [{"finish_reason": "stop", "message": {
        "role": "assistant", "content": [{"text": "欢迎使用阿里云。"}],
        "annotations": [{"type": "audio_info", "language": "zh", "emotion": "neutral"}]}}]},
    "usage": {"input_tokens_details": {"text_tokens": 0}, "output_tokens_details": {"text_tokens": 6},
              "seconds": 1}}
SUBMIT_REPLY = {"request_id": "92e3decd", "output": {
    "task_id": "8fab76d0-0eed-4d20-929f-5a7e3d1b2c4f", "task_status": "PENDING"}}
DONE_REPLY = {"request_id": "1dca", "output": {
    "task_id": "8fab76d0-0eed-4d20-929f-5a7e3d1b2c4f", "task_status": "SUCCEEDED",
    "submit_time": "2025-10-27 13:57:45.948", "scheduled_time": "2025-10-27 13:57:46.001",
    "end_time": "2025-10-27 13:57:49.120",
    "result": {"transcription_url": "https://dashscope-result.oss.test/r.json?Expires=1&Signature=s"}},
    "usage": {"seconds": 3}}
TRANSCRIPT = {"file_url": "https://x/a.wav", "audio_info": {"format": "wav", "sample_rate": 16000},
              "transcripts": [{"channel_id": 0, "text": "今天天气还行吧。", "sentences": [
                  {"sentence_id": 0, "begin_time": 100, "end_time": 3820, "text": "今天天气还行吧。",
                   "language": "zh", "emotion": "neutral"}]}]}


def fake(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[DashScopeHttp, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return DashScopeHttp(BASE, timeout_s=5, client=client), seen


def reply(payload: dict, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=payload)


def protocol_headers(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in PROTOCOL_HEADERS}


def captured(capture: list[dict], path_end: str, model_prefix: str | None = None) -> list[dict]:
    return [r for r in capture if r["kind"] == "http" and r["path"].endswith(path_end)
            and (model_prefix is None or (r["body"] or {}).get("model", "").startswith(model_prefix))]


def assert_same_request(sent: httpx.Request, record: dict) -> None:
    assert (sent.method, sent.url.path) == (record["method"], record["path"])
    assert protocol_headers(sent.headers) == protocol_headers(record["headers"])
    if record["body"] is not None:
        assert sent.content.decode() == json.dumps(record["body"], ensure_ascii=False)
        assert sent.headers["content-length"] == record["headers"]["Content-Length"]
    else:
        assert sent.content == b""


# --- conformance with the SDK capture ---------------------------------------------------------

async def test_recognition_requests_match_the_sdk_byte_for_byte(capture):
    records = [r for r in captured(capture, "/multimodal-generation/generation", "qwen3-asr")
               if r["body"]["parameters"]]
    assert records, "the capture should hold qwen3-asr-flash calls with asr_options"
    for record in records:
        body = record["body"]
        messages = body["input"]["messages"]
        context = next((m["content"][0]["text"] for m in messages if m["role"] == "system"), None)
        options = body["parameters"]["asr_options"]
        http, seen = fake(reply(RECOGNITION_REPLY))
        await asr.recognize(http, api_key=record["headers"]["Authorization"][7:],
                            model=body["model"], audio=messages[-1]["content"][0]["audio"],
                            language=options.get("language"), enable_itn=options["enable_itn"],
                            context=context)
        assert_same_request(seen[0], record)


def test_a_bare_sdk_call_differs_only_in_the_options_voicefn_always_sends(capture):
    # MultiModalConversation.call(model, messages) with no options sends "parameters": {}.
    bare = [r for r in captured(capture, "/multimodal-generation/generation", "qwen3-asr")
            if not r["body"]["parameters"]]
    assert bare
    for record in bare:
        body = record["body"]
        audio = body["input"]["messages"][-1]["content"][0]["audio"]
        ours = asr.recognition_body(model=body["model"], audio=audio)
        assert ours["input"] == body["input"] and ours["model"] == body["model"]
        assert ours["parameters"] == {"asr_options": {"enable_itn": False},
                                      "result_format": "message"}
        assert list(ours) == list(body)  # model, parameters, input: the SDK's key order


def test_context_and_language_only_when_given():
    body = asr.recognition_body(model="qwen3-asr-flash", audio="https://x/a.wav", context="",
                                language=None)
    assert [m["role"] for m in body["input"]["messages"]] == ["user"]
    assert "language" not in body["parameters"]["asr_options"]


async def test_transcription_submissions_match_the_sdk_byte_for_byte(capture):
    records = [r for r in captured(capture, "/asr/transcription", "qwen3-asr-flash-filetrans")
               if r["body"]["parameters"]]
    assert records
    for record in records:
        body, params = record["body"], record["body"]["parameters"]
        http, seen = fake(reply(SUBMIT_REPLY))
        task_id = await asr.submit_transcription(
            http, api_key="sk-test", model=body["model"], file_url=body["input"]["file_url"],
            channel_id=params["channel_id"], enable_itn=params["enable_itn"],
            enable_words=params["enable_words"])
        assert task_id == SUBMIT_REPLY["output"]["task_id"]
        assert_same_request(seen[0], record)
        assert seen[0].headers["x-dashscope-async"] == "enable"


def test_transcription_defaults_are_the_sdk_defaults_and_language_goes_last():
    body = asr.transcription_body(model="qwen3-asr-flash-filetrans", file_url="https://x/a.wav")
    assert body["parameters"] == {"channel_id": [0], "enable_itn": False, "enable_words": True}
    with_language = asr.transcription_body(model="m", file_url="u", channel_id=(0, 1),
                                           language="zh")
    assert list(with_language["parameters"].items())[-1] == ("language", "zh")
    assert with_language["parameters"]["channel_id"] == [0, 1]


async def test_task_polls_match_the_sdk(capture):
    records = [r for r in capture if r["kind"] == "http" and r["method"] == "GET"
               and "/tasks/" in r["path"]]
    assert records
    for record in records:
        http, seen = fake(reply(DONE_REPLY))
        await asr.get_transcription_task(http, api_key="sk-test",
                                         task_id=record["path"].rsplit("/", 1)[1])
        assert_same_request(seen[0], record)
        assert "x-dashscope-async" not in seen[0].headers


# --- replies ----------------------------------------------------------------------------------

async def test_recognition_reply_is_parsed():
    http, _ = fake(reply(RECOGNITION_REPLY))
    result = await asr.recognize(http, api_key="k", model="qwen3-asr-flash",
                                 audio="data:audio/wav;base64,UklGRg==")
    assert (result.text, result.language, result.emotion, result.seconds) == \
        ("欢迎使用阿里云。", "zh", "neutral", 1)
    assert result.usage == RECOGNITION_REPLY["usage"]
    assert result.request_id == RECOGNITION_REPLY["request_id"]


@pytest.mark.parametrize("message, text, language", [
    ({"content": [{"text": "one "}, {"image": "x"}, {"text": "two"}]}, "one two", None),
    ({"content": "plain string", "annotations": [{"type": "other"}]}, "plain string", None),
    ({"content": [], "annotations": [{"type": "audio_info", "language": "en"}]}, "", "en"),
    ({}, "", None),
])
def test_recognition_reply_variants(message, text, language):
    result = asr.parse_recognition({"request_id": "r", "output": {"choices": [{"message": message}]}})
    assert (result.text, result.language, result.emotion, result.seconds, result.usage) == \
        (text, language, None, None, {})


@pytest.mark.parametrize("envelope", [
    {"request_id": "r", "output": {}}, {"output": {"choices": []}}, {"output": {"choices": ["x"]}},
    {"output": "nonsense"}, {},
])
def test_recognition_reply_without_choices_is_an_error(envelope):
    with pytest.raises(UpstreamError) as info:
        asr.parse_recognition(envelope)
    assert not info.value.retryable and "output.choices" in info.value.message


async def test_submit_reply_without_task_id_is_an_error():
    http, _ = fake(reply({"request_id": "r", "output": {"task_status": "PENDING"}}))
    with pytest.raises(UpstreamError, match="output.task_id"):
        await asr.submit_transcription(http, api_key="k", model="qwen3-asr-flash-filetrans",
                                       file_url="https://x/a.wav")


async def test_succeeded_task_is_parsed():
    http, seen = fake(reply(DONE_REPLY))
    task = await asr.get_transcription_task(http, api_key="k",
                                            task_id="8fab76d0-0eed-4d20-929f-5a7e3d1b2c4f")
    assert seen[0].url.path == "/api/v1/tasks/8fab76d0-0eed-4d20-929f-5a7e3d1b2c4f"
    assert (task.task_id, task.status, task.done) == (DONE_REPLY["output"]["task_id"], "SUCCEEDED", True)
    assert (task.submit_time, task.scheduled_time, task.end_time) == (
        "2025-10-27 13:57:45.948", "2025-10-27 13:57:46.001", "2025-10-27 13:57:49.120")
    assert task.transcription_url == DONE_REPLY["output"]["result"]["transcription_url"]
    assert task.usage_seconds == 3 and task.code is None and task.request_id == "1dca"


@pytest.mark.parametrize("output, status, done", [
    ({"task_id": "t-1", "task_status": "PENDING", "submit_time": "2025-10-27 13:57:45.948"}, "PENDING", False),
    ({"task_id": "t-1", "task_status": "RUNNING"}, "RUNNING", False),
    ({"task_id": "t-1", "task_status": "CANCELED"}, "CANCELED", True),
    ({"task_id": "t-1", "task_status": "UNKNOWN"}, "UNKNOWN", True),   # missing or older than 24 h
    ({"task_id": "t-1", "task_status": "running"}, "RUNNING", False),
])
async def test_task_statuses(output, status, done):
    http, _ = fake(reply({"request_id": "r", "output": output}))
    task = await asr.get_transcription_task(http, api_key="k", task_id="t-1")
    assert (task.status, task.done, task.transcription_url, task.usage_seconds) == \
        (status, done, None, None)


async def test_failed_task_carries_code_and_message():
    http, _ = fake(reply({"request_id": "r", "output": {
        "task_id": "t-1", "task_status": "FAILED", "code": "InvalidFile.DownloadFailed",
        "message": "download audio failed"}}))
    task = await asr.get_transcription_task(http, api_key="k", task_id="t-1")
    assert (task.status, task.code, task.message) == ("FAILED", "InvalidFile.DownloadFailed",
                                                      "download audio failed")


async def test_unknown_reply_without_task_id_keeps_the_asked_id():
    http, _ = fake(reply({"request_id": "r", "output": {"task_status": "UNKNOWN"}}))
    task = await asr.get_transcription_task(http, api_key="k", task_id="gone-1")
    assert (task.task_id, task.status) == ("gone-1", "UNKNOWN")


@pytest.mark.parametrize("task_id", ["../services/x", "a/b", "", "t?x=1", "x" * 200, " t"])
async def test_ids_that_cannot_be_tasks_are_unknown_without_a_request(task_id):
    http, seen = fake(reply(DONE_REPLY))
    task = await asr.get_transcription_task(http, api_key="k", task_id=task_id)
    assert task.status == "UNKNOWN" and seen == []


async def test_task_reply_without_status_is_an_error():
    http, _ = fake(reply({"request_id": "r", "output": {"task_id": "t-1"}}))
    with pytest.raises(UpstreamError, match="task_status"):
        await asr.get_transcription_task(http, api_key="k", task_id="t-1")


async def test_transcription_result_is_downloaded_without_the_key():
    http, seen = fake(lambda r: httpx.Response(200, content=json.dumps(TRANSCRIPT).encode()))
    url = DONE_REPLY["output"]["result"]["transcription_url"]
    assert await asr.fetch_transcription(http, url, max_bytes=10_000) == TRANSCRIPT
    assert str(seen[0].url) == url and "authorization" not in seen[0].headers


@pytest.mark.parametrize("status", [403, 404])
async def test_expired_transcription_result(status):
    http, _ = fake(lambda r: httpx.Response(status, text="AccessDenied: Request has expired"))
    with pytest.raises(UpstreamError) as info:
        await asr.fetch_transcription(http, "https://oss.test/r.json", max_bytes=100)
    assert info.value.code == "ResultExpired" and not info.value.retryable
    assert to_api_error(info.value).code == "UPSTREAM_ERROR"
    assert "24 h" in to_api_error(info.value).message


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"\xff\xfe"])
async def test_transcription_result_must_be_a_json_object(content):
    http, _ = fake(lambda r: httpx.Response(200, content=content))
    with pytest.raises(UpstreamError, match="not a JSON object"):
        await asr.fetch_transcription(http, "https://oss.test/r.json", max_bytes=100)


async def test_oversized_transcription_result():
    http, _ = fake(lambda r: httpx.Response(200, content=b"{" + b" " * 200 + b"}"))
    with pytest.raises(UpstreamError) as info:
        await asr.fetch_transcription(http, "https://oss.test/r.json", max_bytes=100)
    assert info.value.code == "ResultTooLarge"


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status, code, message, api_code", [
    (401, "InvalidApiKey", "Invalid API-key provided.", "UNAUTHORIZED"),
    (400, "InvalidParameter", "The audio format is not supported.", "INVALID_PARAMETER"),
    (400, "InvalidURL", "The audio URL could not be downloaded.", "INVALID_PARAMETER"),
    (429, "Throttling.RateQuota", "Requests rate limit exceeded", "RATE_LIMITED"),
    (500, "InternalError", "Internal server error", "UPSTREAM_ERROR"),
    (404, "ModelNotFound", "Model not exist.", "INVALID_MODEL"),
])
async def test_error_replies_map_to_api_errors(status, code, message, api_code):
    http, _ = fake(reply({"request_id": "req-e", "code": code, "message": message}, status))
    with pytest.raises(UpstreamError) as info:
        await asr.recognize(http, api_key="k", model="qwen3-asr-flash", audio="https://x/a.wav")
    assert (info.value.code, info.value.http_status, info.value.request_id) == (code, status, "req-e")
    assert to_api_error(info.value).code == api_code
    with pytest.raises(UpstreamError):
        await asr.submit_transcription(http, api_key="k", model="qwen3-asr-flash-filetrans",
                                       file_url="https://x/a.wav")


# --- the client: retries ------------------------------------------------------------------------

def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[DashScopeClient, list]:
    http, seen = fake(handler)
    return DashScopeClient(http_url=BASE, ws_url="ws://127.0.0.1:1/x", compat_url=BASE,
                           timeout_s=2.0, retries=2, retry_budget_s=5.0, http=http), seen


def flaky(first: httpx.Response | Exception, then: dict) -> Callable[[httpx.Request], httpx.Response]:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            if isinstance(first, Exception):
                raise first
            return first
        return httpx.Response(200, json=then)

    return handler


async def test_client_recognize_retries_server_errors():
    client, seen = client_with(flaky(httpx.Response(500, json={"code": "InternalError",
                                                                "message": "x"}), RECOGNITION_REPLY))
    result = await client.recognize(api_key="k", model="qwen3-asr-flash", audio="https://x/a.wav",
                                    language="zh", enable_itn=True, context="hot words")
    assert result.text == "欢迎使用阿里云。" and len(seen) == 2
    sent = json.loads(seen[1].content)
    assert sent["parameters"]["asr_options"] == {"language": "zh", "enable_itn": True}
    assert sent["input"]["messages"][0] == {"role": "system", "content": [{"text": "hot words"}]}


async def test_client_recognize_retries_a_timeout():
    client, seen = client_with(flaky(httpx.ReadTimeout("slow"), RECOGNITION_REPLY))
    assert (await client.recognize(api_key="k", model="m", audio="u")).text
    assert len(seen) == 2


async def test_client_submit_retries_throttling():
    client, seen = client_with(flaky(httpx.Response(429, json={
        "code": "Throttling.RateQuota", "message": "slow down"}), SUBMIT_REPLY))
    assert await client.submit_transcription(api_key="k", model="qwen3-asr-flash-filetrans",
                                             file_url="https://x/a.wav") == \
        SUBMIT_REPLY["output"]["task_id"]
    assert len(seen) == 2


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")])
async def test_client_submit_is_not_retried_when_the_task_may_exist(failure):
    client, seen = client_with(flaky(failure, SUBMIT_REPLY))
    with pytest.raises(UpstreamError) as info:
        await client.submit_transcription(api_key="k", model="qwen3-asr-flash-filetrans",
                                          file_url="https://x/a.wav")
    assert len(seen) == 1 and not info.value.retryable


async def test_client_polls_and_fetches_with_retries():
    client, seen = client_with(flaky(httpx.Response(503, text="busy"), DONE_REPLY))
    task = await client.get_transcription_task(api_key="k", task_id="8fab76d0")
    assert task.status == "SUCCEEDED" and len(seen) == 2
    fetcher, fetched = client_with(flaky(httpx.Response(502, text="bad gateway"), TRANSCRIPT))
    assert await fetcher.fetch_transcription(task.transcription_url) == TRANSCRIPT
    assert len(fetched) == 2 and "authorization" not in fetched[1].headers
