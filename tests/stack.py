"""The local voicefn stack the function suites run against, and helpers to drive it.

The stack is what `voicefn serve` runs (every function of s.yaml, the embedded DashScope, the
local object server), started once per test session on a free loopback port, with the
deterministic engine so that durations are exact. Tests isolate themselves by user id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent

STACK_ENV = ("VOICEFN_RUNTIME", "VOICEFN_DATA_DIR", "VOICEFN_PUBLIC_BASE_URL", "DASHSCOPE_HTTP_BASE_URL",
             "DASHSCOPE_WEBSOCKET_BASE_URL", "DASHSCOPE_COMPATIBLE_BASE_URL", "DASHSCOPE_API_KEY",
             "VOICEFN_PLATFORM_KEY_USERS", "VOICEFN_FAKE_ENGINE", "VOICEFN_JWT_SECRET", "VOICEFN_MASTER_KEY",
             "VOICEFN_UPSTREAM_RETRIES", "VOICEFN_UPSTREAM_TIMEOUT_S", "VOICEFN_UPSTREAM_RETRY_BUDGET_S",
             "VOICEFN_ASR_TASK_DEADLINE_S")


def admin_headers(data_dir: Path) -> dict[str, str]:
    """The embedded DashScope's admin token of a data dir (its /_admin routes need it)."""
    from voicefn_local.dashscope.admin_token import admin_headers as headers, load_admin_token

    return headers(load_admin_token(data_dir / "dashscope"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    base_url: str
    ws_url: str
    data_dir: Path
    app: Any = None  # the LocalApp being served

    @property
    def services(self) -> Any:
        """The Services the stack serves with (its settings, state store, object store…)."""
        return self.app.services

    @property
    def settings(self) -> Any:
        return self.services.settings

    def use_services(self, services: Any) -> None:
        self.app.use_services(services)

    def override_settings(self, **changes: Any) -> Any:
        """Serve with ``dataclasses.replace(settings, **changes)`` and fresh adapters from now on."""
        from voicefn.services import Services

        services = Services(replace(self.settings, **changes))
        self.use_services(services)
        return services

    def token(self, user: str) -> str:
        from voicefn.auth.jwt import issue_token, local_jwt_secret

        return issue_token(user, local_jwt_secret(self.settings))

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def client(self, user: str | None = None, **kw: object) -> httpx.Client:
        headers = self.headers(user) if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kw)

    def emulator(self, path: str, method: str = "GET", **kw: object) -> httpx.Response:
        headers = {**admin_headers(self.data_dir), **dict(kw.pop("headers", None) or {})}  # type: ignore[call-overload]
        return httpx.request(method, f"{self.base_url}/dashscope{path}", timeout=30, headers=headers, **kw)

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


@contextmanager
def isolated_env(*, clear: bool = False) -> Iterator[None]:
    """Save the stack's variables (optionally clearing them); restore them and settings on exit."""
    saved = {name: os.environ.get(name) for name in STACK_ENV}
    if clear:
        for name in STACK_ENV:
            os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reload_settings()


_serving: list[Stack] = []  # the session's stack (set by the conftest fixture), for apply_env


def apply_env(changes: dict[str, str]) -> None:
    """Compatibility: the stack serves as if these variables were set (until the test ends, with
    the ``settings_override`` fixture). Prefer ``settings_override(field=value)``."""
    from dataclasses import fields

    from voicefn.settings import load_settings

    before, after = load_settings({}), load_settings({k: v for k, v in changes.items() if v})
    changed = {f.name: getattr(after, f.name) for f in fields(after)
               if getattr(after, f.name) != getattr(before, f.name)}
    _serving[-1].override_settings(**changed)


def reload_settings() -> None:
    """Forget the process's cached settings and Services (tests that build their own from env)."""
    from voicefn.services import reset_services
    from voicefn.settings import reset_settings

    reset_settings()
    reset_services()


class ServeProcess:
    """`voicefn serve` as a user runs it: its own process, data dir and port (restartable)."""

    def __init__(self, data_dir: Path, *, engine: str = "deterministic", port: int | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.extra_env = dict(extra_env or {})
        self.engine = engine
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: "subprocess.Popen[bytes] | None" = None

    @property
    def cli(self) -> list[str]:
        return [sys.executable, "-m", "voicefn_local.cli"]

    @property
    def env(self) -> dict[str, str]:
        return {**{k: v for k, v in os.environ.items() if not k.startswith(("VOICEFN_", "DASHSCOPE_"))},
                **self.extra_env}

    @property
    def log_path(self) -> Path:
        """The server's output (appended across restarts): what a failing test shows."""
        return self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self, timeout_s: float = 60.0) -> "ServeProcess":
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.cli, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--engine", self.engine], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("voicefn serve did not come up")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()  # a crash: no shutdown hooks run
        else:
            self.proc.terminate()
        self.proc.wait(timeout=20)
        self.proc = None

    def token(self, user: str) -> str:
        return subprocess.run([*self.cli, "token", "--user", user, "--data-dir", str(self.data_dir)], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, check=True).stdout.strip()

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token(user)}"},
                            timeout=60)


def function_handler(function: str):
    """``functions/<function>/index.py``'s ``handler``, loaded as FC loads it (by file)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{function}_index", ROOT / "functions" / function / "index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler
