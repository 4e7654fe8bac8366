"""The process-wide DashScope client: base URLs, one shared HTTP client, timeouts, retry policy.

Built once per FC instance (``voicefn.services.get_services().dashscope``), so connections are pooled across
invocations. API keys are per call: users may bring their own. The HTTP side (httpx, ~0.1 s of
imports) is built on its first use: a CosyVoice synthesis speaks only WebSocket (issue 13).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from typing import TYPE_CHECKING

from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.results import AsrResult, QwenTtsResult, SynthesisResult, TranscriptionTask
from voicefn.dashscope.retry import with_retries
from voicefn.dashscope.tts_ws import CosyVoiceSession, SynthesisStream
from voicefn.dashscope.tts_ws_messages import CosyVoiceParams
from voicefn.dashscope.ws_pool import loop_pool
from voicefn.settings import Settings, get_settings

if TYPE_CHECKING:
    from voicefn.dashscope.http import DashScopeHttp
    from voicefn.dashscope.tts_http import HttpAudioStream

T = TypeVar("T")

# Transcription results are JSON text; 12 h of audio with word timings stays well below this.
DEFAULT_TRANSCRIPTION_MAX_BYTES = 64 * 1024 * 1024


class DashScopeClient:
    def __init__(self, *, http_url: str, ws_url: str, compat_url: str, timeout_s: float = 30.0,
                 retries: int = 2, retry_budget_s: float = 20.0,
                 http: DashScopeHttp | None = None) -> None:
        self.http_url = http_url.rstrip("/")
        self.ws_url = ws_url.rstrip("/")
        self.compat_url = compat_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.retry_budget_s = retry_budget_s
        self._http = http

    @property
    def http(self) -> DashScopeHttp:
        """The shared HTTP client, created on first use."""
        if self._http is None:
            from voicefn.dashscope.http import DashScopeHttp

            self._http = DashScopeHttp(self.http_url, timeout_s=self.timeout_s)
        return self._http

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DashScopeClient:
        s = settings or get_settings()
        return cls(http_url=s.dashscope_http_url, ws_url=s.dashscope_ws_url,
                   compat_url=s.dashscope_compat_url, timeout_s=s.upstream_timeout_s,
                   retries=s.upstream_retries, retry_budget_s=s.upstream_retry_budget_s)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def _retrying(self, op: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(op, retries=self.retries, budget_s=self.retry_budget_s)

    # --- CosyVoice over WebSocket -------------------------------------------------------------

    def tts_session(self, *, api_key: str, params: CosyVoiceParams) -> CosyVoiceSession:
        """A duplex session (many texts, one task) with this client's URL and timeouts."""
        return CosyVoiceSession.from_params(
            self.ws_url, api_key, params, connect_timeout_s=min(self.timeout_s, 10.0),
            idle_timeout_s=self.timeout_s, pool=loop_pool())

    def _stream(self, api_key: str, text: str, params: CosyVoiceParams,
                retries: int, retry_budget_s: float) -> SynthesisStream:
        return SynthesisStream(lambda: self.tts_session(api_key=api_key, params=params), text,
                               retries=retries, retry_budget_s=retry_budget_s)

    def tts_stream(self, *, api_key: str, text: str, params: CosyVoiceParams) -> SynthesisStream:
        """Audio chunks as produced; retried only until the first chunk reaches the caller."""
        return self._stream(api_key, text, params, self.retries, self.retry_budget_s)

    async def tts_bytes(self, *, api_key: str, text: str, params: CosyVoiceParams) -> SynthesisResult:
        """The whole audio. Nothing reaches the caller before the end, so all of it is retried."""
        async def attempt() -> SynthesisResult:
            # the session's frames directly, not through a stream's retry layers (they would
            # retry nothing here: this whole attempt is what is retried), and without a
            # generator per frame: long synthesis reads thousands of frames
            session = self.tts_session(api_key=api_key, params=params)
            async with session:
                await session.send_text(text)
                await session.finish()
                audio = await session.read_audio()
            return SynthesisResult(audio=audio, characters=session.characters,
                                   request_id=session.task_id)

        return await self._retrying(attempt)

    # --- Qwen TTS over HTTP ------------------------------------------------------------------

    async def qwen_tts(self, *, api_key: str, model: str, text: str, voice: str,
                       language_type: str | None = None) -> QwenTtsResult:
        from voicefn.dashscope.tts_http import qwen_tts

        async def attempt() -> QwenTtsResult:
            return await qwen_tts(self.http, api_key=api_key, model=model, text=text,
                                  voice=voice, language_type=language_type)

        return await self._retrying(attempt)

    def qwen_tts_stream(self, *, api_key: str, model: str, text: str, voice: str,
                        language_type: str | None = None) -> HttpAudioStream:
        from voicefn.dashscope.tts_http import qwen_tts_stream

        return qwen_tts_stream(self.http, api_key=api_key, model=model, text=text, voice=voice,
                               language_type=language_type)

    # --- Speech recognition over HTTP ---------------------------------------------------------

    async def recognize(self, *, api_key: str, model: str, audio: str, language: str | None = None,
                        enable_itn: bool = False, context: str | None = None) -> AsrResult:
        """Synchronous recognition (qwen3-asr-flash); ``audio`` is a data URI or a URL."""
        from voicefn.dashscope import asr

        async def attempt() -> AsrResult:
            return await asr.recognize(self.http, api_key=api_key, model=model, audio=audio,
                                       language=language, enable_itn=enable_itn, context=context)

        return await self._retrying(attempt)

    async def submit_transcription(self, *, api_key: str, model: str, file_url: str,
                                   channel_id: Sequence[int] = (0,), language: str | None = None,
                                   enable_itn: bool = False, enable_words: bool = True) -> str:
        """Start a file transcription task; returns DashScope's task id.

        Retried only when DashScope answered with a retryable error (429, 5xx): after a timeout
        or a broken connection the task may exist already, and a retry would run and bill it
        twice.
        """
        from voicefn.dashscope import asr

        async def attempt() -> str:
            try:
                return await asr.submit_transcription(
                    self.http, api_key=api_key, model=model, file_url=file_url,
                    channel_id=channel_id, language=language, enable_itn=enable_itn,
                    enable_words=enable_words)
            except UpstreamError as e:
                if e.http_status is None:
                    e.retryable = False
                raise

        return await self._retrying(attempt)

    async def get_transcription_task(self, *, api_key: str, task_id: str) -> TranscriptionTask:
        from voicefn.dashscope import asr

        async def attempt() -> TranscriptionTask:
            return await asr.get_transcription_task(self.http, api_key=api_key, task_id=task_id)

        return await self._retrying(attempt)

    async def fetch_transcription(self, url: str, *,
                                  max_bytes: int = DEFAULT_TRANSCRIPTION_MAX_BYTES) -> dict[str, Any]:
        """The result JSON at a task's ``transcription_url`` (signed; no API key is sent)."""
        from voicefn.dashscope import asr

        async def attempt() -> dict[str, Any]:
            return await asr.fetch_transcription(self.http, url, max_bytes=max_bytes)

        return await self._retrying(attempt)
