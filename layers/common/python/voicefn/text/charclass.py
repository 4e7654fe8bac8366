"""Character classes shared by splitting, cleaning and billing."""

from __future__ import annotations

import re

# CJK Unified Ideographs and their extensions, compatibility ideographs, and 〇: the characters
# DashScope bills as 2 (Chinese hanzi, Japanese kanji, Korean hanja alike).
_IDEOGRAPH_RANGES = (
    (0x3007, 0x3007),  # 〇 ideographic number zero
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EBEF),  # Extensions C-F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
    (0x30000, 0x323AF),  # Extensions G-H
)

# Everything written without spaces between words in East Asian text: ideographs, kana, hangul,
# CJK punctuation and full-width forms. After one of these, a "." needs no space to end a sentence.
_CJK_RANGES = _IDEOGRAPH_RANGES + (
    (0x2E80, 0x2FDF),  # radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x31BF),  # bopomofo
    (0x31F0, 0x31FF),  # katakana extensions
    (0xAC00, 0xD7AF),  # hangul syllables
    (0x1100, 0x11FF),  # hangul jamo
    (0xFF00, 0xFFEF),  # full-width and half-width forms
)


def _in(ranges: tuple[tuple[int, int], ...], ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in ranges)


def is_cjk_ideograph(ch: str) -> bool:
    """A Chinese/Japanese/Korean ideograph (hanzi, kanji, hanja)."""
    return ord(ch) >= 0x3007 and _in(_IDEOGRAPH_RANGES, ch)  # fast path: all of ASCII/Latin


# the same ranges as one character class: counting them in a whole text runs in C (billing counts
# every character of a long text before it is split, and again per segment)
_IDEOGRAPH = re.compile("[" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
                                      for lo, hi in _IDEOGRAPH_RANGES) + "]")


def count_cjk_ideographs(text: str) -> int:
    """How many characters of ``text`` are :func:`is_cjk_ideograph`."""
    return len(_IDEOGRAPH.findall(text))


def is_cjk(ch: str) -> bool:
    """Any East Asian script character or CJK punctuation/full-width form."""
    return ord(ch) >= 0x1100 and _in(_CJK_RANGES, ch)


def is_speakable(ch: str) -> bool:
    """A letter, digit or ideograph: something a voice says (punctuation and spaces are not)."""
    return ch.isalnum()
