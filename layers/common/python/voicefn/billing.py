"""Bills: DashScope's character rule, per-model prices, and money as decimal strings.

Money never goes through float: prices are decimal strings in the catalog, amounts are
:class:`~decimal.Decimal`, and the wire gets :func:`format_money`'s string ("0.0021").
"""

from __future__ import annotations

import html
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from voicefn.catalog.models import get_asr_model, get_tts_model
from voicefn.errors import ApiError
from voicefn.text.charclass import count_cjk_ideographs

_TAG = re.compile(r"<[^>]*>")
_TEN_THOUSAND = Decimal(10000)
_MONEY_PLACES = Decimal("0.000001")
_MILLISECOND = Decimal("0.001")


def billable_characters(text: str) -> int:
    """DashScope's count: a CJK ideograph (hanzi, kanji, hanja) is 2, every other character 1.

    SSML (text starting with ``<speak``) is counted without its tags, entities as the one
    character they stand for.
    """
    if text.lstrip().startswith("<speak"):
        text = html.unescape(_TAG.sub("", text.strip()))  # whitespace around <speak> is not text
    return len(text) + count_cjk_ideographs(text)


def tts_bill(model: str, characters: int) -> Decimal:
    """Price of ``characters`` billable characters on a TTS model (price is per 10,000)."""
    found = get_tts_model(model)
    if found is None:
        raise ApiError("INVALID_MODEL", f"unknown TTS model {model!r}", param="model")
    if characters < 0:
        raise ValueError("characters must be >= 0")
    return found.price * characters / _TEN_THOUSAND


def billable_seconds(seconds: float) -> int:
    """Whole seconds billed for audio: DashScope's ``usage.seconds`` is an integer; we round a
    measured duration up to match."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("seconds must be a finite number >= 0")
    # to the millisecond first, so float noise (0.1 * 30 = 3.0000000000000004) bills 3, not 4
    return math.ceil(Decimal(repr(float(seconds))).quantize(_MILLISECOND, rounding=ROUND_HALF_UP))


def asr_bill(model: str, seconds: float) -> Decimal:
    """Price of recognising ``seconds`` of audio on an ASR model."""
    found = get_asr_model(model)
    if found is None:
        raise ApiError("INVALID_MODEL", f"unknown ASR model {model!r}", param="model")
    return found.price * billable_seconds(seconds)


def format_money(d: Decimal) -> str:
    """At most 6 decimal places (ROUND_HALF_UP), no trailing zeros, no exponent: "0.0021", "0"."""
    if isinstance(d, float):
        raise TypeError("money must be a Decimal (or int), never a float")
    q = Decimal(d).quantize(_MONEY_PLACES, rounding=ROUND_HALF_UP)
    if q == 0:
        return "0"
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
