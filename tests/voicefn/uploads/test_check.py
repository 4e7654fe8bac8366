"""Checking an upload by ranged reads (voicefn.uploads.check): right answers, few bytes read.

The store is the real filesystem adapter, wrapped so that every byte read is counted: a large
file must be checked from a few blocks, never read whole.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from voicefn.audio import mp3, wav
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone
from voicefn.audio.probe import audio_info
from voicefn.errors import ApiError
from voicefn.storage.local_objects import LocalObjectStore
from voicefn.uploads import check
from voicefn.uploads.check import RangeReader, ReadBudgetExceeded, check_object
from voicefn.uploads.limits import ACCEPTED_FORMATS, PROBE_BLOCK_BYTES, PROBE_WHOLE_BYTES

from tests.voicefn.uploads.helpers import CountingStore, big_wav

MiB = 1024 * 1024
ASR = ACCEPTED_FORMATS["asr"]


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(LocalObjectStore(tmp_path, "voicefn-test", "http://objects.test", b"secret"))


async def _check(store: CountingStore, data: bytes, key: str = "uploads/x.bin", **kw: object):
    info = await store.put(key, data)
    return await check_object(store, key, size=info.size, formats=kw.pop("formats", ASR), **kw)  # type: ignore[arg-type]


def big_cbr_mp3(min_bytes: int) -> tuple[bytes, float]:
    """A constant-bit-rate mp3 of at least ``min_bytes`` (frames of a real encoding, repeated) and
    its exact duration."""
    layout = mp3.scan(encode_pcm(tone(5.0, 16000, freq=500), "mp3", 16000))
    frames, _, headers = mp3.audio_frames(encode_pcm(tone(5.0, 16000, freq=500), "mp3", 16000), layout)
    assert not mp3.is_vbr(headers)
    repeats = min_bytes // len(frames) + 1
    data = frames * repeats
    return data, len(headers) * repeats * headers[0].samples / headers[0].sample_rate


async def test_a_large_wav_is_checked_from_its_header(store: CountingStore) -> None:
    data = big_wav(600.0)  # ten minutes, 19 MB
    checked = await _check(store, data)
    assert (checked.format, checked.duration, checked.size) == ("wav", 600.0, len(data))
    assert (checked.sample_rate, checked.channels) == (16000, 1)
    assert store.bytes_read <= PROBE_BLOCK_BYTES  # one block of 19 MB


async def test_a_streamed_wav_header_means_to_the_end(store: CountingStore) -> None:
    data = wav.header(wav.pcm16_fmt(16000), None) + bytes(16000 * 2 * 100)
    checked = await _check(store, data)
    assert checked.duration == 100.0


async def test_a_wav_whose_header_claims_more_than_the_file_is_refused(store: CountingStore) -> None:
    """A header claiming ten times the file (a forged or corrupt length) is refused, as the sync
    routes refuse it (voicefn.audio.wav), also when only the head of a large object is read."""
    data = wav.header(wav.pcm16_fmt(16000), 10 * 16000 * 2 * 100) + bytes(16000 * 2 * 100)
    with pytest.raises(ApiError) as err:
        await _check(store, data)
    assert err.value.code == "INVALID_AUDIO" and "claims" in err.value.message


async def test_a_large_mp3_is_checked_from_its_head_and_tail(store: CountingStore) -> None:
    data, exact = big_cbr_mp3(3 * MiB)
    checked = await _check(store, data)
    assert checked.format == "mp3"
    assert checked.duration == pytest.approx(exact, rel=0.01)
    assert store.bytes_read <= 4 * PROBE_BLOCK_BYTES, store.ranges


@pytest.mark.parametrize("fmt", ["wav", "mp3", "opus", "flac", "ogg"])
async def test_the_ranged_path_agrees_with_the_exact_probe(store: CountingStore, monkeypatch: pytest.MonkeyPatch,
                                                           fmt: str) -> None:
    pcm = tone(30.0, 16000, freq=300)
    if fmt == "ogg":
        import numpy as np
        import soundfile as sf

        out = io.BytesIO()
        sf.write(out, np.frombuffer(pcm, dtype="<i2"), 16000, format="OGG", subtype="VORBIS")
        data = out.getvalue()
    else:
        data = encode_pcm(pcm, fmt, 16000)
    exact = audio_info(data)
    monkeypatch.setattr(check, "PROBE_WHOLE_BYTES", 1024)  # every file of this test takes the ranged path
    checked = await _check(store, data)
    assert checked.format == exact.format
    assert checked.duration == pytest.approx(exact.duration, abs=0.1)
    assert (checked.sample_rate, checked.channels) == (exact.sample_rate, exact.channels)


async def test_a_small_object_is_read_once_and_probed_exactly(store: CountingStore) -> None:
    data = encode_pcm(tone(2.0, 16000), "mp3", 16000)
    checked = await _check(store, data)
    assert checked.duration == audio_info(data).duration
    assert store.ranges == [(0, len(data))]


@pytest.mark.parametrize("data", [b"not audio at all, " * 100, b"not audio at all, " * 200_000])
async def test_junk_is_refused_after_its_first_block(store: CountingStore, data: bytes) -> None:
    with pytest.raises(ApiError) as err:
        await _check(store, data)
    assert err.value.code == "INVALID_AUDIO" and "not a supported audio file" in err.value.message
    assert store.bytes_read <= max(PROBE_BLOCK_BYTES, min(len(data), PROBE_WHOLE_BYTES))


async def test_a_large_file_with_a_valid_head_and_a_broken_body_is_refused(store: CountingStore) -> None:
    # an Ogg stream whose pages stop after the first block: no final granule to read
    data = encode_pcm(tone(2.0, 16000), "opus", 16000)[:4096] + b"\x00" * (3 * MiB)
    with pytest.raises(ApiError) as err:
        await _check(store, data)
    assert err.value.code == "INVALID_AUDIO"


async def test_reading_more_than_the_budget_is_refused(store: CountingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode_pcm(tone(30.0, 16000), "opus", 16000)  # its length is in its last page
    monkeypatch.setattr(check, "PROBE_WHOLE_BYTES", 1024)
    with pytest.raises(ApiError) as err:
        await _check(store, data, budget=PROBE_BLOCK_BYTES // 4)
    assert err.value.code == "INVALID_AUDIO" and "could not be checked" in err.value.message
    assert store.bytes_read <= PROBE_BLOCK_BYTES // 4


@pytest.mark.parametrize("formats, data, code", [
    (ACCEPTED_FORMATS["voice"], "flac", "INVALID_AUDIO"),    # audio, but not a format this purpose takes
    (ASR, b"", "INVALID_AUDIO"),
])
async def test_what_a_purpose_does_not_take_is_refused(store: CountingStore, formats: tuple[str, ...],
                                                       data: object, code: str) -> None:
    raw = encode_pcm(tone(1.0, 16000), "flac", 16000) if data == "flac" else data
    with pytest.raises(ApiError) as err:
        await _check(store, raw, formats=formats)  # type: ignore[arg-type]
    assert err.value.code == code


async def test_a_duration_limit_is_applied(store: CountingStore) -> None:
    with pytest.raises(ApiError) as err:
        await _check(store, big_wav(90.0), max_seconds=60)
    assert err.value.code == "AUDIO_TOO_LONG"


def test_the_range_reader_reads_across_blocks_and_counts() -> None:
    blob = bytes(range(256)) * 100  # 25600 bytes
    calls: list[tuple[int, int]] = []

    def fetch(start: int, length: int) -> bytes:
        calls.append((start, length))
        return blob[start:start + length]

    reader = RangeReader(fetch, len(blob), block=1000, budget=5000)
    reader.seek(990)
    assert reader.read(20) == blob[990:1010] and reader.tell() == 1010
    assert calls == [(0, 1000), (1000, 1000)]
    assert reader.read_at(995, 10) == blob[995:1005] and len(calls) == 2  # cached
    assert reader.seek(-5, io.SEEK_END) == len(blob) - 5 and reader.read() == blob[-5:]
    assert reader.read(10) == b""
    assert reader.fetched == 2600  # the last block is short
    with pytest.raises(ReadBudgetExceeded):
        reader.read_at(10_000, 3000)
    assert reader.exceeded

