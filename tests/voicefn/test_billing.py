"""Bills: DashScope's character rule, prices from the catalog, money as decimal strings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voicefn.billing import asr_bill, billable_characters, billable_seconds, format_money, tts_bill
from voicefn.errors import ApiError


@pytest.mark.parametrize("text,count", [
    ("", 0),
    ("hello", 5),
    ("你好", 4),
    ("你好,欢迎使用语音合成服务!", 26),  # 12 hanzi + 2 punctuation
    ("你好，世界。", 10),  # full-width punctuation is not an ideograph
    ("漢字かなカナ한국어", 4 + 4 + 3),  # kanji 2 each; kana and hangul 1 each
    ("𠀀𪜀", 4),  # extension B/C ideographs
    ("〇一二", 6),
    ("a b\n", 4),
    ("😀", 1),
])
def test_billable_characters(text, count):
    assert billable_characters(text) == count


def test_ssml_tags_are_not_counted():
    ssml = '<speak>你好<break time="500ms"/>world &amp; <say-as interpret-as="digits">12</say-as></speak>'
    assert billable_characters(ssml) == 4 + len("world & ") + 2
    assert billable_characters("  <speak rate=\"1.2\">ab</speak>") == 2
    assert billable_characters("a <b> c") == 7  # not SSML: the angle brackets are text


def test_tts_bill_uses_catalog_prices_exactly():
    assert tts_bill("cosyvoice-v3-flash", 10000) == Decimal("0.14335")
    assert tts_bill("cosyvoice-v3-plus", 15) == Decimal("0.286706") * 15 / 10000
    assert tts_bill("cosyvoice-v2", 0) == 0
    assert format_money(tts_bill("cosyvoice-v3-flash", 26)) == "0.000373"  # 0.00037271 rounded half up
    with pytest.raises(ApiError) as err:
        tts_bill("tts-9000", 10)
    assert err.value.code == "INVALID_MODEL" and err.value.status == 400
    with pytest.raises(ValueError):
        tts_bill("cosyvoice-v2", -1)


def test_asr_bill_per_whole_second():
    assert billable_seconds(3) == 3
    assert billable_seconds(2.2) == 3
    assert billable_seconds(0.1 * 30) == 3  # float noise does not buy an extra second
    assert billable_seconds(0) == 0
    assert asr_bill("qwen3-asr-flash", 3) == Decimal("0.000105")
    assert asr_bill("qwen3-asr-flash-filetrans", 3600) == Decimal("0.126")
    with pytest.raises(ApiError):
        asr_bill("paraformer-v2", 1)
    with pytest.raises(ValueError):
        billable_seconds(-1)
    with pytest.raises(ValueError):
        billable_seconds(float("nan"))


@pytest.mark.parametrize("amount,text", [
    (Decimal("0.0021"), "0.0021"),
    (Decimal("0.002100"), "0.0021"),
    (Decimal("0"), "0"),
    (Decimal("-0"), "0"),
    (Decimal("0.0000004"), "0"),
    (Decimal("0.0000005"), "0.000001"),  # half up
    (Decimal("0.0000015"), "0.000002"),  # half up, not half even
    (Decimal("1.2345675"), "1.234568"),
    (Decimal("100"), "100"),
    (Decimal("1E+2"), "100"),
    (Decimal("12.50"), "12.5"),
    (3, "3"),
    (Decimal("-0.5"), "-0.5"),
])
def test_format_money(amount, text):
    assert format_money(amount) == text


def test_money_never_goes_through_float():
    with pytest.raises(TypeError):
        format_money(0.1)
    total = sum((tts_bill("cosyvoice-v3-flash", 1) for _ in range(10000)), Decimal(0))
    assert total == Decimal("0.14335")  # exact, where float sums drift
