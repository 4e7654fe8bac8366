"""The in-process tier of voicefn/asr: real services (SQLite, local objects in a temp dir)
around a FAKE DashScope client object. No emulator, no sockets: a failure shows up where the
code is, and each test runs in milliseconds.

:class:`FakeDashScope` has exactly the methods voicefn.asr calls (``recognize``,
``submit_transcription``, ``get_transcription_task``, ``fetch_transcription``). Each answers
from its script, in order (an :class:`UpstreamError` in a script is raised; the last entry of a
task-status script repeats), and every call is recorded with its arguments. A user's URL is
"fetched" through the guard's own seams (``voicefn.asr.intake.SEAMS``): a public resolver and an
``httpx.MockTransport`` playing the user's server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from voicefn.asr import intake
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone
from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.results import AsrResult, TranscriptionTask
from voicefn.services import Services, using_services
from voicefn.settings import Settings

PUBLIC_IP = "93.184.216.34"
RESULT_URL = "https://dashscope-result.example.com/result.json?Signature=x"


def wav(seconds: float, rate: int = 16000, freq: float = 330.0) -> bytes:
    return encode_pcm(tone(seconds, rate, freq=freq), "wav", rate)


def _next(script: list[Any], default: Any, *, repeat_last: bool = False) -> Any:
    if not script:
        return default
    item = script[0] if repeat_last and len(script) == 1 else script.pop(0)
    if isinstance(item, UpstreamError):
        raise item
    return item


@dataclass
class FakeDashScope:
    """Stands in for :class:`voicefn.dashscope.client.DashScopeClient` (its ASR half)."""

    recognitions: list[AsrResult | UpstreamError] = field(default_factory=list)
    submissions: list[str | UpstreamError] = field(default_factory=list)
    statuses: list[TranscriptionTask | UpstreamError] = field(default_factory=list)
    documents: list[dict[str, Any] | UpstreamError] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]

    async def recognize(self, *, api_key: str, model: str, audio: str, language: str | None = None,
                        enable_itn: bool = False, context: str | None = None) -> AsrResult:
        self.calls.append(("recognize", {"api_key": api_key, "model": model, "audio": audio,
                                         "language": language, "enable_itn": enable_itn, "context": context}))
        result: AsrResult = _next(self.recognitions, AsrResult(
            text="你好", language="zh", emotion="neutral", seconds=2, usage={"seconds": 2}, request_id="fake"))
        return result

    async def submit_transcription(self, *, api_key: str, model: str, file_url: str,
                                   channel_id: Any = (0,), language: str | None = None,
                                   enable_itn: bool = False, enable_words: bool = True) -> str:
        self.calls.append(("submit_transcription", {"api_key": api_key, "model": model, "file_url": file_url,
                                                    "channel_id": list(channel_id), "language": language,
                                                    "enable_itn": enable_itn}))
        upstream_id: str = _next(self.submissions, f"up-{len(self.called('submit_transcription'))}")
        return upstream_id

    async def get_transcription_task(self, *, api_key: str, task_id: str) -> TranscriptionTask:
        self.calls.append(("get_transcription_task", {"api_key": api_key, "task_id": task_id}))
        task: TranscriptionTask = _next(self.statuses, succeeded(task_id), repeat_last=True)
        return task

    async def fetch_transcription(self, url: str, *, max_bytes: int = 0) -> dict[str, Any]:
        self.calls.append(("fetch_transcription", {"url": url, "max_bytes": max_bytes}))
        document: dict[str, Any] = _next(self.documents, {"transcripts": [{"channel_id": 0, "text": "转写完成"}]})
        return document


def succeeded(task_id: str = "up-1", seconds: float = 90) -> TranscriptionTask:
    return TranscriptionTask(task_id=task_id, status="SUCCEEDED", transcription_url=RESULT_URL,
                             usage_seconds=seconds)


def running(task_id: str = "up-1") -> TranscriptionTask:
    return TranscriptionTask(task_id=task_id, status="RUNNING")


@pytest.fixture
def fake_dashscope() -> FakeDashScope:
    return FakeDashScope()


@pytest.fixture
def services(tmp_path: Path, fake_dashscope: FakeDashScope) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path, platform_api_key="sk-platform", platform_key_users=("*",),
                        public_base_url="http://127.0.0.1:1")
    # filesystem objects and SQLite state in tmp_path (the settings' defaults), the fake upstream
    services = Services(settings, dashscope=fake_dashscope)  # type: ignore[arg-type]
    # a task's failure hook reaches its services through get_services()
    with using_services(services):
        yield services


@pytest.fixture
def principal() -> Principal:
    return Principal("tier-user")


@dataclass
class UserServer:
    """The server behind a user's file_url: what it answers, and every request it got."""

    respond: Callable[[httpx.Request], httpx.Response]
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def user_server(monkeypatch: pytest.MonkeyPatch) -> UserServer:
    server = UserServer(lambda request: httpx.Response(200, content=wav(3.0)))

    def handle(request: httpx.Request) -> httpx.Response:
        server.requests.append(str(request.url))
        return server.respond(request)

    monkeypatch.setattr(intake.SEAMS, "resolver", lambda host, port: [PUBLIC_IP])
    monkeypatch.setattr(intake.SEAMS, "transport", httpx.MockTransport(handle))
    return server
