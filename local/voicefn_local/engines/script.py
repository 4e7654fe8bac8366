"""Which language a piece of text is written in, judged by its script (for mixed zh/en text)."""

from __future__ import annotations

import unicodedata


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x3134F)


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and (ch.isascii() or "LATIN" in unicodedata.name(ch, ""))


def script_language(text: str, voice_language: str) -> str:
    """The language to speak ``text`` in, given the voice's own language ("zh", "yue", "en").

    A Chinese voice reads a sentence with no Han characters but some Latin letters in English,
    and an English voice reads a sentence containing Han characters in Mandarin, because a
    voice that cannot pronounce a script spells it out letter by letter.
    """
    has_cjk = any(_is_cjk(ch) for ch in text)
    if voice_language in ("zh", "yue"):
        if not has_cjk and any(_is_latin_letter(ch) for ch in text):
            return "en"
        return voice_language
    if has_cjk:
        return "zh"
    return voice_language
