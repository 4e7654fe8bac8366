"""The pure-Python container code: Ogg CRC and pages, Opus packet sizes, mp3 frames, RIFF chunks."""

from __future__ import annotations

import io
import random
import struct

import pytest

from voicefn.audio import InvalidAudio, mp3, ogg, wav
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone


def _reference_ogg_crc(data: bytes) -> int:
    """Bit by bit, straight from the Ogg spec: poly 0x04C11DB7, MSB first, init 0, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def test_ogg_crc_matches_the_spec_and_is_not_zlibs():
    import zlib

    assert ogg.ogg_crc32(b"123456789") == 0x89A1897F  # CRC-32/POSIX check value without its final xor
    assert ogg.ogg_crc32(b"123456789") != zlib.crc32(b"123456789")
    rng = random.Random(3)
    for size in (0, 1, 7, 64, 1000):
        data = bytes(rng.randrange(256) for _ in range(size))
        assert ogg.ogg_crc32(data) == _reference_ogg_crc(data)


def test_ogg_pages_round_trip_byte_for_byte_on_libsndfile_output():
    data = encode_pcm(tone(1.0, 48000, 440), "opus", 48000)
    pages = ogg.parse_pages(data)
    assert b"".join(p.to_bytes() for p in pages) == data  # our CRCs equal libsndfile's
    assert pages[0].header_type & ogg.BOS and pages[-1].header_type & ogg.EOS
    packets = list(ogg.iter_packets(pages))
    head = ogg.parse_opus_head(packets[0][1])
    assert head.channels == 1 and head.input_rate == 48000
    assert packets[1][1].startswith(b"OpusTags")
    decoded = sum(ogg.opus_packet_samples(p) for _, p in packets[2:])
    assert pages[-1].granule - head.pre_skip == 48000  # the granule trims the padding...
    assert decoded >= pages[-1].granule  # ...of packets that hold at least that much


def test_corrupt_ogg_is_refused():
    data = bytearray(encode_pcm(tone(0.5, 48000, 440), "opus", 48000))
    data[len(data) // 2] ^= 0x55
    with pytest.raises(InvalidAudio, match="CRC"):
        ogg.parse_pages(bytes(data))
    with pytest.raises(InvalidAudio):
        ogg.parse_pages(bytes(data[:-10]))


@pytest.mark.parametrize("toc,extra,samples", [
    ((1 << 3) | 0, b"", 960),  # SILK 20 ms, one frame
    ((3 << 3) | 1, b"", 2 * 2880),  # SILK 60 ms, two equal frames
    ((13 << 3) | 2, b"", 2 * 960),  # hybrid 20 ms, two frames
    ((16 << 3) | 0, b"", 120),  # CELT 2.5 ms
    ((31 << 3) | 3, bytes([3]), 3 * 960),  # CELT 20 ms, code 3 with a count of 3
])
def test_opus_packet_durations(toc, extra, samples):
    assert ogg.opus_packet_samples(bytes([toc]) + extra + b"\x00" * 10) == samples


def test_mp3_header_fields_from_lame_output():
    data = encode_pcm(tone(0.5, 24000, 440), "mp3", 24000)
    head = mp3.parse_header(data, 0)
    assert (head.version, head.layer, head.sample_rate, head.channels, head.samples) == ("2", 3, 24000, 1, 576)
    assert head.length == 72 * head.bitrate // 24000 + head.padding
    assert mp3.parse_header(b"\xff\xf8\x90\x00") is None  # reserved layer bits (00)
    assert mp3.parse_header(b"\xff\xea\x90\x00") is None  # reserved version bits (01)
    assert mp3.parse_header(b"\xff\xfb\xf0\x00") is None  # bit-rate index 15


def test_lame_tag_crc_is_crc16_arc():
    assert mp3.lame_crc16(b"123456789") == 0xBB3D


def test_libsndfile_mp3_xing_and_lame_tag_are_read_and_checksums_verify():
    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.frombuffer(tone(1.0, 24000, 440), dtype="<i2"), 24000, format="MP3")
    data = out.getvalue()
    layout = mp3.scan(data)
    assert layout.header_frame and layout.xing is not None and layout.xing.lame_offset is not None
    assert layout.xing.frames == len(layout.frames) - 1
    assert layout.xing.nbytes == len(data)
    pos, head = layout.frames[0]
    frame = data[pos:pos + head.length]
    lame = layout.xing.lame_offset
    assert mp3.lame_crc16(frame[:lame + 34]) == int.from_bytes(frame[lame + 34:lame + 36], "big")
    audio = data[layout.frames[1][0]:]
    assert mp3.lame_crc16(audio) == int.from_bytes(frame[lame + 32:lame + 34], "big")
    assert mp3.duration_of(layout) == pytest.approx(1.0, abs=1e-9)  # gapless: exactly what was encoded


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    return cid + struct.pack("<I", len(body) if size is None else size) + body + (b"\x00" if len(body) & 1 else b"")


def test_wav_parser_skips_odd_chunks_and_accepts_streaming_sizes():
    samples = tone(0.25, 8000, 440)
    data = _riff(_chunk(b"fmt ", wav.pcm16_fmt(8000)), _chunk(b"LIST", b"odd"), _chunk(b"data", samples))
    layout = wav.parse_wav(data)
    assert data[layout.data_offset:layout.data_offset + layout.data_size] == samples
    assert layout.duration == pytest.approx(0.25)
    streamed = wav.header(wav.pcm16_fmt(8000), None) + samples
    assert struct.unpack_from("<I", streamed, 4)[0] == 0xFFFFFFFF
    assert wav.parse_wav(streamed).data_size == len(samples)


def test_wav_parser_refuses_broken_files():
    samples = tone(0.1, 8000, 440)
    with pytest.raises(InvalidAudio, match="before its fmt"):
        wav.parse_wav(_riff(_chunk(b"data", samples), _chunk(b"fmt ", wav.pcm16_fmt(8000))))
    with pytest.raises(InvalidAudio, match="no data"):
        wav.parse_wav(_riff(_chunk(b"fmt ", wav.pcm16_fmt(8000))))
    with pytest.raises(InvalidAudio):
        wav.parse_wav(b"RIFF\x00\x00\x00\x00AVI LIST")
