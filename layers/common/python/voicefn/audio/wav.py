"""RIFF/WAVE in pure Python: find the ``fmt `` and ``data`` chunks, write headers.

Our own parser because streamed WAV (ours and DashScope's) carries 0xFFFFFFFF as its sizes, which
mutagen takes literally (it reported 134217 s for a 1 s file) while players treat it as "until EOF".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from voicefn.audio.errors import InvalidAudio

# RIFF and data sizes of a WAV whose length is not known when the header is sent. Browsers,
# ffmpeg, VLC and libsndfile read such a file to its end; it is what streaming TTS servers send.
STREAMING_SIZE = 0xFFFFFFFF
# Other "length unknown" sizes writers use for pipes (0x7FFFFFFF, and sox's 0x7FFFF000).
_UNKNOWN_SIZES = (STREAMING_SIZE, 0x7FFFFFFF, 0x7FFFF000)
# What real audio has: anything outside is a forged or corrupt header (a rate of 4294967295 Hz
# made a file "0 s long" and still billed).
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64
MAX_BITS = 64

PCM = 1
IEEE_FLOAT = 3
EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class WavLayout:
    format_tag: int  # effective tag: the sub-format for WAVE_FORMAT_EXTENSIBLE
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int
    fmt_chunk: bytes  # the raw ``fmt `` body, to write back unchanged
    data_offset: int
    data_size: int  # clamped to the bytes present, whole blocks only

    @property
    def frames(self) -> int:
        return self.data_size // self.block_align

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def same_format(self, other: "WavLayout") -> bool:
        return (self.format_tag, self.channels, self.sample_rate, self.bits_per_sample) == (
            other.format_tag, other.channels, other.sample_rate, other.bits_per_sample)


def is_wav(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def parse_wav(data: bytes, *, file_size: int | None = None) -> WavLayout:
    """Locate format and samples; raises :class:`InvalidAudio` for anything that is not a WAV.

    ``file_size``: the whole file's length when ``data`` is only its beginning (a ranged check of a
    large object); the sizes are then bounded by the file, not by ``data``."""
    if not is_wav(data):
        raise InvalidAudio("not a RIFF/WAVE file")
    pos = 12
    fmt: tuple[int, int, int, int, int, bytes] | None = None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt = _parse_fmt(data[body:body + size])
        elif cid == b"data":
            if fmt is None:
                raise InvalidAudio("WAV data chunk before its fmt chunk")
            tag, channels, rate, bits, align, raw = fmt
            available = (len(data) if file_size is None else file_size) - body
            # 0xFFFFFFFF (streamed): the samples run to the end of the file. A size past the end
            # by more than a block is a header that lies about the file (a "4 GB" WAV of 1 KB).
            if size > available + align and size not in _UNKNOWN_SIZES:
                raise InvalidAudio(f"WAV header claims {size} bytes of samples but the file has {available}")
            if size in _UNKNOWN_SIZES or size > available or (size == 0 and available > 0):
                size = available
            size -= size % align
            return WavLayout(tag, channels, rate, bits, align, raw, body, size)
        if size == STREAMING_SIZE:
            break
        pos = body + size + (size & 1)  # chunks are padded to even sizes
    raise InvalidAudio("WAV has no data chunk")


def _parse_fmt(body: bytes) -> tuple[int, int, int, int, int, bytes]:
    if len(body) < 16:
        raise InvalidAudio("WAV fmt chunk too short")
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the sub-format GUID
    if channels < 1 or rate < 1 or bits < 1:
        raise InvalidAudio("WAV fmt chunk has zero channels, rate or bit depth")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudio(f"WAV sample rate {rate} Hz is not a real audio rate")
    if channels > MAX_CHANNELS or bits > MAX_BITS:
        raise InvalidAudio(f"WAV fmt chunk claims {channels} channels of {bits} bits")
    align = channels * ((bits + 7) // 8)  # recomputed: some writers get block_align wrong
    return tag, channels, rate, bits, align, bytes(body)


def pcm16_fmt(sample_rate: int, channels: int = 1) -> bytes:
    """The 16-byte ``fmt `` body of 16-bit PCM."""
    return struct.pack("<HHIIHH", PCM, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16)


def header(fmt_chunk: bytes, data_size: int | None) -> bytes:
    """RIFF header + ``fmt `` + ``data`` chunk header; ``data_size=None`` writes streaming sizes."""
    if data_size is None:
        riff = data = STREAMING_SIZE
    else:
        data = data_size
        riff = 4 + (8 + len(fmt_chunk) + (len(fmt_chunk) & 1)) + 8 + data_size + (data_size & 1)
    pad = b"\x00" if len(fmt_chunk) & 1 else b""
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk))
            + fmt_chunk + pad + b"data" + struct.pack("<I", data))


def build(fmt_chunk: bytes, samples: bytes) -> bytes:
    """A complete WAV with correct sizes."""
    return header(fmt_chunk, len(samples)) + samples + (b"\x00" if len(samples) & 1 else b"")


def with_true_sizes(data: bytes) -> bytes:
    """A WAV whose RIFF and data sizes are what the file holds. A streamed WAV carries
    0xFFFFFFFF ("until EOF"), right for a stream of unknown length, wrong for a stored file:
    ``soxi`` reads 27 hours, Python's ``wave`` 2**31 frames. Anything else is returned as is."""
    if not is_wav(data):
        return data
    layout = parse_wav(data)
    riff_size = struct.unpack_from("<I", data, 4)[0]
    declared = struct.unpack_from("<I", data, layout.data_offset - 4)[0]
    if riff_size != STREAMING_SIZE and declared == layout.data_size:
        return data
    return build(layout.fmt_chunk, data[layout.data_offset:layout.data_offset + layout.data_size])
