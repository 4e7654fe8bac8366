"""What a cloned voice and its sample may be, stated once (seed 003 §3.1; protocol §2)."""

from __future__ import annotations

import re
from typing import Final

from voicefn.errors import ApiError

__all__ = ["ACCOUNT_VOICE_LIMIT", "CLONE_MODELS", "MAX_SAMPLE_BYTES", "MAX_SAMPLE_S", "MIN_SAMPLE_RATE",
           "MIN_SAMPLE_S", "SAMPLE_FORMATS", "SAMPLE_PREFIX", "check_language_hints", "check_prefix",
           "check_target_model", "check_upload_spec"]

# the CosyVoice models a voice can be cloned for (seed 003 §3.1)
CLONE_MODELS: Final = ("cosyvoice-v3-plus", "cosyvoice-v3-flash", "cosyvoice-v2")
# DashScope: 1000 cloned voices per main account, shared by every user of the platform key
ACCOUNT_VOICE_LIMIT: Final = 1000

SAMPLE_FORMATS: Final = ("wav", "mp3", "m4a")   # WAV 16-bit, MP3, M4A
MIN_SAMPLE_S: Final = 10.0                      # "10–20 s recommended"; shorter ones are refused here
MAX_SAMPLE_S: Final = 60.0
MAX_SAMPLE_BYTES: Final = 10 * 1024 * 1024
MIN_SAMPLE_RATE: Final = 16000
SAMPLE_PREFIX: Final = "audio/voice"            # audio/voice/{date}/{uuid}.{ext}

# seed 003: letters, digits and underscore, at most 10; DashScope's own rule (SDK docstring): digits
# and lowercase letters only. Both must hold, so: lowercase letters and digits, 1–10 of them.
_PREFIX = re.compile(r"[a-z0-9]{1,10}")
_LANGUAGES: Final = ("zh", "en", "fr", "de", "ja", "ko", "ru")


def check_target_model(model: object, param: str = "target_model") -> str:
    if model not in CLONE_MODELS:
        raise ApiError("INVALID_MODEL", f"{param} must be one of {', '.join(CLONE_MODELS)}", param=param)
    return str(model)


def check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ApiError("INVALID_PARAMETER", "prefix must be 1–10 lowercase letters or digits (DashScope "
                       "accepts no capitals or underscores in a voice prefix)", param="prefix")
    return prefix


def check_language_hints(hints: object) -> list[str] | None:
    """A list (or comma-separated text) of language codes; DashScope uses only the first."""
    if hints is None or hints == "" or hints == []:
        return None
    items = [h.strip() for h in hints.split(",")] if isinstance(hints, str) else hints
    if not isinstance(items, list) or not all(isinstance(h, str) and h in _LANGUAGES for h in items):
        raise ApiError("INVALID_PARAMETER", f"language_hints must list codes of {', '.join(_LANGUAGES)}",
                       param="language_hints")
    return [str(items[0])]  # DashScope refuses more than one (InvalidLanguageHints)


def check_upload_spec(spec: object) -> dict[str, object]:
    """``voice: {target_model, prefix, name?, gender?, description?, is_public?}`` of an upload
    ticket (purpose voice): what the upload's enrollment will use, checked before the upload."""
    if not isinstance(spec, dict):
        raise ApiError("INVALID_PARAMETER", "voice must be an object with target_model and prefix", param="voice")
    out: dict[str, object] = {"target_model": check_target_model(spec.get("target_model"), "voice.target_model"),
                              "prefix": check_prefix(spec.get("prefix"))}
    hints = check_language_hints(spec.get("language_hints"))
    if hints:
        out["language_hints"] = hints
    for name, limit in (("name", 64), ("description", 500)):
        value = spec.get(name)
        if value is not None:
            if not isinstance(value, str) or len(value) > limit:
                raise ApiError("INVALID_PARAMETER", f"voice.{name} must be text of at most {limit} characters",
                               param=f"voice.{name}")
            out[name] = value
    gender = spec.get("gender")
    if gender is not None:
        if gender not in ("male", "female"):
            raise ApiError("INVALID_PARAMETER", "voice.gender must be male or female", param="voice.gender")
        out["gender"] = gender
    public = spec.get("is_public", False)
    if not isinstance(public, bool):
        raise ApiError("INVALID_PARAMETER", "voice.is_public must be true or false", param="voice.is_public")
    out["is_public"] = public
    return out
