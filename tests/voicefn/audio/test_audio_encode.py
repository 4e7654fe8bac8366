"""Encoders and decoders on real bytes: every stream is one valid file that decodes to the input."""

from __future__ import annotations

import io
import struct

import pytest

from voicefn.audio import InvalidAudio, UnsupportedAudio, detect_format
from voicefn.audio.encode import (
    OPUS_RATES,
    decode_to_pcm,
    encode_pcm,
    make_stream_encoder,
    opus_rate_for,
    transcode,
)
from voicefn.audio.pcm import rms, tone
from voicefn.audio.probe import audio_info, duration_seconds

RATE = 24000


def _dominant_hz(pcm: bytes, rate: int) -> float:
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    return float(np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x)))))) * rate / len(x)


def _stream(fmt: str, pcm: bytes, chunk: int, rate: int = RATE, **kw) -> tuple[list[bytes], bytes]:
    enc = make_stream_encoder(fmt, rate, **kw)
    outs = [enc.feed(pcm[i:i + chunk]) for i in range(0, len(pcm), chunk)]
    return outs, enc.finish()


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm", "opus", "flac"])
def test_chunked_stream_is_one_valid_file(fmt):
    pcm = tone(2.0, RATE, 440, amplitude=0.3)
    outs, tail = _stream(fmt, pcm, chunk=4801)  # odd: chunks split samples in half
    data = b"".join(outs) + tail
    if fmt == "pcm":
        assert data == pcm
        return
    assert detect_format(data) == fmt
    decoded, rate = decode_to_pcm(data)
    assert rate == RATE
    seconds = len(decoded) / 2 / rate
    if fmt == "mp3":
        assert 2.0 <= seconds < 2.0 + (1105 + 1152) / RATE  # encoder delay and frame padding
    else:
        assert seconds == pytest.approx(2.0, abs=1 / RATE)
    assert rms(decoded) == pytest.approx(0.3 / 2 ** 0.5, rel=0.08)
    assert _dominant_hz(decoded, rate) == pytest.approx(440, abs=3)
    assert duration_seconds(data) == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm", "opus", "flac"])
def test_bytes_come_out_while_streaming_not_only_at_the_end(fmt):
    pcm = tone(3.0, RATE, 300)
    outs, tail = _stream(fmt, pcm, chunk=int(0.1 * RATE) * 2)  # 100 ms chunks
    streamed = sum(len(o) for o in outs)
    assert sum(1 for o in outs if o) >= 10
    assert streamed >= 0.8 * (streamed + len(tail))


def test_wav_stream_header_has_streaming_sizes_and_libsndfile_plays_it():
    import soundfile as sf

    outs, tail = _stream("wav", tone(0.5, RATE), chunk=2000)
    data = b"".join(outs) + tail
    assert outs[0][:4] == b"RIFF" and struct.unpack_from("<I", data, 4)[0] == 0xFFFFFFFF
    assert struct.unpack_from("<I", data, 40)[0] == 0xFFFFFFFF
    assert data.count(b"RIFF") == 1
    samples, rate = sf.read(io.BytesIO(data), dtype="int16")
    assert len(samples) == int(0.5 * RATE) and rate == RATE


def test_mp3_stream_has_no_xing_header():
    outs, tail = _stream("mp3", tone(1.0, RATE), chunk=4000)
    data = b"".join(outs) + tail
    assert b"Xing" not in data and b"Info" not in data


def test_empty_streams_are_still_valid_files():
    enc = make_stream_encoder("wav", 16000)
    data = enc.finish()
    assert audio_info(data).duration == 0.0
    enc = make_stream_encoder("opus", 16000)
    assert audio_info(enc.finish()).duration == 0.0


def test_encoder_properties_and_lifecycle():
    enc = make_stream_encoder("pcm", 16000)
    assert enc.content_type == "audio/pcm;rate=16000"
    enc.feed(bytes(16001))
    enc.feed(bytes(15999))
    assert enc.duration == 1.0
    assert enc.finish() == b"" and enc.finish() == b""
    with pytest.raises(RuntimeError):
        enc.feed(b"\x00\x00")
    assert make_stream_encoder("opus", 48000).content_type == "audio/ogg; codecs=opus"


def test_bad_encoder_arguments():
    with pytest.raises(ValueError, match="opus supports"):
        make_stream_encoder("opus", 22050)
    with pytest.raises(ValueError):
        make_stream_encoder("mp3", 96000)
    with pytest.raises(ValueError):
        make_stream_encoder("mp3", 16000, bit_rate_kbps=320)  # MPEG-2 tops out at 160
    with pytest.raises(ValueError):
        make_stream_encoder("m4a", 16000)
    with pytest.raises(ValueError):
        make_stream_encoder("wav", 0)


def test_bit_rate_is_honoured():
    import numpy as np

    noise = (np.random.default_rng(1).standard_normal(5 * 48000) * 4000).astype("<i2").tobytes()
    for kbps in (16, 64):
        size = len(encode_pcm(noise, "opus", 48000, bit_rate_kbps=kbps))
        assert size * 8 / 5 / 1000 == pytest.approx(kbps, rel=0.3)
    mp3_size = len(encode_pcm(noise[: 2 * 5 * 24000], "mp3", 24000, bit_rate_kbps=32))
    assert mp3_size * 8 / 5 / 1000 == pytest.approx(32, rel=0.1)  # CBR


def test_encode_pcm_whole_files():
    pcm = tone(0.75, 22050, 500)
    wav_bytes = encode_pcm(pcm, "wav", 22050)
    assert struct.unpack_from("<I", wav_bytes, 4)[0] == len(wav_bytes) - 8
    assert struct.unpack_from("<I", wav_bytes, 40)[0] == len(pcm)
    assert wav_bytes[44:] == pcm
    opus = encode_pcm(pcm, "opus", 22050)  # Opus has no 22.05 kHz: resampled up to 24 kHz
    info = audio_info(opus)
    assert info.sample_rate == opus_rate_for(22050) == 24000 and info.duration == pytest.approx(0.75, abs=1e-3)
    import mutagen.flac

    flac = encode_pcm(pcm, "flac", 22050)
    assert mutagen.flac.FLAC(io.BytesIO(flac)).info.total_samples == len(pcm) // 2  # STREAMINFO patched
    assert decode_to_pcm(flac) == (pcm, 22050)  # lossless
    assert opus_rate_for(8000) == 8000 and opus_rate_for(44100) == 48000 and 12000 in OPUS_RATES


def _soundfile(x, rate: int, subtype: str) -> bytes:
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, x, rate, format="WAV", subtype=subtype)
    return out.getvalue()


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_decode_wav_depths_and_stereo_to_mono16(subtype):
    import numpy as np

    mono = np.frombuffer(tone(0.5, 16000, 440, amplitude=0.5), dtype="<i2")
    stereo = np.stack([mono, mono // 2], axis=1)  # the mix is 0.75 of the left channel
    data = _soundfile(stereo.astype(np.float64) / 32768, 16000, subtype)
    pcm, rate = decode_to_pcm(data)
    got = np.frombuffer(pcm, dtype="<i2").astype(float)
    expected = mono.astype(float) * 0.75
    assert rate == 16000 and len(got) == len(expected)
    tolerance = 300 if subtype == "PCM_U8" else 3
    assert np.max(np.abs(got - expected)) <= tolerance


def test_decode_refuses_what_it_cannot_or_should_not_decode():
    with pytest.raises(UnsupportedAudio):
        decode_to_pcm(struct.pack(">I", 24) + b"ftypM4A \x00\x00\x00\x00M4A isom" + bytes(40))
    with pytest.raises(InvalidAudio):
        decode_to_pcm(b"just some text, not audio at all" * 4)
    with pytest.raises(InvalidAudio):
        decode_to_pcm(b"fLaC\x00\x00\x00\x22" + bytes(34) + b"\xff\xf8 not frames" * 20)


def test_transcode_between_formats_and_rates():
    source = encode_pcm(tone(1.0, 44100, 440), "wav", 44100)
    mp3 = transcode(source, "mp3", 16000)
    info = audio_info(mp3)
    assert (info.format, info.sample_rate) == ("mp3", 16000)
    back = transcode(mp3, "wav")
    pcm, rate = decode_to_pcm(back)
    assert rate == 16000 and _dominant_hz(pcm, rate) == pytest.approx(440, abs=3)
    assert transcode(source, "wav") == source  # same format and rate: untouched
    assert transcode(source, "pcm", 16000) == decode_to_pcm(transcode(source, "wav", 16000))[0]
    with pytest.raises(InvalidAudio):
        transcode(b"RIFF\x00\x00\x00\x00WAVEjunkjunk", "mp3")
