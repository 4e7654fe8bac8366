"""voicefn.llm: the chat client over a mock upstream (httpx.MockTransport), the error statuses a
chat client sees, where a request goes (DashScope on the user's key, or a configured endpoint
with a model map), and that leaving a stream early closes the upstream response."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError
from voicefn.errors import ApiError
from voicefn.llm import ChatClient, ChatTarget, resolve_target
from voicefn.llm.errors import to_chat_error
from voicefn.services import Services
from voicefn.settings import Settings

TARGET = ChatTarget("https://llm.example.com/v1", "sk-user", "qwen-plus", "qwen-plus")


def sse(*events: Any) -> bytes:
    return b"".join(b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events)


def chunk(text: str = "", finish: str | None = None, usage: dict[str, int] | None = None) -> dict[str, Any]:
    choices = [] if usage else [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices, "usage": usage}


def client_for(handler: Any) -> ChatClient:
    return ChatClient(timeout_s=5, transport=httpx.MockTransport(handler))


async def collect(client: ChatClient) -> list[Any]:
    return [c async for c in client.stream(TARGET, {"messages": [{"role": "user", "content": "hi"}]})]


def test_stream_sends_the_openai_body_and_parses_deltas_and_usage() -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["auth"], seen["body"] = str(request.url), request.headers["authorization"], \
            json.loads(request.content)
        body = sse(chunk("Hel"), chunk("lo."), chunk("", "stop"),
                   chunk(usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}), b"[DONE]")
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    chunks = asyncio.run(collect(client_for(handler)))
    assert seen["url"] == "https://llm.example.com/v1/chat/completions"
    assert seen["auth"] == "Bearer sk-user"
    assert seen["body"]["model"] == "qwen-plus" and seen["body"]["stream"] is True
    assert seen["body"]["stream_options"] == {"include_usage": True}
    assert "".join(c.text for c in chunks) == "Hello."
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5


def test_complete_returns_the_completion() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is False
        return httpx.Response(200, json={"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]})

    done = asyncio.run(client_for(handler).complete(TARGET, {"messages": []}))
    assert done["choices"][0]["message"]["content"] == "Hi"


@pytest.mark.parametrize("status, body, code, http", [
    (401, {"error": {"message": "bad key", "code": "invalid_api_key"}}, "UNAUTHORIZED", 401),
    (400, {"error": {"message": "messages is empty", "code": "invalid_parameter_error"}}, "INVALID_PARAMETER", 400),
    (404, {"error": {"message": "no model", "code": "model_not_found"}}, "MODEL_NOT_FOUND", 404),
    (429, {"error": {"message": "slow down", "code": "limit_requests"}}, "RATE_LIMITED", 429),
    (500, {"error": {"message": "boom", "code": "internal_error"}}, "UPSTREAM_ERROR", 502),
    (503, b"<html>gateway</html>", "UPSTREAM_ERROR", 502),
    (504, {"error": {"message": "timeout", "code": "timeout"}}, "TIMEOUT", 504),
])
def test_upstream_errors_get_openai_statuses(status: int, body: Any, code: str, http: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    with pytest.raises(UpstreamError) as raised:
        asyncio.run(collect(client_for(handler)))
    err = to_chat_error(raised.value, "qwen-plus")
    assert (err.code, err.status) == (code, http)


def test_transport_failures() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler, expected in ((timeout, (504, "TIMEOUT")), (refused, (502, "UPSTREAM_ERROR"))):
        with pytest.raises(UpstreamError) as raised:
            asyncio.run(collect(client_for(handler)))
        err = to_chat_error(raised.value, "qwen-plus")
        assert (err.status, err.code) == expected


def test_a_stream_that_breaks_off_or_reports_an_error_fails() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(chunk("Half a")), headers={"content-type": "text/event-stream"})

    def told(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(chunk("Hi"), {"error": {"code": "internal_error", "message": "x"}}),
                              headers={"content-type": "text/event-stream"})

    for handler in (cut, told):
        with pytest.raises(UpstreamError) as raised:
            asyncio.run(collect(client_for(handler)))
        assert to_chat_error(raised.value, "qwen-plus").status == 502


def test_leaving_a_stream_early_closes_the_upstream_response() -> None:
    closed = asyncio.Event()

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            while True:
                yield sse(chunk("more "))
                await asyncio.sleep(0.01)

        async def aclose(self) -> None:
            closed.set()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Endless(), headers={"content-type": "text/event-stream"})

    async def main() -> None:
        client = client_for(handler)
        stream = client.stream(TARGET, {"messages": []})
        async for _ in stream:
            break
        await stream.aclose()
        await asyncio.wait_for(closed.wait(), 1)

    asyncio.run(main())


class _State:
    async def get_user_settings(self, user_id: str) -> None:
        return None


def test_where_a_request_goes(tmp_path: Any) -> None:
    principal = Principal(user_id="u1")
    base = Settings(data_dir=tmp_path, platform_api_key="sk-platform", platform_key_users=("*",))
    services = Services(base, state=_State())  # type: ignore[arg-type]
    target = asyncio.run(resolve_target(principal, services, "qwen-turbo"))
    assert (target.base_url, target.api_key, target.model) == (base.dashscope_compat_url, "sk-platform", "qwen-turbo")
    with pytest.raises(ApiError) as unknown:
        asyncio.run(resolve_target(principal, services, "gpt-4o"))
    assert (unknown.value.status, unknown.value.code) == (404, "MODEL_NOT_FOUND")

    custom = Services(replace(base, llm_base_url="https://modelscope.example/v1", llm_api_key="ms-key",
                              llm_model_map={"qwen-plus": "Qwen/Qwen3-235B-A22B-Instruct-2507"}),
                      state=_State())  # type: ignore[arg-type]
    mapped = asyncio.run(resolve_target(principal, custom, "qwen-plus"))
    assert (mapped.base_url, mapped.api_key, mapped.model, mapped.requested) == (
        "https://modelscope.example/v1", "ms-key", "Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen-plus")
    assert "ms-key" not in repr(mapped)
