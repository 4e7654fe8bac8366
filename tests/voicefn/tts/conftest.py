"""The in-process tier of voicefn/tts: real services (SQLite, local objects in a temp dir)
around a FAKE DashScope client object. No emulator, no sockets: a failure shows up where the
code is, and each test runs in milliseconds.

``FakeDashScope.tts_session`` returns a :class:`FakeSession` with CosyVoiceSession's interface:
each text sent becomes one sentence (sentence-begin, ``frames_per_text`` audio frames that carry
its index, sentence-end with the cumulative characters), and finish-task ends the events. A
session's behaviour comes from ``faults`` (one entry per session, in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from voicefn.auth.principal import Principal
from voicefn.billing import billable_characters
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.results import SynthesisResult
from voicefn.dashscope.tts_ws_messages import (AudioFrame, CosyVoiceParams, SentenceBegin,
                                               SentenceEnd, SessionEvent)
from voicefn.services import Services
from voicefn.settings import Settings

FRAME_BYTES = 1600  # 0.1 s of 8 kHz 16-bit pcm
_FINISH = object()


def frame(text: str, k: int, size: int = FRAME_BYTES) -> bytes:
    """The fake's audio for frame ``k`` of ``text``: recognisable, so order can be checked."""
    head = f"<{text}|{k}>".encode()
    return (head * (size // len(head) + 1))[:size]


@dataclass
class FakeSession:
    params: CosyVoiceParams
    fault: str | None = None
    frames_per_text: int = 3
    frame_bytes: int = FRAME_BYTES
    frame_delay_s: float = 0.0
    start_delay_s: float = 0.0
    texts: list[str] = field(default_factory=list)
    cancelled: bool = False
    closed: bool = False
    finished: bool = False
    characters: int = 0
    _queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    async def __aenter__(self) -> FakeSession:
        if self.start_delay_s:
            await asyncio.sleep(self.start_delay_s)  # run-task until task-started
        if self.fault == "fail_start":
            raise UpstreamError("Throttling.RateQuota", "too many requests", retryable=True)
        if self.fault == "bad_key":
            raise UpstreamError("InvalidApiKey", "invalid api key", http_status=401)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if not self.finished:
            self.cancelled = True
        self.closed = True
        self._queue.put_nowait(_FINISH)

    async def send_text(self, text: str) -> None:
        if self.closed:
            raise UpstreamError("ConnectionError", "closed", retryable=True)
        self.texts.append(text)
        self._queue.put_nowait(text)

    async def finish(self) -> None:
        self._queue.put_nowait(_FINISH)

    async def cancel(self) -> None:
        self.cancelled = True
        self._queue.put_nowait(_FINISH)

    async def events(self) -> AsyncIterator[SessionEvent]:
        index = 0
        while True:
            item = await self._queue.get()
            if item is _FINISH:
                if self.closed and not self.finished:
                    raise UpstreamError("ConnectionError", "session closed", retryable=True)
                self.finished = True
                return
            yield SentenceBegin(index, item)
            if self.fault == "fail_before_audio":  # as DashScope does: after sentence-begin
                raise UpstreamError("InternalError", "engine hiccup", retryable=True)
            for k in range(self.frames_per_text):
                if self.frame_delay_s:
                    await asyncio.sleep(self.frame_delay_s)
                yield AudioFrame(frame(item, k, self.frame_bytes), index)
                if self.fault == "fail_after_audio":
                    raise UpstreamError("InternalError.Algo", "engine failed", retryable=True)
            self.characters += billable_characters(item)
            yield SentenceEnd(index, item, self.characters)
            index += 1


@dataclass
class FakeDashScope:
    """Stands in for :class:`voicefn.dashscope.client.DashScopeClient`."""

    faults: list[str | None] = field(default_factory=list)
    frames_per_text: int = 3
    frame_bytes: int = FRAME_BYTES
    frame_delay_s: float = 0.0
    start_delay_s: float = 0.0
    sessions: list[FakeSession] = field(default_factory=list)
    bytes_calls: list[str] = field(default_factory=list)

    def tts_session(self, *, api_key: str, params: CosyVoiceParams) -> FakeSession:
        assert api_key == "sk-platform"
        fault = self.faults[len(self.sessions)] if len(self.sessions) < len(self.faults) else None
        session = FakeSession(params, fault, self.frames_per_text, self.frame_bytes,
                              self.frame_delay_s, self.start_delay_s)
        self.sessions.append(session)
        return session

    async def tts_bytes(self, *, api_key: str, text: str, params: CosyVoiceParams) -> SynthesisResult:
        self.bytes_calls.append(text)
        audio = b"".join(frame(text, k, self.frame_bytes) for k in range(self.frames_per_text))
        return SynthesisResult(audio=audio, characters=billable_characters(text), request_id="fake")


@pytest.fixture
def fake_dashscope() -> FakeDashScope:
    return FakeDashScope()


@pytest.fixture
def services(tmp_path: Path, fake_dashscope: FakeDashScope) -> Services:
    settings = Settings(data_dir=tmp_path, platform_api_key="sk-platform", platform_key_users=("*",),
                        upstream_retries=2, upstream_retry_budget_s=5.0, stream_queue_chunks=4,
                        public_base_url="http://127.0.0.1:1")
    services = Services(settings)
    services.dashscope = fake_dashscope  # type: ignore[assignment]  # the adapter under test's seam
    return services


@pytest.fixture
def principal() -> Principal:
    return Principal("tier-user")
