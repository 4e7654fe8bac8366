"""Is an uploaded object the audio it claims to be? Found out with ranged reads, never a whole one.

An object up to ``PROBE_WHOLE_BYTES`` is read in one range and probed exactly
(:func:`voicefn.audio.probe.audio_info`). A larger one is read where its parser looks, through
:class:`RangeReader` (a seekable file over ``ObjectStore.get_range`` that fetches blocks on
demand and stops at a read budget): the header for every format, and the end of the file for
those whose length is only there (the last Ogg page's granule, mp3's trailing tags, an m4a's
``moov`` atom written after the samples). A 200 MB upload is checked by reading a few blocks.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voicefn.errors import ApiError
from voicefn.storage.objects import ObjectStore
from voicefn.uploads.limits import PROBE_BLOCK_BYTES, PROBE_MAX_READ_BYTES, PROBE_WHOLE_BYTES, MiB

if TYPE_CHECKING:
    from voicefn.audio.probe import AudioInfo

__all__ = ["CheckedAudio", "RangeReader", "ReadBudgetExceeded", "check_object", "probe_file"]

_FETCH_TIMEOUT_S = 60.0
_MUTAGEN = {"mp3": "mutagen.mp3.MP3", "opus": "mutagen.oggopus.OggOpus", "ogg": "mutagen.oggvorbis.OggVorbis",
            "flac": "mutagen.flac.FLAC", "m4a": "mutagen.mp4.MP4"}


@dataclass(frozen=True)
class CheckedAudio:
    """What an upload's bytes are: its real format and how long it plays."""

    format: str
    duration: float      # seconds
    size: int            # bytes
    sample_rate: int
    channels: int


class ReadBudgetExceeded(Exception):
    """Checking the object would read more than the budget allows."""


Fetch = Callable[[int, int], bytes]  # (start, length) -> bytes, blocking


class RangeReader(io.RawIOBase):
    """A read-only, seekable file of ``size`` bytes whose content comes from ``fetch`` in blocks.

    Blocks are fetched once and kept (the budget bounds them); ``fetched`` counts the bytes read
    from the store. Past ``budget`` bytes a read raises :class:`ReadBudgetExceeded` and ``exceeded``
    stays set, even if the parser that asked swallows the error.
    """

    def __init__(self, fetch: Fetch, size: int, *, block: int = PROBE_BLOCK_BYTES,
                 budget: int = PROBE_MAX_READ_BYTES) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._block = block
        self._budget = budget
        self._blocks: dict[int, bytes] = {}
        self._pos = 0
        self.fetched = 0
        self.exceeded = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        pos = base + offset
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read_at(self._pos, len(view))
        view[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def read_at(self, start: int, length: int) -> bytes:
        """``length`` bytes from ``start`` (fewer at the end), without moving the position."""
        end = min(self._size, start + max(0, length))
        if start >= end:
            return b""
        first, last = start // self._block, (end - 1) // self._block
        parts = [self._get_block(i) for i in range(first, last + 1)]
        joined = b"".join(parts)
        offset = start - first * self._block
        return joined[offset:offset + (end - start)]

    def _get_block(self, index: int) -> bytes:
        cached = self._blocks.get(index)
        if cached is not None:
            return cached
        start = index * self._block
        length = min(self._block, self._size - start)
        if self.fetched + length > self._budget:
            self.exceeded = True
            raise ReadBudgetExceeded(f"checking needs more than {self._budget} bytes of the object")
        data = self._fetch(start, length)
        self.fetched += len(data)
        if len(data) != length:
            raise OSError(f"the object changed while it was read (expected {length} bytes at {start})")
        self._blocks[index] = data
        return data


async def check_object(objects: ObjectStore, key: str, *, size: int, formats: tuple[str, ...],
                       max_seconds: float | None = None, budget: int = PROBE_MAX_READ_BYTES) -> CheckedAudio:
    """The object's real format and duration, or :class:`ApiError` INVALID_AUDIO / AUDIO_TOO_LONG
    saying why it is refused. ``size`` is what ``head`` reported."""
    from voicefn.audio.errors import InvalidAudio
    from voicefn.audio.probe import audio_info

    if size <= 0:
        raise ApiError("INVALID_AUDIO", "the upload is empty")
    info: AudioInfo
    try:
        if size <= PROBE_WHOLE_BYTES:
            data = await objects.get_range(key, 0, size)
            if len(data) != size:
                raise InvalidAudio("the object changed while it was read")
            info = await asyncio.to_thread(audio_info, data)
        else:
            loop = asyncio.get_running_loop()

            def fetch(start: int, length: int) -> bytes:  # runs in the probe's thread
                future = asyncio.run_coroutine_threadsafe(objects.get_range(key, start, length), loop)
                return future.result(_FETCH_TIMEOUT_S)

            reader = RangeReader(fetch, size, budget=budget)
            info = await asyncio.to_thread(probe_file, reader, size)
    except ReadBudgetExceeded as exc:
        raise ApiError("INVALID_AUDIO", f"the upload could not be checked: {exc}") from exc
    except InvalidAudio as exc:
        raise ApiError("INVALID_AUDIO", f"not a supported audio file ({exc})") from exc
    if info.format not in formats:
        raise ApiError("INVALID_AUDIO", f"unsupported audio format {info.format}")
    if info.duration <= 0:
        raise ApiError("INVALID_AUDIO", "the audio has no samples")
    if max_seconds is not None and info.duration > max_seconds:
        raise ApiError("AUDIO_TOO_LONG", f"audio is {info.duration:.1f} s; at most {max_seconds:g} s here")
    return CheckedAudio(info.format, info.duration, size, info.sample_rate, info.channels)


def probe_file(reader: RangeReader, size: int) -> AudioInfo:
    """:class:`~voicefn.audio.probe.AudioInfo` of a large object, reading only what its format needs."""
    import math

    from voicefn.audio.errors import InvalidAudio, UnsupportedAudio
    from voicefn.audio.formats import detect_format
    from voicefn.audio.probe import AudioInfo

    head = reader.read_at(0, PROBE_BLOCK_BYTES)
    fmt = detect_format(head)
    if fmt is None:
        raise InvalidAudio("not a recognised audio format")
    if fmt == "webm":
        raise UnsupportedAudio("webm cannot be probed or decoded here; send mp3, wav, ogg, opus or flac")
    if fmt == "wav":
        info = _wav_info(reader, size)
    else:
        info = _mutagen_info(fmt, reader)
    if reader.exceeded:  # a parser that swallowed the budget error saw a truncated file
        raise ReadBudgetExceeded(f"checking needs more than {PROBE_MAX_READ_BYTES // MiB} MiB of the object")
    if not math.isfinite(info.duration) or info.duration < 0 or info.sample_rate <= 0:
        raise InvalidAudio(f"{fmt} header describes impossible audio")
    return AudioInfo(info.format, info.duration, info.sample_rate, info.channels)


def _wav_info(reader: RangeReader, size: int) -> AudioInfo:
    """The RIFF chunks up to ``data``: its declared size, bounded by the object's, gives the length."""
    from voicefn.audio import wav
    from voicefn.audio.errors import InvalidAudio
    from voicefn.audio.probe import AudioInfo

    for span in (PROBE_BLOCK_BYTES, 16 * PROBE_BLOCK_BYTES):  # a long LIST chunk may push data further
        head = reader.read_at(0, span)
        try:
            layout = wav.parse_wav(head, file_size=size)
        except InvalidAudio:
            if len(head) < span or span == 16 * PROBE_BLOCK_BYTES:
                raise
            continue
        data_size = layout.data_size
        return AudioInfo("wav", data_size / layout.block_align / layout.sample_rate,
                         layout.sample_rate, layout.channels)
    raise InvalidAudio("WAV has no data chunk")  # pragma: no cover - the loop returns or raises


def _mutagen_info(fmt: str, reader: RangeReader) -> AudioInfo:
    import importlib

    from voicefn.audio.errors import InvalidAudio
    from voicefn.audio.probe import AudioInfo

    module_name, cls_name = _MUTAGEN[fmt].rsplit(".", 1)
    reader.seek(0)
    try:
        parsed = getattr(importlib.import_module(module_name), cls_name)(reader)
        info = parsed.info
        length, channels = float(info.length), int(info.channels)
        # Opus always decodes at 48 kHz; the rate worth reporting is the input rate in its OpusHead
        rate = _opus_input_rate(reader) if fmt == "opus" else int(info.sample_rate)
    except ReadBudgetExceeded:
        raise
    except Exception as exc:  # mutagen raises a different error class per format
        if reader.exceeded:
            raise ReadBudgetExceeded(f"checking needs more than {PROBE_MAX_READ_BYTES // MiB} MiB of the object") \
                from exc
        raise InvalidAudio(f"{fmt} could not be read: {exc}") from exc
    if fmt == "flac" and length == 0:
        # a streamed FLAC: STREAMINFO says "total unknown"; only decoding all of it would tell
        raise InvalidAudio("this FLAC does not say its length in its header; re-encode it or send wav/mp3")
    return AudioInfo(fmt, length, rate, channels)


def _opus_input_rate(reader: RangeReader) -> int:
    from voicefn.audio import ogg

    head = reader.read_at(0, PROBE_BLOCK_BYTES)
    first = 27 + head[26]  # the BOS page's segment table, then its one packet: OpusHead
    size = sum(head[27:first])
    return ogg.parse_opus_head(head[first:first + size]).input_rate or 48000
