"""Is this text usable at all? One check for every route that takes text (issue 7).

- Valid Unicode: a lone surrogate (JSON ``"\\ud800"``, or the bytes ``ED A0 80`` that Python's
  JSON decoder lets through as one) cannot be encoded as UTF-8, so nothing downstream (a cache
  key, SQLite, the DashScope socket) can carry it: refused up front, naming the field.
- Something to say: text that is only control, zero-width or emoji characters is refused too,
  rather than synthesized (and billed) as silence.
"""

from __future__ import annotations

import re
from typing import Any

from voicefn.errors import ApiError

_SURROGATE = re.compile("[\ud800-\udfff]")


def is_valid_text(value: str) -> bool:
    """True when ``value`` holds no lone surrogate (it can be encoded as UTF-8)."""
    return _SURROGATE.search(value) is None


def check_text(value: str | None, *, param: str) -> None:
    """Raise INVALID_PARAMETER naming ``param`` unless ``value`` is valid Unicode."""
    if value is not None and not is_valid_text(value):
        raise ApiError("INVALID_PARAMETER", f"invalid parameter '{param}': the text is not valid Unicode "
                       "(it contains a lone surrogate)", param=param)


def first_invalid_text(value: Any, path: str = "") -> str | None:
    """The path (``text``, ``messages[0].content``) of the first string in a JSON value, key or
    item, that is not valid Unicode; None when all are."""
    if isinstance(value, str):
        return None if is_valid_text(value) else (path or "body")
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_valid_text(key):
                return path or "body"
            found = first_invalid_text(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = first_invalid_text(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def has_speech(text: str) -> bool:
    """Whether anything in ``text`` is left to say once it is cleaned for speech (a letter, digit
    or ideograph: not only control, zero-width, emoji or punctuation characters)."""
    from voicefn.text.charclass import is_speakable
    from voicefn.text.clean import clean_for_speech

    return any(is_speakable(ch) for ch in clean_for_speech(text))


def require_speech(text: str, *, param: str) -> None:
    """Raise INVALID_PARAMETER unless ``text`` has something speakable."""
    check_text(text, param=param)
    if not has_speech(text):
        raise ApiError("INVALID_PARAMETER", f"{param} has nothing to speak: only control, zero-width, emoji "
                       "or punctuation characters", param=param)
