"""DashScopeHttp: headers and bodies as the SDK sends them, replies, SSE, and every failure."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.dashscope.http import DashScopeHttp

BASE = "http://dashscope.test/api/v1"
PROTOCOL_HEADERS = ("authorization", "accept", "content-type", "x-dashscope-async",
                    "x-dashscope-sse", "x-accel-buffering")


def mock_http(handler: Callable[[httpx.Request], httpx.Response], base: str = BASE,
              timeout_s: float = 5.0) -> tuple[DashScopeHttp, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return DashScopeHttp(base, timeout_s=timeout_s, client=client), seen


def ok(payload: dict | None = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=payload or {"request_id": "r1", "output": {}})


def sse(*blocks: str, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    body = "".join(blocks).encode()
    headers = {"content-type": "text/event-stream;charset=UTF-8"}
    return lambda request: httpx.Response(status, content=body, headers=headers)


def block(data: dict, *, event: str = "result", n: int = 1, status: int = 200) -> str:
    return f"id:{n}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{json.dumps(data)}\n\n"


def protocol_headers(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in PROTOCOL_HEADERS}


# --- conformance with the capture ------------------------------------------------------------

async def test_every_captured_request_is_reproduced(captured_http: dict) -> None:
    """For each request the SDK sent: same path, same body bytes, same protocol headers."""
    record = captured_http
    prefix = "/compatible-mode/v1" if record["path"].startswith("/compatible-mode/") else "/api/v1"
    base = "http://127.0.0.1:18080" + prefix
    path = record["path"][len(prefix):]
    sdk = record["headers"]
    key = sdk["Authorization"].removeprefix("Bearer ")
    is_sse = sdk.get("Accept") == "text/event-stream"
    reply = sse(block({"request_id": "r", "output": {}})) if is_sse else ok()
    http, seen = mock_http(reply, base=base)
    if record["method"] == "GET":
        await http.get_task(path.rsplit("/", 1)[1], api_key=key)
    else:
        await http.post(path, record["body"], api_key=key, sse=is_sse,
                        async_task=sdk.get("X-DashScope-Async") == "enable")
    sent = seen[0]
    assert (sent.method, sent.url.path) == (record["method"], record["path"])
    assert protocol_headers(sent.headers) == protocol_headers(sdk)
    assert sent.headers["user-agent"].startswith("voicefn/")
    if record["body"] is not None:
        assert sent.headers["content-length"] == sdk["Content-Length"]
        assert sent.content.decode() == json.dumps(record["body"], ensure_ascii=False)


# --- success, headers ------------------------------------------------------------------------

async def test_post_returns_the_envelope_and_sends_json_headers_only() -> None:
    http, seen = mock_http(ok({"request_id": "r1", "output": {"x": 1}, "usage": {}}))
    reply = await http.post("/services/aigc/x/generation", {"model": "m", "input": {}},
                            api_key="sk-1")
    assert reply["output"] == {"x": 1}
    headers = seen[0].headers
    assert headers["authorization"] == "Bearer sk-1"
    assert headers["accept"] == "application/json; charset=utf-8"
    assert headers["content-type"] == "application/json; charset=utf-8"
    for absent in ("x-dashscope-async", "x-dashscope-sse", "x-accel-buffering"):
        assert absent not in headers


async def test_async_header_only_on_async_submit() -> None:
    http, seen = mock_http(ok({"request_id": "r", "output": {"task_id": "t1",
                                                             "task_status": "PENDING"}}))
    submitted = await http.post("services/audio/asr/transcription", {"model": "m"},
                                api_key="k", async_task=True)
    task = await http.get_task(submitted["output"]["task_id"], api_key="k")
    assert seen[0].headers["x-dashscope-async"] == "enable"
    assert seen[1].method == "GET" and seen[1].url.path == "/api/v1/tasks/t1"
    assert "x-dashscope-async" not in seen[1].headers
    assert "content-type" not in seen[1].headers
    assert task["output"]["task_status"] == "PENDING"


async def test_extra_headers_are_added() -> None:
    http, seen = mock_http(ok())
    await http.post("p", {}, api_key="k", headers={"X-DashScope-WorkSpace": "ws-1"})
    assert seen[0].headers["x-dashscope-workspace"] == "ws-1"


# --- error envelopes -------------------------------------------------------------------------

@pytest.mark.parametrize("status,code,message,retryable,api_code", [
    (400, "InvalidParameter", "Required parameter(s) missing or invalid", False,
     "INVALID_PARAMETER"),
    (400, "InvalidParameter", "voice not found: longfoo", False, "INVALID_VOICE"),
    (401, "InvalidApiKey", "Invalid API-key provided.", False, "UNAUTHORIZED"),
    (403, "AccessDenied.Unpurchased", "Access denied.", False, "UPSTREAM_ERROR"),
    (404, "ModelNotFound", "Model not exist.", False, "INVALID_MODEL"),
    (429, "Throttling.RateQuota", "Requests rate limit exceeded", True, "RATE_LIMITED"),
    (500, "InternalError", "An internal error has occured", True, "UPSTREAM_ERROR"),
    (503, "ModelUnavailable", "Model is unavailable", True, "UPSTREAM_ERROR"),
])
async def test_error_envelopes_become_upstream_errors(status, code, message, retryable,
                                                      api_code) -> None:
    http, _ = mock_http(lambda r: httpx.Response(
        status, json={"request_id": "req-9", "code": code, "message": message}))
    with pytest.raises(UpstreamError) as info:
        await http.post("p", {}, api_key="sk-secret")
    err = info.value
    assert (err.code, err.message, err.http_status, err.request_id, err.retryable) == \
        (code, message, status, "req-9", retryable)
    api = to_api_error(err)
    assert api.code == api_code
    assert "sk-secret" not in repr(err) + api.message


async def test_429_retry_after_reaches_the_api_error() -> None:
    http, _ = mock_http(lambda r: httpx.Response(
        429, headers={"Retry-After": "3"},
        json={"request_id": "r", "code": "Throttling", "message": "slow down"}))
    with pytest.raises(UpstreamError) as info:
        await http.post("p", {}, api_key="k")
    assert info.value.retry_after == 3.0
    api = to_api_error(info.value)
    assert (api.code, api.status, api.retry_after) == ("RATE_LIMITED", 429, 3.0)


async def test_non_json_error_body_is_code_unknown() -> None:
    http, _ = mock_http(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(UpstreamError) as info:
        await http.post("p", {}, api_key="k")
    assert (info.value.code, info.value.message) == ("Unknown", "<html>Bad Gateway</html>")
    assert info.value.retryable  # a 5xx, whatever the body


# --- SSE ---------------------------------------------------------------------------------------

async def test_stream_yields_each_event_payload() -> None:
    http, seen = mock_http(sse(block({"output": {"n": 1}, "request_id": "r"}, n=1),
                               ":heartbeat\n\n",
                               block({"output": {"n": 2}, "request_id": "r"}, n=2)))
    got = [p["output"]["n"] async for p in http.stream("p", {"model": "m"}, api_key="k")]
    assert got == [1, 2]
    headers = seen[0].headers
    assert headers["accept"] == "text/event-stream"
    assert headers["x-dashscope-sse"] == "enable" and headers["x-accel-buffering"] == "no"


async def test_stream_mid_stream_error_event_raises_after_earlier_events() -> None:
    http, _ = mock_http(sse(
        block({"output": {"n": 1}}),
        "id:2\nevent:error\n:HTTP_STATUS/429\ndata:"
        + json.dumps({"code": "Throttling.RateQuota", "message": "limit", "request_id": "r7"})
        + "\n\n",
        block({"output": {"n": 3}})))
    got = []
    with pytest.raises(UpstreamError) as info:
        async for payload in http.stream("p", {}, api_key="k"):
            got.append(payload["output"]["n"])
    assert got == [1]
    assert (info.value.code, info.value.http_status, info.value.request_id) == \
        ("Throttling.RateQuota", 429, "r7")
    assert info.value.retryable


async def test_stream_error_without_status_defaults_to_400_like_the_sdk() -> None:
    http, _ = mock_http(sse("event:error\ndata:" + json.dumps(
        {"code": "InvalidParameter", "message": "bad"}) + "\n"))  # no trailing blank line
    with pytest.raises(UpstreamError) as info:
        [p async for p in http.stream("p", {}, api_key="k")]
    assert (info.value.code, info.value.http_status) == ("InvalidParameter", 400)


async def test_stream_http_error_before_any_event() -> None:
    http, _ = mock_http(lambda r: httpx.Response(
        401, json={"code": "InvalidApiKey", "message": "No API-key provided."}))
    with pytest.raises(UpstreamError) as info:
        [p async for p in http.stream("p", {}, api_key="")]
    assert to_api_error(info.value).code == "UNAUTHORIZED"


async def test_post_with_sse_returns_the_last_event() -> None:
    http, _ = mock_http(sse(block({"output": {"n": 1}}), block({"output": {"n": 2}})))
    assert (await http.post("p", {}, api_key="k", sse=True))["output"] == {"n": 2}


# --- transport failures -------------------------------------------------------------------------

async def test_timeout_maps_to_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = DashScopeHttp(f"http://127.0.0.1:{port}/api/v1", timeout_s=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamError) as info:
            await http.post("p", {}, api_key="k")
    finally:
        await http.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 1.5
    assert info.value.code == "RequestTimeOut" and info.value.retryable
    api = to_api_error(info.value)
    assert (api.code, api.status) == ("TIMEOUT", 504)


async def test_connection_refused_is_retryable_upstream_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = DashScopeHttp(f"http://127.0.0.1:{port}/api/v1", timeout_s=1.0)
    with pytest.raises(UpstreamError) as info:
        await http.get_task("t", api_key="k")
    await http.aclose()
    assert info.value.code == "ConnectionError" and info.value.retryable
    assert to_api_error(info.value).code == "UPSTREAM_ERROR"


# --- result downloads ------------------------------------------------------------------------

async def test_fetch_bytes_downloads_without_the_api_key() -> None:
    http, seen = mock_http(lambda r: httpx.Response(200, content=b"RIFF....WAVE"))
    assert await http.fetch_bytes("https://oss.test/a.wav?Expires=1", max_bytes=100) == \
        b"RIFF....WAVE"
    assert "authorization" not in seen[0].headers


async def test_fetch_bytes_refuses_oversized_results() -> None:
    async def endless():
        for _ in range(1000):
            yield b"x" * 1024

    declared, _ = mock_http(lambda r: httpx.Response(200, content=b"x" * 200))
    with pytest.raises(UpstreamError) as info:
        await declared.fetch_bytes("https://oss.test/a", max_bytes=100)
    assert info.value.code == "ResultTooLarge" and not info.value.retryable
    streamed, _ = mock_http(lambda r: httpx.Response(200, content=endless()))
    with pytest.raises(UpstreamError):
        await streamed.fetch_bytes("https://oss.test/b", max_bytes=4096)


async def test_fetch_bytes_expired_url() -> None:
    http, _ = mock_http(lambda r: httpx.Response(403, text="AccessDenied: Request has expired"))
    with pytest.raises(UpstreamError) as info:
        await http.fetch_bytes("https://oss.test/a", max_bytes=100)
    assert info.value.http_status == 403 and not info.value.retryable


async def test_own_client_is_created_lazily_and_closed() -> None:
    http = DashScopeHttp("http://x/api/v1/", timeout_s=1.0)
    assert http._client is None
    assert http.url("/tasks/1") == "http://x/api/v1/tasks/1"
    http._http()
    client = http._client
    await http.aclose()
    assert client is not None and client.is_closed
