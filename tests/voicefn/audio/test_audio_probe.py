"""Probing real bytes: durations agree with what a decoder produces; fakes are refused."""

from __future__ import annotations

import io
import struct

import pytest

from voicefn.audio import InvalidAudio, UnsupportedAudio, mp3
from voicefn.audio.encode import decode_to_pcm, encode_pcm, make_stream_encoder
from voicefn.audio.pcm import tone
from voicefn.audio.probe import AudioInfo, audio_info, duration_seconds


def _decoded_seconds(data: bytes) -> float:
    """What libsndfile plays, counted block by block (also works for streamed files)."""
    pcm, rate = decode_to_pcm(data)
    return len(pcm) / 2 / rate


def _sf(pcm: bytes, rate: int, fmt: str, subtype: str, channels: int = 1) -> bytes:
    import numpy as np
    import soundfile as sf

    x = np.frombuffer(pcm, dtype="<i2")
    if channels == 2:
        x = np.stack([x, x], axis=1)
    out = io.BytesIO()
    sf.write(out, x, rate, format=fmt, subtype=subtype)
    return out.getvalue()


@pytest.mark.parametrize("fmt,rate", [("wav", 16000), ("mp3", 24000), ("mp3", 44100), ("opus", 24000),
                                      ("flac", 22050)])
def test_duration_matches_decoded_samples(fmt, rate):
    data = encode_pcm(tone(1.234, rate, 440), fmt, rate)
    assert duration_seconds(data) == pytest.approx(_decoded_seconds(data), abs=1e-6)
    extra = duration_seconds(data, fmt) - 1.234
    if fmt == "mp3":  # LAME's encoder delay (1105 samples) plus padding to a whole frame
        assert 1105 / rate <= extra < (1105 + 1152) / rate
    else:
        assert abs(extra) < 1 / rate


def test_gapless_mp3_and_vorbis_and_stereo():
    pcm = tone(0.8, 24000, 440)
    lame_tagged = _sf(pcm, 24000, "MP3", "MPEG_LAYER_III")
    assert duration_seconds(lame_tagged) == pytest.approx(0.8, abs=1e-9) == _decoded_seconds(lame_tagged)
    vorbis = _sf(pcm, 24000, "OGG", "VORBIS")
    assert audio_info(vorbis) == AudioInfo("ogg", pytest.approx(0.8, abs=1e-6), 24000, 1)
    stereo = _sf(pcm, 24000, "WAV", "PCM_16", channels=2)
    assert audio_info(stereo) == AudioInfo("wav", 0.8, 24000, 2)


def test_audio_info_fields():
    info = audio_info(encode_pcm(tone(0.5, 16000), "opus", 16000))
    assert (info.format, info.sample_rate, info.channels) == ("opus", 16000, 1)
    assert info.duration == pytest.approx(0.5, abs=1e-6)
    info = audio_info(encode_pcm(tone(0.5, 22050), "mp3", 22050))
    assert (info.format, info.sample_rate, info.channels) == ("mp3", 22050, 1)


def test_streamed_files_whose_headers_do_not_know_their_length():
    pcm = tone(1.5, 16000, 440)
    for fmt in ("wav", "flac"):
        enc = make_stream_encoder(fmt, 16000)
        data = b"".join(enc.feed(pcm[i:i + 3200]) for i in range(0, len(pcm), 3200)) + enc.finish()
        if fmt == "wav":
            assert struct.unpack_from("<I", data, 40)[0] == 0xFFFFFFFF  # mutagen would say 134217 s
        assert duration_seconds(data) == pytest.approx(1.5, abs=1e-6)


def test_vbr_mp3_without_a_header_frame_is_counted_frame_by_frame():
    import soundfile as sf

    pcm = tone(2.0, 24000, 440)
    tagged = _sf(pcm, 24000, "MP3", "MPEG_LAYER_III")
    layout = mp3.scan(tagged)
    bare = b"".join(tagged[p:p + h.length] for p, h in layout.frames[1:])  # Xing frame removed
    frames = len(layout.frames) - 1
    assert duration_seconds(bare) == pytest.approx(frames * 576 / 24000)
    # libsndfile alone guesses the length from the first frame and stops early...
    raw, _ = sf.read(io.BytesIO(bare), dtype="int16")
    assert len(raw) < 0.5 * frames * 576
    # ...decode_to_pcm gives it a frame count and gets everything (less the decoder delay)
    assert len(decode_to_pcm(bare)[0]) // 2 == frames * 576 - mp3.DECODER_DELAY


def test_pcm_needs_a_rate():
    assert duration_seconds(bytes(32000), "pcm", 16000) == 1.0
    with pytest.raises(ValueError):
        duration_seconds(bytes(32000), "pcm")
    with pytest.raises(InvalidAudio):
        duration_seconds(bytes(3), "pcm", 16000)


def test_invalid_audio_is_a_value_error():
    assert issubclass(InvalidAudio, ValueError) and issubclass(UnsupportedAudio, InvalidAudio)


@pytest.mark.parametrize("data", [
    b"hello, this is a text file renamed to .mp3" * 10,
    b"\xff\xfb\x90\x64" + b"garbage " * 100,
    b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 8,
    b"fLaC" + b"\x00\x00\x00\x22" + b"\x00" * 60,
    b"",
])
def test_fakes_are_refused(data):
    with pytest.raises(InvalidAudio):
        duration_seconds(data)


def test_truncated_or_corrupted_ogg_is_refused():
    data = encode_pcm(tone(1.0, 24000), "opus", 24000)
    with pytest.raises(InvalidAudio):
        duration_seconds(data[: len(data) - 50])
    flipped = bytearray(data)
    flipped[-100] ^= 1
    with pytest.raises(InvalidAudio):
        audio_info(bytes(flipped))


def test_claimed_format_must_match():
    data = encode_pcm(tone(0.2, 16000), "wav", 16000)
    with pytest.raises(InvalidAudio, match="wav, not mp3"):
        duration_seconds(data, "mp3")


def test_m4a_and_webm():
    fake_m4a = struct.pack(">I", 24) + b"ftypM4A \x00\x00\x00\x00M4A isom" + b"\x00" * 40
    with pytest.raises(InvalidAudio):
        audio_info(fake_m4a)
    with pytest.raises(UnsupportedAudio):
        audio_info(b"\x1a\x45\xdf\xa3" + b"\x00" * 64)
