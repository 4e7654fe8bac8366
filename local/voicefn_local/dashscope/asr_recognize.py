"""The sync recognition shared by native Qwen ASR (:mod:`.qwen_asr`) and compatible mode
(:mod:`.asr_compat`): options, counting and faults, reading and decoding the audio, limits,
the engine call and what it bills."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from voicefn.billing import billable_seconds
from voicefn.text.charclass import is_cjk

from voicefn_local.dashscope.asr_audio import (AudioFetchFailed, AudioTooLarge, InvalidAudio,
                                               decode_audio, is_http_url, read_audio_ref)
from voicefn_local.dashscope.calls import admit
from voicefn_local.dashscope.errors import DashScopeError
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.state import EmulatorState
from voicefn_local.engines.asr_base import Transcript

API = "asr_sync"
NEUTRAL = "neutral"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def is_qwen_asr_model(model: str | None) -> bool:
    """qwen3-asr-flash, qwen-audio-asr and their dated snapshots (not filetrans, not realtime)."""
    if not model or "filetrans" in model or "realtime" in model:
        return False
    return model.startswith(("qwen3-asr-flash", "qwen-audio-asr"))


def count_tokens(text: str) -> int:
    """The emulator's token count: one per CJK character, Latin word or punctuation mark."""
    return sum(len(t) if any(is_cjk(ch) for ch in t) else 1 for t in _TOKEN.findall(text))


@dataclass(frozen=True)
class AsrRequest:
    audio: str              # data URI or URL
    context: str            # system text, "" if none
    language: str | None
    enable_itn: bool


@dataclass(frozen=True)
class Recognition:
    transcript: Transcript
    seconds: int            # billed
    context_tokens: int
    fault: Fault | None


def asr_request(audio: str, context: str, options: Any) -> AsrRequest:
    """Check ``asr_options`` (``{"language", "enable_itn"}``, both optional)."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise DashScopeError("InvalidParameter", "asr_options must be an object.")
    language = options.get("language")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise DashScopeError("InvalidParameter", "asr_options.language must be a language code.")
    return AsrRequest(audio, context, language.strip() if language else None,
                      bool(options.get("enable_itn", False)))


async def admit_asr(state: EmulatorState, request: Request, model: str,
                    audio: str | None) -> Fault | None:
    """Count the call and apply its fault (``match.text_contains`` sees an http(s) audio URL)."""
    return await admit(state, request, api=API, counter="asr_sync", model=model, voice=None,
                       text=audio if audio and is_http_url(audio) else None)


async def recognize(state: EmulatorState, model: str, asr: AsrRequest,
                    fault: Fault | None) -> Recognition:
    """Read and decode the audio, transcribe it; DashScopeError for bad input."""
    config = state.config
    try:
        data = await read_audio_ref(asr.audio, max_bytes=config.max_asr_audio_bytes,
                                    timeout_s=config.fetch_timeout_s, allowed=config.fetch_only)
        audio = await decode_audio(data)
    except AudioTooLarge as exc:
        raise DashScopeError("BadRequest.TooLarge", f"The audio is too large: {exc}.",
                             status=413) from None
    except AudioFetchFailed as exc:
        raise DashScopeError("InvalidParameter", f"The audio could not be read: {exc}.") from None
    except InvalidAudio as exc:
        raise DashScopeError("InvalidParameter",
                             f"The audio could not be decoded ({exc}); send wav, mp3, ogg, opus "
                             "or flac.") from None
    if audio.seconds > config.max_asr_sync_seconds:
        raise DashScopeError("InvalidParameter",
                             f"The audio lasts {audio.seconds:.1f} s; {model} accepts at most "
                             f"{config.max_asr_sync_seconds:g} s. Use qwen3-asr-flash-filetrans "
                             "for longer files.")
    transcript = await state.asr.transcribe(audio, asr.language)
    seconds = billable_seconds(audio.seconds)
    state.stats.incr("asr_seconds", seconds)
    return Recognition(transcript, seconds, count_tokens(asr.context), fault)


def algo_failure() -> DashScopeError:
    """What the ``task_failed`` fault reports on the sync ASR APIs."""
    return DashScopeError("InternalError.Algo",
                          "[asr] the recognition engine failed (injected task_failed fault)")
