"""The local voicefn stack the function suites run against, and helpers to drive it.

The stack is what `voicefn serve` runs (every function of s.yaml, the embedded DashScope, the
local object server), started once per test session on a free loopback port, with the
deterministic engine so that durations are exact. Tests isolate themselves by user id.
"""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

STACK_ENV = ("VOICEFN_RUNTIME", "VOICEFN_DATA_DIR", "VOICEFN_PUBLIC_BASE_URL", "DASHSCOPE_HTTP_BASE_URL",
             "DASHSCOPE_WEBSOCKET_BASE_URL", "DASHSCOPE_COMPATIBLE_BASE_URL", "DASHSCOPE_API_KEY",
             "VOICEFN_PLATFORM_KEY_USERS", "VOICEFN_FAKE_ENGINE", "VOICEFN_JWT_SECRET", "VOICEFN_MASTER_KEY",
             "VOICEFN_UPSTREAM_RETRIES", "VOICEFN_UPSTREAM_TIMEOUT_S", "VOICEFN_UPSTREAM_RETRY_BUDGET_S")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    base_url: str
    ws_url: str
    data_dir: Path

    def token(self, user: str) -> str:
        from voicefn.auth.jwt import issue_token, local_jwt_secret
        from voicefn.settings import get_settings

        return issue_token(user, local_jwt_secret(get_settings()))

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def client(self, user: str | None = None, **kw: object) -> httpx.Client:
        headers = self.headers(user) if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kw)

    def emulator(self, path: str, method: str = "GET", **kw: object) -> httpx.Response:
        return httpx.request(method, f"{self.base_url}/dashscope{path}", timeout=30, **kw)

    def stats(self) -> dict:
        return self.emulator("/_admin/stats").json()

    def set_faults(self, rules: list[dict]) -> None:
        self.emulator("/_admin/faults", "POST", json=rules).raise_for_status()

    def clear_faults(self) -> None:
        self.emulator("/_admin/faults", "DELETE").raise_for_status()

    def fetch(self, url: str) -> bytes:
        response = httpx.get(url, timeout=30)
        response.raise_for_status()
        return response.content


def reload_settings() -> None:
    from voicefn.services import reset_services
    from voicefn.settings import reset_settings

    reset_settings()
    reset_services()




def apply_env(changes: dict[str, str]) -> None:
    """Set (or, with "", unset) variables and rebuild settings and adapters."""
    for name, value in changes.items():
        if value == "":
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reload_settings()
