"""Who may use a voice, with which model, on which DashScope key (DESIGN §7 "Voice enrollment").

- A system voice works with the models the catalog lists for it.
- A cloned voice works only with its ``target_model`` (else MODEL_VOICE_MISMATCH), only once it
  is OK, and only for its owner unless it is public (else INVALID_VOICE: someone else's private
  voice is answered exactly like an unknown one).
- A DashScope voice belongs to the account that enrolled it, so synthesis with a cloned voice runs
  on that account's key (:func:`synthesis_key`). A voice enrolled with a user's own key therefore
  works only for that user: only voices enrolled under the platform key can be public.
"""

from __future__ import annotations

from typing import Any

from voicefn.auth.principal import Principal
from voicefn.catalog.voices import get_voice as get_system_voice
from voicefn.errors import ApiError
from voicefn.records.voice import Voice
from voicefn.services import Services
from voicefn.storage.state import StateStore

__all__ = ["PUBLIC_NEEDS_PLATFORM_KEY", "check_voice", "synthesis_key", "visible_voice"]

PUBLIC_NEEDS_PLATFORM_KEY = ("only voices cloned under the platform's DashScope key can be public: a voice cloned "
                             "with your own API key lives in your DashScope account and works only with that key")


async def visible_voice(state: StateStore, principal: Principal, voice_id: str) -> Voice | None:
    """The cloned voice if this user may see it (theirs, or public), else None."""
    row = await state.get_voice(voice_id) if voice_id else None
    voice = Voice.from_row(row) if row is not None else None
    return voice if voice is not None and voice.visible_to(principal.user_id) else None


async def check_voice(state: StateStore, principal: Principal, model: str, voice_id: str,
                      *, instruction: str | None = None) -> Voice | None:
    """Raise unless ``voice_id`` may be used with ``model`` by this user; the cloned voice (None
    for a system voice), for :func:`synthesis_key`."""
    system = get_system_voice(voice_id)
    if system is not None:
        if model not in system.models:
            raise ApiError("MODEL_VOICE_MISMATCH",
                           f"voice {voice_id!r} works with {', '.join(system.models)}, not {model!r}",
                           param="voice")
        if instruction and not _supports_instruct(system):
            raise ApiError("INVALID_PARAMETER", f"voice {voice_id!r} does not support instruction",
                           param="instruction")
        return None
    cloned = await visible_voice(state, principal, voice_id)
    if cloned is None:
        raise ApiError("INVALID_VOICE", f"unknown voice {voice_id!r}", param="voice")
    if cloned.target_model != model:
        raise ApiError("MODEL_VOICE_MISMATCH",
                       f"voice {voice_id!r} was cloned for {cloned.target_model}, not {model!r}",
                       param="voice")
    if not cloned.usable:
        raise ApiError("INVALID_VOICE", f"voice {voice_id!r} is not usable (status {cloned.status.value})",
                       param="voice")
    if cloned.owner != principal.user_id and cloned.enrolled_by != "platform":
        raise ApiError("INVALID_VOICE", f"voice {voice_id!r} is not usable by others: {PUBLIC_NEEDS_PLATFORM_KEY}",
                       param="voice")
    return cloned


async def synthesis_key(principal: Principal, services: Services, voice: Voice | None) -> str:
    """The key to synthesize with: the caller's (system voices), the voice's account's (cloned)."""
    from voicefn.apikeys import resolve_api_key

    if voice is None:
        return await resolve_api_key(principal, services)
    from voicefn.voice.upstream import key_for_voice  # it loads the enrollment client (httpx)

    return await key_for_voice(services, voice)


def _supports_instruct(system_voice: Any) -> bool:
    features = getattr(system_voice, "features", None)
    if isinstance(features, dict):
        return bool(features.get("instruct", True))
    return bool(getattr(features, "instruct", True))
