"""Whether a voice may be used with a model by this user: system voices and cloned voices."""

from __future__ import annotations

from typing import Any

from voicefn.auth.principal import Principal
from voicefn.catalog.voices import get_voice
from voicefn.errors import ApiError
from voicefn.records.voice import Voice
from voicefn.storage.state import StateStore


async def check_voice(state: StateStore, principal: Principal, model: str, voice_id: str,
                      *, instruction: str | None = None) -> None:
    system = get_voice(voice_id)
    if system is not None:
        if model not in system.models:
            raise ApiError("MODEL_VOICE_MISMATCH",
                           f"voice {voice_id!r} works with {', '.join(system.models)}, not {model!r}",
                           param="voice")
        if instruction and not _supports_instruct(system):
            raise ApiError("INVALID_PARAMETER", f"voice {voice_id!r} does not support instruction",
                           param="instruction")
        return
    row = await state.get_voice(voice_id)
    cloned = Voice.from_row(row) if row is not None else None
    if cloned is None or not cloned.visible_to(principal.user_id):
        raise ApiError("INVALID_VOICE", f"unknown voice {voice_id!r}", param="voice")
    if cloned.target_model != model:
        raise ApiError("MODEL_VOICE_MISMATCH",
                       f"voice {voice_id!r} was cloned for {cloned.target_model}, not {model!r}",
                       param="voice")
    if not cloned.usable:
        raise ApiError("INVALID_VOICE", f"voice {voice_id!r} is not usable yet (status {cloned.status.value})",
                       param="voice")


def _supports_instruct(system_voice: Any) -> bool:
    features = getattr(system_voice, "features", None)
    if isinstance(features, dict):
        return bool(features.get("instruct", True))
    return bool(getattr(features, "instruct", True))
