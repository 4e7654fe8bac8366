"""WAV headers that lie (issue 7): refused as invalid audio, not accepted as 0-second audio."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from voicefn.audio.errors import InvalidAudio
from voicefn.audio.probe import audio_info
from voicefn.audio.wav import STREAMING_SIZE, build, pcm16_fmt, with_true_sizes


def pcm_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    return build(pcm16_fmt(rate), b"\x01\x00" * int(seconds * rate))


def forged_rate(data: bytes, rate: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<I", out, 24, rate)
    return bytes(out)


def forged_data_size(data: bytes, size: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<I", out, 40, size)
    return bytes(out)


@pytest.mark.parametrize("rate", [4294967295, 0x7FFFFFFF, 10, 999])
def test_an_impossible_sample_rate_is_invalid(rate: int) -> None:
    with pytest.raises(InvalidAudio):
        audio_info(forged_rate(pcm_wav(), rate))


@pytest.mark.parametrize("size", [0xFFFFFFFE, 4_000_000_000, 10_000_000])
def test_a_data_size_far_past_the_file_is_invalid(size: int) -> None:
    with pytest.raises(InvalidAudio):
        audio_info(forged_data_size(pcm_wav(0.1), size))


def test_streamed_sizes_still_mean_until_the_end() -> None:
    data = forged_data_size(pcm_wav(1.0), STREAMING_SIZE)
    assert audio_info(data).duration == pytest.approx(1.0)


def test_with_true_sizes_rewrites_a_streamed_header_for_pythons_wave() -> None:
    good = pcm_wav(1.5)
    streamed = bytearray(good)
    struct.pack_into("<I", streamed, 4, STREAMING_SIZE)
    struct.pack_into("<I", streamed, 40, STREAMING_SIZE)
    fixed = with_true_sizes(bytes(streamed))
    assert fixed == good
    with wave.open(io.BytesIO(fixed)) as w:
        assert w.getnframes() == 24000
    assert with_true_sizes(good) is good


def test_the_recognize_route_refuses_a_forged_header_as_invalid_audio(stack) -> None:
    import base64

    forged = base64.b64encode(forged_rate(pcm_wav(), 4294967295)).decode()
    with stack.client("forged-wav") as client:
        response = client.post("/api/audio/asr/recognize", json={"model": "qwen3-asr-flash", "audio_base64": forged})
    assert response.status_code == 400 and response.json()["error"] == "INVALID_AUDIO"
