"""Helpers for the compatible-mode chat tests: an emulator with the scripted engine, scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai

from tests.voicefn_local.dashscope.ds_helpers import admin, stats
from voicefn_local.servers import ServerHandle

CHAT_URL = "/compatible-mode/v1/chat/completions"
KEY = {"Authorization": "Bearer sk-test"}
HELLO = [{"role": "user", "content": "Hello there"}]


def compat_url(server: ServerHandle) -> str:
    return f"{server.base_url}/compatible-mode/v1"


def client(server: ServerHandle, key: str = "sk-test", **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=compat_url(server), api_key=key, max_retries=0, **options)


def script_header(**script: Any) -> dict[str, str]:
    return {"X-Fake-Chat-Script": json.dumps(script)}


def set_scripts(server: ServerHandle, scripts: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.base_url}/_admin/chat-scripts", json=scripts, headers=admin(server))
    assert response.status_code == 200, response.text


def chat_calls(server: ServerHandle) -> list[dict[str, Any]]:
    return httpx.get(f"{server.base_url}/_admin/chat-calls", headers=admin(server)).json()["calls"]


def post_chat(server: ServerHandle, body: dict[str, Any], headers: dict[str, str] | None = None,
              **options: Any) -> httpx.Response:
    return httpx.post(f"{server.base_url}{CHAT_URL}", json=body, headers={**KEY, **(headers or {})},
                      timeout=30, **options)


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def sse_events(text: str) -> list[Any]:
    """The ``data:`` payloads of an OpenAI-style event stream (``[DONE]`` as the string)."""
    out: list[Any] = []
    for line in text.splitlines():
        if line.startswith("data: "):
            payload = line[len("data: "):]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


__all__ = ["admin", "stats"]
