"""Sync recognition (seed 003 §2.1): audio in, text out, billed and recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voicefn.apikeys import resolve_api_key
from voicefn.asr.intake import Audio
from voicefn.auth.principal import Principal
from voicefn.billing import asr_bill, billable_seconds, format_money
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError
from voicefn.history import record_history
from voicefn.limits.ledger import hold
from voicefn.services import Services

SYNC_MODELS = ("qwen3-asr-flash", "qwen-audio-asr")
MAX_CONTEXT_CHARS = 10_000


@dataclass(frozen=True)
class Recognition:
    text: str
    language: str | None
    emotion: str | None
    duration: int
    usage: dict[str, Any]
    bill: str
    record_id: int

    def public(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language, "emotion": self.emotion,
                "duration": self.duration, "usage": self.usage, "bill": self.bill, "record_id": self.record_id}


def check_model(model: str) -> None:
    if model not in SYNC_MODELS:
        raise ApiError("INVALID_MODEL", f"unknown model {model!r} for sync recognition; use "
                       f"{' or '.join(SYNC_MODELS)} (qwen3-asr-flash-filetrans is /api/audio/asr/transcribe)",
                       param="model")


def check_context(context: str | None) -> None:
    if context is not None and len(context) > MAX_CONTEXT_CHARS:
        raise ApiError("INVALID_PARAMETER", f"context is at most {MAX_CONTEXT_CHARS} characters", param="context")


async def recognize(services: Services, principal: Principal, *, model: str, audio: Audio,
                    language: str | None = None, enable_itn: bool = False, context: str | None = None,
                    source: dict[str, Any] | None = None) -> Recognition:
    """Call upstream with the audio inlined (so DashScope never fetches a URL on our behalf)."""
    api_key = await resolve_api_key(principal, services)
    await hold(services, principal, asr_bill(model, audio.duration), api_key=api_key)  # spend caps
    try:
        result = await services.dashscope.recognize(api_key=api_key, model=model, audio=audio.data_uri(),
                                                    language=language, enable_itn=enable_itn, context=context)
    except UpstreamError as err:
        raise to_api_error(err) from err
    seconds = int(result.seconds or billable_seconds(audio.duration))
    usage = {"input_tokens": int((result.usage or {}).get("input_tokens", 0) or 0),
             "output_tokens": int((result.usage or {}).get("output_tokens", 0) or 0), "seconds": seconds}
    bill = format_money(asr_bill(model, seconds))
    record_id = await record_history(
        services.state, principal.user_id, type="asr", model=model,
        input={**(source or {}), "language": language, "enable_itn": enable_itn, "format": audio.format},
        bill=bill, output_text=result.text, duration=seconds)
    return Recognition(text=result.text, language=result.language or language, emotion=result.emotion,
                       duration=seconds, usage=usage, bill=bill, record_id=record_id)
