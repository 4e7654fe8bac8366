"""Joining segments into one file per format, checked by decoding the result.

Seam costs, by format: none for wav, pcm, flac and for mp3 from our (tag-less) encoder; for mp3
from a gapless encoder, each later segment's LAME delay and the earlier one's padding (read from
their tags, so the expected length is exact); for Opus, each later segment's pre-skip (6.5 ms)
plus the earlier one's padding to a whole 20 ms packet.
"""

from __future__ import annotations

import io

import pytest

from voicefn.audio import InvalidAudio, mp3, ogg
from voicefn.audio.encode import decode_to_pcm, encode_pcm
from voicefn.audio.join import join_segments
from voicefn.audio.pcm import rms, tone
from voicefn.audio.probe import duration_seconds

RATE = 24000
DURATIONS = (0.7, 1.3, 0.45)
FREQS = (300.0, 600.0, 1200.0)


def _pcms(rate: int = RATE) -> list[bytes]:
    return [tone(d, rate, f, amplitude=0.3) for d, f in zip(DURATIONS, FREQS)]


def _seconds(data: bytes, fmt: str) -> float:
    if fmt == "pcm":
        return len(data) / 2 / RATE
    pcm, rate = decode_to_pcm(data)
    return len(pcm) / 2 / rate


def _dominant_hz(pcm: bytes, rate: int) -> float:
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    return float(np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x)))))) * rate / len(x)


def _window(pcm: bytes, rate: int, start: float, end: float) -> bytes:
    return pcm[2 * int(start * rate):2 * int(end * rate)]


SEAM_TOLERANCE = {"wav": 0.0, "pcm": 0.0, "flac": 0.0, "mp3": 0.0, "opus": 0.0275}


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm", "opus", "flac"])
def test_three_segments_join_into_one_file_of_the_summed_duration(fmt):
    segments = [encode_pcm(p, fmt, RATE) for p in _pcms()]
    joined = join_segments(segments, fmt)
    expected = sum(_seconds(s, fmt) for s in segments)
    got = _seconds(joined, fmt)
    assert expected - 1e-9 <= got <= expected + 2 * SEAM_TOLERANCE[fmt] + 1e-9
    if fmt != "pcm":
        assert duration_seconds(joined) == pytest.approx(got, abs=1e-6)
    # the segments are all there, in order: each one's tone dominates the middle of its stretch
    pcm, rate = (joined, RATE) if fmt == "pcm" else decode_to_pcm(joined)
    start = 0.0
    for seg, freq in zip(segments, FREQS):
        length = _seconds(seg, fmt)
        middle = _window(pcm, rate, start + 0.1 * length, start + 0.9 * length)
        assert rms(middle) > 0.15
        assert _dominant_hz(middle, rate) == pytest.approx(freq, abs=6)
        start += length + (got - expected) / 2  # spread the (tiny) seam cost over both seams


def _lame_mp3(pcm: bytes, rate: int = RATE) -> bytes:
    """What a gapless LAME encoder writes: VBR frames behind an Xing frame with a LAME tag."""
    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.frombuffer(pcm, dtype="<i2"), rate, format="MP3")
    return out.getvalue()


def test_gapless_mp3_segments_keep_one_rewritten_header_frame():
    segments = [_lame_mp3(p) for p in _pcms()]
    joined = join_segments(segments, "mp3")
    layout = mp3.scan(joined)
    # exactly one header frame, the first; none of the later ones survive
    assert layout.header_frame
    assert all(mp3.parse_xing(joined[p:p + h.length], h) is None for p, h in layout.frames[1:])
    assert joined.count(b"Xing") + joined.count(b"Info") == 1
    xing = layout.xing
    assert xing.frames == len(layout.frames) - 1 and xing.nbytes == len(joined)
    # the LAME tag's checksums are recomputed for the new stream
    pos, head = layout.frames[0]
    frame = joined[pos:pos + head.length]
    lame = xing.lame_offset
    assert mp3.lame_crc16(frame[:lame + 34]) == int.from_bytes(frame[lame + 34:lame + 36], "big")
    assert mp3.lame_crc16(joined[layout.frames[1][0]:]) == int.from_bytes(frame[lame + 32:lame + 34], "big")
    # decoded length: every segment, plus what gapless trimming can only do at the file's ends
    tags = [mp3.scan(s).xing for s in segments]
    seams = sum(tags[i].padding + tags[i + 1].delay for i in range(len(tags) - 1)) / RATE
    expected = sum(_seconds(s, "mp3") for s in segments) + seams
    assert _seconds(joined, "mp3") == pytest.approx(expected, abs=1e-3)
    assert duration_seconds(joined) == pytest.approx(expected, abs=1e-3)
    import mutagen.mp3

    assert mutagen.mp3.MP3(io.BytesIO(joined)).info.length == pytest.approx(expected, abs=1e-3)


def test_keeping_the_first_xing_frame_unchanged_would_lose_segments():
    """Why the header frame is rewritten: decoders trust its frame count."""
    segments = [_lame_mp3(p) for p in _pcms()]
    naive = segments[0] + b"".join(
        s[p:p + h.length] for s in segments[1:] for p, h in mp3.scan(s).frames[1:])
    assert _seconds(naive, "mp3") == pytest.approx(DURATIONS[0], abs=1e-3)
    assert _seconds(join_segments(segments, "mp3"), "mp3") > sum(DURATIONS)


def _id3v2(text: bytes) -> bytes:
    body = b"TIT2" + len(text).to_bytes(4, "big") + b"\x00\x00" + text
    size = len(body)
    return b"ID3\x04\x00\x00" + bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F,
                                       size & 0x7F]) + body


def test_mp3_tags_first_id3v2_kept_the_rest_dropped():
    id3v1 = b"TAG" + bytes(125)
    segments = [_id3v2(b"\x03seg%d" % i) + encode_pcm(p, "mp3", RATE) + id3v1 for i, p in enumerate(_pcms())]
    joined = join_segments(segments, "mp3")
    assert joined.startswith(_id3v2(b"\x03seg0"))
    assert joined.count(b"ID3") == 1 and b"TAG" not in joined[-128:]
    bare = sum(_seconds(encode_pcm(p, "mp3", RATE), "mp3") for p in _pcms())
    assert _seconds(joined, "mp3") == pytest.approx(bare, abs=1e-9)


def test_vbr_mp3_without_header_frames_gets_one():
    segments = []
    for p in _pcms():
        tagged = _lame_mp3(p)
        segments.append(b"".join(tagged[q:q + h.length] for q, h in mp3.scan(tagged).frames[1:]))
    joined = join_segments(segments, "mp3")
    layout = mp3.scan(joined)
    frames = sum(len(mp3.scan(s).frames) for s in segments)
    assert layout.header_frame and layout.xing.frames == frames
    assert len(decode_to_pcm(joined)[0]) // 2 == frames * 576 - mp3.DECODER_DELAY


def test_opus_join_is_one_clean_logical_stream():
    import soundfile as sf

    segments = [encode_pcm(p, "opus", RATE) for p in _pcms()]
    joined = join_segments(segments, "opus")
    pages = ogg.parse_pages(joined)  # every CRC recomputed correctly, or this raises
    assert len({p.serial for p in pages}) == 1
    assert [p.sequence for p in pages] == list(range(len(pages)))
    assert [bool(p.header_type & ogg.BOS) for p in pages].count(True) == 1 and pages[0].header_type & ogg.BOS
    assert [bool(p.header_type & ogg.EOS) for p in pages].count(True) == 1 and pages[-1].header_type & ogg.EOS
    granules = [p.granule for p in pages[2:] if p.granule >= 0]
    assert granules == sorted(granules)
    packets = list(ogg.iter_packets(pages))
    assert sum(1 for _, p in packets if p.startswith(b"OpusHead")) == 1
    assert sum(1 for _, p in packets if p.startswith(b"OpusTags")) == 1
    with sf.SoundFile(io.BytesIO(joined)) as f:  # libsndfile logs granule inconsistencies here
        assert "less than" not in f.extra_info and "Corrupt" not in f.extra_info


def test_wav_join_fixes_sizes_and_refuses_mixed_formats():
    from voicefn.audio import wav

    streamed = [wav.header(wav.pcm16_fmt(RATE), None) + p for p in _pcms()]
    joined = join_segments(streamed, "wav")
    total = sum(len(p) for p in _pcms())
    layout = wav.parse_wav(joined)
    assert layout.data_size == total and int.from_bytes(joined[4:8], "little") == len(joined) - 8
    assert joined[layout.data_offset:] == b"".join(_pcms())
    other = encode_pcm(tone(0.2, 16000), "wav", 16000)
    with pytest.raises(InvalidAudio, match="different format"):
        join_segments([joined, other], "wav")


def test_flac_join_resamples_to_one_rate():
    segments = [encode_pcm(tone(0.5, 16000), "flac", 16000), encode_pcm(tone(0.5, 24000), "flac", 24000)]
    joined = join_segments(segments, "flac")
    pcm, rate = decode_to_pcm(joined)
    assert rate == 16000 and len(pcm) // 2 == 16000
    assert decode_to_pcm(join_segments(segments, "flac", 24000))[1] == 24000


def test_join_refuses_bad_input():
    with pytest.raises(ValueError):
        join_segments([], "mp3")
    with pytest.raises(InvalidAudio, match="segment 1 is wav"):
        join_segments([encode_pcm(tone(0.1, RATE), "mp3", RATE), encode_pcm(tone(0.1, RATE), "wav", RATE)], "mp3")
    with pytest.raises(InvalidAudio):
        join_segments([b"\x00\x00\x00"], "pcm")
    with pytest.raises(InvalidAudio):
        join_segments([encode_pcm(tone(0.1, 16000), "mp3", 16000), encode_pcm(tone(0.1, 24000), "mp3", 24000)],
                      "mp3")
