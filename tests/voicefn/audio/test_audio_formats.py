"""Formats: MIME types, extensions, and detection by magic bytes on real encoder output."""

from __future__ import annotations

import io
import random
import struct

import pytest

from voicefn.audio import content_type, detect_format, extension, normalize_format
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone

RATE = 16000


def _pcm() -> bytes:
    return tone(0.3, RATE, 440)


def _id3v2(body: bytes = b"\x00" * 20) -> bytes:
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + body


def _soundfile_bytes(fmt: str, subtype: str) -> bytes:
    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.frombuffer(_pcm(), dtype="<i2"), RATE, format=fmt, subtype=subtype)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["mp3", "wav", "opus", "flac"])
def test_detects_what_our_encoders_write(fmt):
    assert detect_format(encode_pcm(_pcm(), fmt, RATE)) == fmt


def test_detects_libsndfile_mp3_with_xing_and_ogg_vorbis():
    assert detect_format(_soundfile_bytes("MP3", "MPEG_LAYER_III")) == "mp3"
    assert detect_format(_soundfile_bytes("OGG", "VORBIS")) == "ogg"


def test_detects_mp3_behind_an_id3v2_tag():
    assert detect_format(_id3v2() + encode_pcm(_pcm(), "mp3", RATE)) == "mp3"


def test_detects_iso_bmff_and_ebml_magic():
    ftyp = struct.pack(">I", 24) + b"ftypM4A " + b"\x00\x00\x00\x00" + b"M4A isom"
    assert detect_format(ftyp + b"\x00" * 32) == "m4a"
    assert detect_format(b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + b"\x00" * 32) == "webm"


@pytest.mark.parametrize("data", [
    b"",
    b"RIFF",
    "RIFF is a container format used by WAVE files.\n".encode(),
    "ID3 tags carry the title of an mp3 file.".encode(),
    "OggS is the capture pattern; fLaC the FLAC magic.".encode(),
    '{"text": "你好，世界"}'.encode(),
    b"<!doctype html><html><body>not audio</body></html>",
    "纯文本文件，改了扩展名也不是音频。".encode("utf-8"),
])
def test_not_fooled_by_text(data):
    assert detect_format(data) is None


def test_not_fooled_by_a_single_frame_sync_or_a_tag_over_junk():
    # a valid-looking MPEG header followed by text: no second frame where the first one ends
    assert detect_format(b"\xff\xfb\x90\x64" + b"this is just text after four bytes " * 20) is None
    assert detect_format(_id3v2() + b"plain text after an ID3 tag " * 10) is None
    # an Ogg page whose first packet names no codec we know
    page = b"OggS\x00\x02" + bytes(20) + b"\x01\x08" + b"Speex   "
    assert detect_format(page) is None


def test_raw_pcm_and_random_bytes_are_not_detected():
    assert detect_format(_pcm()) is None
    rng = random.Random(7)
    for _ in range(200):
        assert detect_format(bytes(rng.randrange(256) for _ in range(512))) is None


def test_content_types_and_extensions():
    assert content_type("mp3") == "audio/mpeg"
    assert content_type("wav") == "audio/wav"
    assert content_type("pcm") == "audio/pcm"
    assert content_type("pcm", 24000) == "audio/pcm;rate=24000"
    assert content_type("opus") == "audio/ogg; codecs=opus"
    assert content_type("flac") == "audio/flac"
    assert [extension(f) for f in ("mp3", "wav", "pcm", "opus", "flac")] == ["mp3", "wav", "pcm", "opus", "flac"]


def test_normalize_format_aliases_and_unknowns():
    assert normalize_format(" MP3 ") == "mp3"
    assert normalize_format("mpeg") == "mp3"
    assert normalize_format("OGG_OPUS") == "opus"
    with pytest.raises(ValueError):
        normalize_format("aiff")
    with pytest.raises(ValueError):
        content_type("midi")
