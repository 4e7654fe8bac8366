"""Picking the language of a sentence from its script (mixed zh/en text)."""

from __future__ import annotations

import pytest

from voicefn_local.engines.script import script_language


@pytest.mark.parametrize(
    ("text", "voice_language", "expected"),
    [
        ("你好，世界。", "zh", "zh"),
        ("Hello world.", "zh", "en"),          # Chinese voice, Latin sentence -> English
        ("Hello world.", "yue", "en"),
        ("我用iPhone。", "zh", "zh"),            # mixed sentence stays with the voice
        ("12345。", "zh", "zh"),               # no letters at all
        ("Hello world.", "en", "en"),
        ("你好。", "en", "zh"),                 # English voice, Han sentence -> Mandarin
        ("Café au lait.", "zh", "en"),          # Latin letters beyond ASCII
    ],
)
def test_script_language(text: str, voice_language: str, expected: str) -> None:
    assert script_language(text, voice_language) == expected
