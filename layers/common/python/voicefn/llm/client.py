"""OpenAI's chat-completions wire format over httpx: one JSON reply, or SSE deltas.

One ``httpx.AsyncClient`` per event loop (pooled connections belong to the loop that opened
them). Every failure comes out as :class:`~voicefn.dashscope.errors.UpstreamError` (the
DashScope layer's error type, whose HTTP parsing already understands OpenAI's error shape);
:func:`voicefn.llm.errors.to_chat_error` renders it for clients. Leaving a :meth:`stream`
early closes the upstream response, so the upstream stops generating.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx

from voicefn.dashscope.errors import CONNECTION_ERROR, UNKNOWN, UpstreamError
from voicefn.dashscope.http import encode_body, error_from_response, translate_transport_errors
from voicefn.dashscope.useragent import USER_AGENT
from voicefn.llm.target import ChatTarget

_MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def public(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}

    @classmethod
    def parse(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, dict):
            return None
        return cls(int(raw.get("prompt_tokens") or raw.get("input_tokens") or 0),
                   int(raw.get("completion_tokens") or raw.get("output_tokens") or 0))


@dataclass(frozen=True)
class LlmChunk:
    """One streamed event: text (possibly empty), the finish reason once, usage at the end."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


def _headers(target: ChatTarget, *, sse: bool) -> dict[str, str]:
    return {"user-agent": USER_AGENT, "Authorization": f"Bearer {target.api_key}",
            "Content-Type": "application/json", "Accept": "text/event-stream" if sse else "application/json"}


def _chunk_of(data: dict[str, Any]) -> LlmChunk:
    if isinstance(data.get("error"), dict):  # an error sent inside the stream
        error = data["error"]
        raise UpstreamError(str(error.get("code") or UNKNOWN), str(error.get("message") or ""),
                            http_status=None, request_id=data.get("request_id"), retryable=False)
    text, finish = "", None
    choices = data.get("choices") or []
    if choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta") or choices[0].get("message") or {}
        text = str(delta.get("content") or "") if isinstance(delta, dict) else ""
        finish = choices[0].get("finish_reason") or None
    return LlmChunk(text, finish, Usage.parse(data.get("usage")))


class ChatClient:
    def __init__(self, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._transport = transport  # tests: an httpx.MockTransport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, transport=self._transport)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @staticmethod
    def _url(target: ChatTarget) -> str:
        return f"{target.base_url.rstrip('/')}/chat/completions"

    async def complete(self, target: ChatTarget, body: dict[str, Any]) -> dict[str, Any]:
        """The whole reply (``stream`` false): OpenAI's chat.completion object."""
        payload = {**body, "model": target.model, "stream": False}
        with translate_transport_errors():
            response = await self._http().post(self._url(target), content=encode_body(payload),
                                                headers=_headers(target, sse=False))
        if not response.is_success:
            raise error_from_response(response.status_code, response.headers, response.content)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise UpstreamError(UNKNOWN, "the LLM endpoint returned no chat completion",
                                http_status=response.status_code, retryable=False)
        return data

    async def stream(self, target: ChatTarget, body: dict[str, Any]) -> AsyncGenerator[LlmChunk, None]:
        """The reply as it is generated, usage included (``stream_options.include_usage``)."""
        payload = {**body, "model": target.model, "stream": True,
                   "stream_options": {"include_usage": True}}
        finished = False
        with translate_transport_errors():
            async with self._http().stream("POST", self._url(target), content=encode_body(payload),
                                           headers=_headers(target, sse=True)) as response:
                if not response.is_success:
                    content = b""
                    async for part in response.aiter_bytes():
                        content += part
                        if len(content) >= _MAX_ERROR_BODY:
                            break
                    raise error_from_response(response.status_code, response.headers, content)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        parsed = json.loads(data)
                    except ValueError:
                        raise UpstreamError(UNKNOWN, "the LLM endpoint sent an event that is not JSON",
                                            retryable=False) from None
                    if not isinstance(parsed, dict):
                        continue
                    chunk = _chunk_of(parsed)
                    finished = finished or chunk.finish_reason is not None
                    yield chunk
        if not finished:
            raise UpstreamError(CONNECTION_ERROR, "the LLM stream ended before the reply did")
