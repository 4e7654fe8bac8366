"""Fault injection: rules that make matching upstream calls slow, throttled, failing or cut off.

A rule is ``{"match": {api?, model?, voice?, text_contains?}, "fault": {kind, latency_ms?,
frame_delay_ms?, times?}}``. Rules are tried in order; the first that matches a call applies to
it and, if it has ``times``, is used up after that many calls (``None`` = every call).

Kinds (what each does is implemented by the API handlers):

- ``latency``: wait ``latency_ms`` before answering (WS: before ``task-started``).
- ``first_audio_latency`` (``tts_ws`` only): a task's first audio leaves no sooner than
  ``latency_ms`` after its first text (the engine works meanwhile): latency that a task started
  ahead cannot hide, where ``latency`` models the part before ``task-started``.
- ``throttle``: HTTP 429 ``Throttling.RateQuota`` / WS ``task-failed`` with that code.
- ``error``: HTTP 500 ``InternalError`` / WS ``task-failed`` ``InternalError``.
- ``task_failed``: fail after the first audio has been sent (WS ``task-failed``
  ``InternalError.Algo``; SSE ``event:error``; non-streamed HTTP 500 ``InternalError.Algo``).
- ``drop``: close the connection abruptly after the first audio (no close frame, no end of body).
- ``slow_frames``: wait ``frame_delay_ms`` before each audio frame / SSE chunk.
- ``stuck``: a transcription task stays RUNNING until the emulator stops (clients' timeouts).

API names used in ``match.api``: ``tts_ws`` (CosyVoice WebSocket), ``tts_http`` (CosyVoice HTTP),
``qwen_tts`` (Qwen TTS on multimodal-generation), ``asr_sync`` (Qwen ASR on
multimodal-generation and compatible-mode chat), ``asr_filetrans`` (transcription task
submission, every model; ``latency``, ``task_failed`` and ``stuck`` act on the task itself),
``tasks`` (``GET /tasks/{id}`` and cancel), ``chat`` (chat models in compatible mode: see
:mod:`.chat_compat`), ``vlm`` (qwen-vl models in compatible mode: :mod:`.vlm_compat`),
``voice_enrollment`` (the customization endpoint,
every action; ``match.model`` is the ``target_model``, ``match.voice`` the ``voice_id``;
``task_failed`` ends a created or updated voice ``UNDEPLOYED``, ``stuck`` leaves it ``DEPLOYING``,
``drop`` cuts the answer). ``match.text_contains`` sees an ASR call's audio URL (``asr_sync``:
only for http(s) URLs), the task's file URLs, or an enrollment's sample URL.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("latency", "first_audio_latency", "throttle", "error", "task_failed", "drop", "slow_frames", "stuck")
DEFAULT_LATENCY_MS = 1000
DEFAULT_FRAME_DELAY_MS = 200


@dataclass(frozen=True)
class FaultMatch:
    api: str | None = None
    model: str | None = None
    voice: str | None = None
    text_contains: str | None = None

    def matches(self, api: str, model: str | None, voice: str | None, text: str | None) -> bool:
        if self.api is not None and self.api != api:
            return False
        if self.model is not None and self.model != model:
            return False
        if self.voice is not None and self.voice != voice:
            return False
        if self.text_contains is not None and (text is None or self.text_contains not in text):
            return False
        return True


@dataclass(frozen=True)
class Fault:
    kind: str
    latency_ms: int = DEFAULT_LATENCY_MS
    frame_delay_ms: int = DEFAULT_FRAME_DELAY_MS
    times: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("fault.times must be >= 0 or null")
        if self.latency_ms < 0 or self.frame_delay_ms < 0:
            raise ValueError("fault delays must be >= 0")

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000

    @property
    def frame_delay_s(self) -> float:
        return self.frame_delay_ms / 1000


@dataclass
class FaultRule:
    fault: Fault
    match: FaultMatch = field(default_factory=FaultMatch)
    remaining: int | None = None  # calls left; None = unlimited

    def __post_init__(self) -> None:
        if self.remaining is None:
            self.remaining = self.fault.times

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaultRule":
        """Parse ``{"match": {...}, "fault": {...}}``; ``ValueError`` on anything malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("fault"), dict):
            raise ValueError("a fault rule is {'match': {...}, 'fault': {'kind': ...}}")
        match = data.get("match") or {}
        if not isinstance(match, dict):
            raise ValueError("fault rule 'match' must be an object")
        try:
            return cls(fault=Fault(**data["fault"]), match=FaultMatch(**match))
        except TypeError as exc:  # unknown keys
            raise ValueError(str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        match = {k: v for k, v in asdict(self.match).items() if v is not None}
        return {"match": match, "fault": asdict(self.fault), "remaining": self.remaining}


class FaultTable:
    """The active rules, shared by every request; safe to use from any thread."""

    def __init__(self, rules: list[FaultRule | dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.replace(rules or [])

    def replace(self, rules: list[FaultRule | dict[str, Any]]) -> None:
        parsed = [r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in rules]
        with self._lock:
            self._rules = parsed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def take(self, api: str, *, model: str | None = None, voice: str | None = None,
             text: str | None = None) -> Fault | None:
        """The fault for this call, if a rule matches; uses up one of the rule's ``times``."""
        with self._lock:
            for rule in self._rules:
                if rule.remaining == 0 or not rule.match.matches(api, model, voice, text):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule.fault
        return None


def parse_fault_header(value: str | None) -> Fault | None:
    """``X-Fake-Fault: <kind>[; latency_ms=N][; frame_delay_ms=N]`` for one request."""
    if not value or not value.strip():
        return None
    kind, *options = [part.strip() for part in value.split(";")]
    params: dict[str, int] = {}
    for option in options:
        name, sep, raw = option.partition("=")
        if not sep or name.strip() not in ("latency_ms", "frame_delay_ms"):
            raise ValueError(f"bad X-Fake-Fault option {option!r}")
        params[name.strip()] = int(raw)
    return Fault(kind=kind, **params)
