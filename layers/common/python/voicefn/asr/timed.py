"""Recognition with timestamps, answered within one request: file transcription run in-line.

Sync recognition (qwen3-asr-flash) returns text only; sentence and word times come from file
transcription (qwen3-asr-flash-filetrans). For callers that need them now (OpenAI's srt, vtt and
verbose_json) the audio is stored as the caller's object under ``audio/asr/{date}/…``, DashScope
gets a signed URL of that object (never a user's URL), and the task is polled until it ends or the
wait runs out (a bit less than the request deadline, so the answer is our 504, not the
middleware's). No task row: the request itself is the job, recorded and billed once on success.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from voicefn.apikeys import resolve_api_key
from voicefn.asr.intake import Audio
from voicefn.auth.principal import Principal
from voicefn.billing import asr_bill, billable_seconds, format_money
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError
from voicefn.history import record_history, utc_now
from voicefn.services import Services

TIMED_MODEL = "qwen3-asr-flash-filetrans"
KEY_PREFIX = "audio/asr"            # as transcription.py's copies: audio/asr/{date}/{uuid}.{ext}
SIGNED_URL_TTL_S = 3600             # DashScope fetches it while we wait; an hour is plenty
RESULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_WAIT_S = 110.0              # when the request deadline is off
_FIRST_POLL_S = 0.2
_MAX_POLL_S = 2.0


@dataclass(frozen=True)
class TimedWord:
    start: float        # seconds
    end: float
    text: str
    punctuation: str


@dataclass(frozen=True)
class TimedSentence:
    start: float        # seconds
    end: float
    text: str
    words: tuple[TimedWord, ...]


@dataclass(frozen=True)
class TimedTranscript:
    text: str
    language: str | None
    sentences: tuple[TimedSentence, ...]
    duration: int       # billed seconds
    bill: str
    record_id: int
    object_key: str     # the stored audio DashScope was given (signed)


def wait_budget(services: Services) -> float:
    """How long to wait upstream: a bit less than the request deadline (DEFAULT_WAIT_S if off)."""
    deadline = float(services.settings.request_deadline_s)
    if deadline <= 0:
        return DEFAULT_WAIT_S
    return deadline - min(5.0, deadline * 0.1)


async def transcribe_now(services: Services, principal: Principal, audio: Audio, *,
                         language: str | None = None, enable_itn: bool = False,
                         wait_s: float | None = None, source: dict[str, Any] | None = None) -> TimedTranscript:
    """Transcribe ``audio`` with sentence and word times, waiting at most ``wait_s`` (default:
    :func:`wait_budget`); past it, 504 TIMEOUT. One asr history record and bill, on success."""
    from voicefn.storage.owners import grant

    budget = wait_budget(services) if wait_s is None else wait_s
    deadline = time.monotonic() + budget
    api_key = await resolve_api_key(principal, services)
    from voicefn.limits.ledger import hold

    await hold(services, principal, asr_bill(TIMED_MODEL, audio.duration), api_key=api_key)  # spend caps
    key = f"{KEY_PREFIX}/{utc_now()[:10].replace('-', '')}/{uuid.uuid4().hex}.{audio.format}"
    await services.objects.put(key, audio.data)
    await grant(services.state, key, principal.user_id)
    try:
        upstream_id = await services.dashscope.submit_transcription(
            api_key=api_key, model=TIMED_MODEL, file_url=services.objects.signed_get_url(key, SIGNED_URL_TTL_S),
            language=language, enable_itn=enable_itn, enable_words=True)
        document, usage_seconds = await _wait(services, api_key, upstream_id, deadline, budget)
    except UpstreamError as err:
        raise to_api_error(err) from err
    transcripts = [t for t in document.get("transcripts") or [] if isinstance(t, dict)]
    first = transcripts[0] if transcripts else {}
    sentences = tuple(_sentence(s) for s in first.get("sentences") or [] if isinstance(s, dict))
    text = str(first.get("text") or " ".join(s.text for s in sentences)).strip()
    detected = next((str(s["language"]) for s in first.get("sentences") or []
                     if isinstance(s, dict) and s.get("language")), None)
    seconds = int(usage_seconds or billable_seconds(audio.duration))
    bill = format_money(asr_bill(TIMED_MODEL, seconds))
    record_id = await record_history(
        services.state, principal.user_id, type="asr", model=TIMED_MODEL,
        input={**(source or {}), "object_key": key, "language": language, "enable_itn": enable_itn,
               "format": audio.format},
        bill=bill, output_text=text, duration=seconds)
    return TimedTranscript(text=text, language=detected or language, sentences=sentences, duration=seconds,
                           bill=bill, record_id=record_id, object_key=key)


async def _wait(services: Services, api_key: str, upstream_id: str, deadline: float,
                budget: float) -> tuple[dict[str, Any], float | None]:
    """Poll the task until it ends; its result document and billed seconds."""
    interval = _FIRST_POLL_S
    while True:
        task = await services.dashscope.get_transcription_task(api_key=api_key, task_id=upstream_id)
        if task.status == "SUCCEEDED" and task.transcription_url:
            document = await services.dashscope.fetch_transcription(task.transcription_url,
                                                                   max_bytes=RESULT_MAX_BYTES)
            return document, task.usage_seconds
        if task.status in ("FAILED", "CANCELED", "UNKNOWN", "SUCCEEDED"):
            reason = task.message or ("the upstream task is gone" if task.status == "UNKNOWN"
                                      else task.status.lower())
            raise ApiError("UPSTREAM_ERROR", f"transcription {task.status.lower()}: {reason}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise ApiError("TIMEOUT", f"the transcription did not finish within {budget:g} s; "
                           "for long audio use file transcription (/api/audio/asr/transcribe)")
        await asyncio.sleep(min(interval, left))
        interval = min(interval * 1.5, _MAX_POLL_S)


def _ms(value: Any) -> float:
    try:
        return round(float(Decimal(str(value)) / 1000), 3)
    except ArithmeticError:
        return 0.0


def _sentence(raw: dict[str, Any]) -> TimedSentence:
    words = tuple(TimedWord(start=_ms(w.get("begin_time", 0)), end=_ms(w.get("end_time", 0)),
                            text=str(w.get("text") or ""), punctuation=str(w.get("punctuation") or ""))
                  for w in raw.get("words") or [] if isinstance(w, dict))
    return TimedSentence(start=_ms(raw.get("begin_time", 0)), end=_ms(raw.get("end_time", 0)),
                         text=str(raw.get("text") or "").strip(), words=words)
