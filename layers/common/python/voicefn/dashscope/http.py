"""DashScope's native HTTP API (``{base}/services/...``, ``/tasks/{id}``), spoken over httpx.

Requests carry the headers the SDK 2.0.2 sends (reference §0) and bodies serialised as the SDK
does (``json.dumps(..., ensure_ascii=False)`` in UTF-8), so the server sees the same bytes; only
the user-agent names voicefn. Every failure comes out as :class:`UpstreamError`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from voicefn.dashscope.errors import CONNECTION_ERROR, REQUEST_TIMEOUT, UNKNOWN, UpstreamError
from voicefn.dashscope.sse import iter_payloads
from voicefn.dashscope.useragent import USER_AGENT

JSON_TYPE = "application/json; charset=utf-8"
SSE_TYPE = "text/event-stream"
_MAX_ERROR_BODY = 64 * 1024


def request_headers(api_key: str, *, sse: bool = False, async_task: bool = False,
                    body: bool = True, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The SDK's header set for one request (SSE and async headers only when asked for)."""
    headers = {"user-agent": USER_AGENT, "Accept": SSE_TYPE if sse else JSON_TYPE,
               "Authorization": f"Bearer {api_key}"}
    if body:
        headers["Content-Type"] = JSON_TYPE
    if sse:
        headers["X-Accel-Buffering"] = "no"
        headers["X-DashScope-SSE"] = "enable"
    if async_task:
        headers["X-DashScope-Async"] = "enable"
    if extra:
        headers.update(extra)
    return headers


def encode_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        value = float(headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def error_from_response(status: int, headers: httpx.Headers, content: bytes) -> UpstreamError:
    """A non-2xx reply as UpstreamError: JSON ``{code, message, request_id}``, else code Unknown."""
    text = content.decode("utf-8", "replace")
    if SSE_TYPE in headers.get("content-type", ""):
        # An SSE-typed error body: its first data line holds the JSON (the SDK does the same).
        text = next((ln[5:].strip() for ln in text.splitlines() if ln.startswith("data:")), text)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = {**data["error"], "request_id": data.get("request_id")}  # compatible-mode shape
    if isinstance(data, dict) and (data.get("code") or data.get("message")):
        return UpstreamError(str(data.get("code") or UNKNOWN),
                             str(data.get("message") or data.get("msg") or ""),
                             http_status=status, request_id=data.get("request_id"),
                             retry_after=_retry_after(headers))
    return UpstreamError(UNKNOWN, text.strip()[:500] or f"HTTP {status}", http_status=status,
                         retry_after=_retry_after(headers))


@contextmanager
def translate_transport_errors() -> Iterator[None]:
    """httpx timeouts and connection failures, as retryable UpstreamErrors."""
    try:
        yield
    except httpx.TimeoutException as e:
        raise UpstreamError(REQUEST_TIMEOUT, f"DashScope timed out ({type(e).__name__})") from e
    except httpx.TransportError as e:
        raise UpstreamError(CONNECTION_ERROR,
                            f"connection to DashScope failed ({type(e).__name__})") from e


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(UNKNOWN, "DashScope returned a body that is not a JSON object",
                            http_status=response.status_code, retryable=False)
    return data


class DashScopeHttp:
    """One shared httpx.AsyncClient per instance, created on first use; close with :meth:`aclose`.

    A client handed in is used as is and left open by :meth:`aclose` (its owner closes it).
    """

    def __init__(self, base_url: str, *, timeout_s: float,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._client = client
        self._owns_client = client is None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        # Pooled connections belong to the loop that opened them; a handler that runs each
        # invocation in a new loop (and pytest) must not reuse them from another loop.
        if self._owns_client and (self._client is None or self._loop is not loop):
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
            self._loop = loop
        assert self._client is not None
        return self._client

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    async def post(self, path: str, body: dict[str, Any], *, api_key: str, sse: bool = False,
                   async_task: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST a native request; returns the reply envelope (with ``sse``, the last event)."""
        if sse:
            last: dict[str, Any] = {}
            async for payload in self.stream(path, body, api_key=api_key, headers=headers):
                last = payload
            return last
        hdrs = request_headers(api_key, async_task=async_task, extra=headers)
        with translate_transport_errors():
            response = await self._http().post(self.url(path), content=encode_body(body),
                                               headers=hdrs, timeout=self.timeout)
        if not response.is_success:
            raise error_from_response(response.status_code, response.headers, response.content)
        return _json_body(response)

    async def stream(self, path: str, body: dict[str, Any], *, api_key: str,
                     headers: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        """POST with the SSE headers; yield each event's payload as it arrives."""
        hdrs = request_headers(api_key, sse=True, extra=headers)
        with translate_transport_errors():
            async with self._http().stream("POST", self.url(path), content=encode_body(body),
                                           headers=hdrs, timeout=self.timeout) as response:
                if not response.is_success:
                    content = await _read_capped(response, _MAX_ERROR_BODY)
                    raise error_from_response(response.status_code, response.headers, content)
                if SSE_TYPE not in response.headers.get("content-type", ""):
                    # The server answered in one piece: that one reply is the whole stream.
                    await response.aread()
                    yield _json_body(response)
                    return
                async for payload in iter_payloads(response.aiter_lines()):
                    yield payload

    async def get_task(self, task_id: str, *, api_key: str) -> dict[str, Any]:
        """``GET /tasks/{id}``: no Async header, no body (as the SDK polls)."""
        hdrs = request_headers(api_key, body=False)
        with translate_transport_errors():
            response = await self._http().get(self.url(f"tasks/{task_id}"), headers=hdrs,
                                              timeout=self.timeout)
        if not response.is_success:
            raise error_from_response(response.status_code, response.headers, response.content)
        return _json_body(response)

    async def fetch_bytes(self, url: str, *, max_bytes: int) -> bytes:
        """Download a result URL (signed, so no API key is sent), refusing more than max_bytes."""
        with translate_transport_errors():
            async with self._http().stream("GET", url, headers={"user-agent": USER_AGENT},
                                           timeout=self.timeout) as response:
                if not response.is_success:
                    content = await _read_capped(response, _MAX_ERROR_BODY)
                    raise error_from_response(response.status_code, response.headers, content)
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(max_bytes)
                content = await _read_capped(response, max_bytes + 1)
                if len(content) > max_bytes:
                    raise _too_large(max_bytes)
                return content


def _too_large(max_bytes: int) -> UpstreamError:
    return UpstreamError("ResultTooLarge", f"result is larger than {max_bytes} bytes",
                         retryable=False)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """Read at most ``limit`` bytes of a streamed body, then stop reading."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]
