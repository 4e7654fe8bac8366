"""A cloning sample is checked by its bytes (seed 003 §3.1): format, 16-bit, 10–60 s, 16 kHz, not silent."""

from __future__ import annotations

import pytest

from tests.voicefn_local.dashscope.voice_helpers import speechlike_pcm
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import silence
from voicefn.errors import ApiError
from voicefn.voice.sample import check_sample


def _code(data: bytes) -> tuple[str, str]:
    with pytest.raises(ApiError) as refused:
        check_sample(data)
    return refused.value.code, refused.value.message


def test_a_speech_like_wav_and_mp3_are_accepted() -> None:
    wav = check_sample(encode_pcm(speechlike_pcm(150.0, 12.0), "wav", 16000))
    mp3 = check_sample(encode_pcm(speechlike_pcm(150.0, 12.0, rate=22050), "mp3", 22050))
    assert (wav.format, round(wav.duration), wav.sample_rate) == ("wav", 12, 16000)
    assert mp3.format == "mp3" and 11.5 < mp3.duration < 12.5


def test_refusals_say_why() -> None:
    assert _code(b"") == ("INVALID_AUDIO", "the sample is empty")
    assert _code(b"definitely not audio" * 50)[0] == "INVALID_AUDIO"
    code, message = _code(encode_pcm(speechlike_pcm(150.0, 61.0), "wav", 16000))
    assert code == "AUDIO_TOO_LONG" and "60" in message
    code, message = _code(encode_pcm(speechlike_pcm(150.0, 5.0), "wav", 16000))
    assert code == "INVALID_AUDIO" and "10 s" in message
    code, message = _code(encode_pcm(speechlike_pcm(150.0, 12.0, rate=8000), "wav", 8000))
    assert code == "INVALID_AUDIO" and "16000 Hz" in message
    code, message = _code(encode_pcm(silence(12.0, 16000), "wav", 16000))
    assert code == "INVALID_AUDIO" and "silent" in message
    code, message = _code(encode_pcm(speechlike_pcm(150.0, 12.0), "flac", 16000))
    assert code == "INVALID_AUDIO" and "WAV" in message


def test_a_wav_that_is_not_16_bit_is_refused() -> None:
    import struct

    pcm16 = speechlike_pcm(150.0, 12.0)
    pcm8 = bytes((int.from_bytes(pcm16[i:i + 2], "little", signed=True) >> 8) + 128 for i in range(0, len(pcm16), 2))
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm8)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 16000, 16000, 1, 8) + b"data" + struct.pack("<I", len(pcm8))
    code, message = _code(header + pcm8)
    assert code == "INVALID_AUDIO" and "16-bit" in message


def test_prefix_and_model_rules() -> None:
    from voicefn.voice.rules import check_language_hints, check_prefix, check_target_model

    assert check_prefix("myvoice01") == "myvoice01"
    for bad in ("", "my_voice", "MyVoice", "elevenchars", "a-b", None):
        with pytest.raises(ApiError):
            check_prefix(bad)
    with pytest.raises(ApiError) as bad_model:
        check_target_model("qwen3-tts-flash")
    assert bad_model.value.code == "INVALID_MODEL"
    assert check_language_hints("en,fr") == ["en"] and check_language_hints(None) is None
