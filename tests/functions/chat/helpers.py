"""Helpers for the chat function's tests: the official openai client on the local stack, and
the embedded DashScope's scripted chat engine (``/_admin/chat-scripts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from openai import OpenAI

from tests.stack import Stack
from tests.voicefn_local.dashscope.chat_helpers import sse_events

__all__ = ["chat_calls", "openai_client", "script", "sse_events"]


def openai_client(stack: Stack, user: str) -> OpenAI:
    return OpenAI(api_key=stack.token(user), base_url=f"{stack.base_url}/v1", max_retries=0, timeout=60)


def script(stack: Stack, *scripts: dict[str, Any]) -> None:
    """Replies of the scripted engine (each limited to prompts containing ``when_contains``)."""
    stack.emulator("/_admin/chat-scripts", "POST", json=list(scripts)).raise_for_status()


def chat_calls(stack: Stack) -> list[dict[str, Any]]:
    return stack.emulator("/_admin/chat-calls").json()["calls"]


def leave_mid_stream(client: httpx.Client, body: dict[str, Any], *, events: int, ready: Callable[[], bool]) -> None:
    """Stream a completion and go away once ``events`` chunks came and ``ready()`` holds."""
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        seen = 0
        for line in response.iter_lines():
            if line.startswith("data: {"):
                seen += 1
            if seen >= events and ready():
                return
