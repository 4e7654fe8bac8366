"""Validating a CosyVoice request (WebSocket run-task ``parameters`` or HTTP ``input``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voicefn_local.dashscope.catalog import VoiceDirectory, is_cosyvoice_model
from voicefn_local.dashscope.cloned_voices import OK, ClonedVoiceStore
from voicefn_local.dashscope.errors import DashScopeError, model_not_found
from voicefn_local.dashscope.formats import resolve_bit_rate, resolve_format
from voicefn_local.dashscope.synthesis import VoiceParams, voice_params
from voicefn_local.engines.clone import CloneProfile


@dataclass(frozen=True)
class CosyVoiceSpec:
    model: str
    voice_id: str
    voice: VoiceParams
    fmt: str
    sample_rate: int
    bit_rate_kbps: int | None
    ssml: bool


def voice_error(voice_id: object, why: str) -> DashScopeError:
    # DashScope reports a bad voice as the engine's error 418; keep the code clients match on.
    return DashScopeError("InvalidParameter",
                          f"[tts:]Engine return error code: 418 ({why}: {voice_id!r})")


def cloned_voice(clones: ClonedVoiceStore, account: str, model: str, voice_id: str) -> CloneProfile:
    """A cloned voice's profile, if the caller's account owns it, it was cloned for ``model`` and
    it is deployed; else DashScope's bad-voice error (another account's voice is not found)."""
    voice = clones.owned(account, voice_id)
    if voice is None:
        raise voice_error(voice_id, "voice not found")
    if voice.target_model != model:
        raise voice_error(voice_id, f"voice was cloned for {voice.target_model}, not for {model}")
    status = voice.status()
    if status != OK or voice.profile is None:
        raise voice_error(voice_id, f"voice is {status}, not OK")
    return voice.profile


def parse_cosyvoice(voices: VoiceDirectory, model: Any, params: dict[str, Any], *,
                    clones: ClonedVoiceStore | None = None, account: str = "") -> CosyVoiceSpec:
    if not model:
        raise DashScopeError("BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    if not is_cosyvoice_model(model):
        raise model_not_found(str(model))
    voice_id = params.get("voice")
    if not voice_id or not isinstance(voice_id, str):
        raise DashScopeError("InvalidParameter", 'Required parameter "voice" missing from request.')
    clone: CloneProfile | None = None
    if clones is not None and clones.get(voice_id) is not None:
        clone = cloned_voice(clones, account, model, voice_id)
        language, gender = clone.language, clone.gender
    else:
        found = voices.lookup(voice_id)
        if found is None:
            raise voice_error(voice_id, "voice not found")
        if model not in found.models:
            raise voice_error(voice_id, f"voice is not available for model {model}")
        language, gender = found.language, found.gender
    fmt, sample_rate = resolve_format(params.get("format"), params.get("sample_rate"))
    return CosyVoiceSpec(
        model=model,
        voice_id=voice_id,
        voice=voice_params(params, language=language, gender=gender, clone=clone),
        fmt=fmt,
        sample_rate=sample_rate,
        bit_rate_kbps=resolve_bit_rate(fmt, params.get("bit_rate")),
        ssml=bool(params.get("enable_ssml")),
    )
