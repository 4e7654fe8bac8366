"""MPEG audio (mp3) framing in pure Python: frame headers, ID3 tags, Xing/Info/LAME header frames.

Used to detect mp3 without being fooled by a lone 0xFF byte, to count frames exactly (mutagen
estimates the length of a VBR stream without a Xing header from its first frame, which was wrong by
4x on libsndfile output), and to join segments frame by frame without decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from voicefn.audio.errors import InvalidAudio

# kbps by (version family, layer); index 0 is "free format", which we do not accept.
_BITRATES = {
    ("1", 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    ("1", 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    ("1", 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    ("2", 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    ("2", 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    ("2", 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}
_VERSIONS = {0b00: "2.5", 0b10: "2", 0b11: "1"}  # 0b01 is reserved
_LAYERS = {0b01: 3, 0b10: 2, 0b11: 1}  # 0b00 is reserved
DECODER_DELAY = 529  # samples an mp3 decoder's synthesis filter lags by (mpg123's GAPLESS_DELAY)


@dataclass(frozen=True)
class FrameHeader:
    version: str  # "1", "2" or "2.5"
    layer: int
    bitrate: int  # bits per second
    sample_rate: int
    padding: int
    channels: int
    protected: bool  # a 16-bit CRC follows the header
    length: int  # bytes, header included
    samples: int  # PCM samples per channel in this frame


def parse_header(data: bytes, pos: int = 0) -> FrameHeader | None:
    """The MPEG audio frame header at ``pos``, or None if those 4 bytes are not a valid one."""
    if pos + 4 > len(data):
        return None
    b0, b1, b2, b3 = data[pos], data[pos + 1], data[pos + 2], data[pos + 3]
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version = _VERSIONS.get((b1 >> 3) & 0b11)
    layer = _LAYERS.get((b1 >> 1) & 0b11)
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 0b11
    if version is None or layer is None or bitrate_index in (0, 15) or rate_index == 3 or (b3 & 0b11) == 0b10:
        return None
    family = "1" if version == "1" else "2"
    bitrate = _BITRATES[(family, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == 1:
        samples = 384
        length = (12 * bitrate // sample_rate + padding) * 4
    elif layer == 2 or version == "1":
        samples = 1152
        length = 144 * bitrate // sample_rate + padding
    else:  # layer III in MPEG-2 / 2.5 carries half as many samples
        samples = 576
        length = 72 * bitrate // sample_rate + padding
    channels = 1 if (b3 >> 6) == 0b11 else 2
    return FrameHeader(version, layer, bitrate, sample_rate, padding, channels, not (b1 & 1), length, samples)


def id3v2_size(data: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start of ``data`` (0 if there is none)."""
    if len(data) < 10 or data[:3] != b"ID3" or data[3] == 0xFF or data[4] == 0xFF:
        return 0
    size_bytes = data[6:10]
    if any(b & 0x80 for b in size_bytes):  # sizes are "syncsafe": 7 bits per byte
        return 0
    size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def first_frame_offset(data: bytes) -> int | None:
    """Offset of the first audio frame: after any ID3v2 tag and zero padding, or None."""
    pos = id3v2_size(data)
    while pos < len(data) and data[pos] == 0:
        pos += 1
    return pos if _frame_is_confirmed(data, pos) else None


def _frame_is_confirmed(data: bytes, pos: int) -> bool:
    """A header at ``pos`` whose successor (if the data goes on) is a matching header.

    One valid-looking header is 4 bytes of luck; two in a row at the computed distance is mp3.
    """
    head = parse_header(data, pos)
    if head is None or head.length < 4:
        return False
    nxt = pos + head.length
    if nxt + 4 > len(data):
        return nxt <= len(data)  # a lone frame must at least be complete
    follower = parse_header(data, nxt)
    if follower is not None:
        return follower.version == head.version and follower.layer == head.layer \
            and follower.sample_rate == head.sample_rate
    return data[nxt:nxt + 3] == b"TAG" or data[nxt:nxt + 8] == b"APETAGEX"


def iter_frames(data: bytes, start: int) -> Iterator[tuple[int, FrameHeader]]:
    """Consecutive frames from ``start`` until the bytes stop being frames (tags, junk, the end)."""
    pos = start
    while True:
        head = parse_header(data, pos)
        if head is None or head.length < 4 or pos + head.length > len(data):
            return
        yield pos, head
        pos += head.length


@dataclass(frozen=True)
class XingHeader:
    offset: int  # of b"Xing"/b"Info" inside the frame
    flags: int
    frames: int | None
    nbytes: int | None
    lame_offset: int | None  # of the 36-byte LAME extension inside the frame
    delay: int  # encoder delay in samples (0 without a LAME tag)
    padding: int  # encoder padding in samples (0 without a LAME tag)


def _side_info_size(head: FrameHeader) -> int:
    if head.version == "1":
        return 17 if head.channels == 1 else 32
    return 9 if head.channels == 1 else 17


def parse_xing(frame: bytes, head: FrameHeader) -> XingHeader | None:
    """The Xing/Info header (and LAME extension) of a header frame, or None for an audio frame."""
    if head.layer != 3:
        return None
    off = 4 + (2 if head.protected else 0) + _side_info_size(head)
    if frame[off:off + 4] not in (b"Xing", b"Info") or len(frame) < off + 8:
        return None
    flags = int.from_bytes(frame[off + 4:off + 8], "big")
    cur = off + 8
    frames = nbytes = None
    if flags & 1:
        frames = int.from_bytes(frame[cur:cur + 4], "big")
        cur += 4
    if flags & 2:
        nbytes = int.from_bytes(frame[cur:cur + 4], "big")
        cur += 4
    cur += (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    lame_offset = None
    delay = padding = 0
    # The LAME extension: a 9-byte encoder string, then fixed fields (36 bytes in all).
    if len(frame) >= cur + 36 and frame[cur:cur + 4].isalnum():
        lame_offset = cur
        dp = frame[cur + 21:cur + 24]
        delay = (dp[0] << 4) | (dp[1] >> 4)
        padding = ((dp[1] & 0x0F) << 8) | dp[2]
    return XingHeader(off, flags, frames, nbytes, lame_offset, delay, padding)


def is_vbri(frame: bytes) -> bool:
    """Fraunhofer's VBRI header frame (always 32 bytes after the 4-byte header)."""
    return frame[36:40] == b"VBRI"


@dataclass(frozen=True)
class Mp3Layout:
    tag: bytes  # the leading ID3v2 tag (b"" if none)
    frames: list[tuple[int, FrameHeader]]  # every audio frame, header frames included
    xing: XingHeader | None  # the header frame's Xing/Info data, if the first frame is one
    header_frame: bool  # the first frame is a Xing/Info/VBRI header frame, not audio


def scan(data: bytes) -> Mp3Layout:
    """Every frame of an mp3; raises :class:`InvalidAudio` if it has none."""
    start = first_frame_offset(data)
    if start is None:
        raise InvalidAudio("not an MPEG audio (mp3) stream")
    frames = list(iter_frames(data, start))
    if not frames:
        raise InvalidAudio("mp3 stream has no complete frame")
    pos, head = frames[0]
    first = data[pos:pos + head.length]
    xing = parse_xing(first, head)
    return Mp3Layout(data[:id3v2_size(data)], frames, xing, xing is not None or is_vbri(first))


def duration_of(layout: Mp3Layout) -> float:
    """Playing time: every audio frame, less the encoder delay/padding a LAME tag declares.

    This is what gapless decoders (mpg123, which libsndfile uses) play.
    """
    audio = layout.frames[1:] if layout.header_frame else layout.frames
    if not audio:
        return 0.0
    rate = audio[0][1].sample_rate
    samples = sum(h.samples for _, h in audio)
    if layout.xing is not None:
        # mpg123's gapless mode: a LAME tag's delay/padding (which already allow for the decoder's
        # own delay), or, with a bare Xing/Info frame, just the decoder delay.
        trim = layout.xing.delay + layout.xing.padding if layout.xing.lame_offset is not None else DECODER_DELAY
        samples = max(0, samples - trim)
    return samples / rate


# --- writing Xing/Info header frames -------------------------------------------------------------

def _crc16_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def lame_crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC (reflected 0x8005, init 0), the checksum LAME puts in its tag."""
    for b in data:
        crc = (crc >> 8) ^ _CRC16[(crc ^ b) & 0xFF]
    return crc


def build_toc(frame_offsets: list[int], total_bytes: int) -> bytes:
    """Xing seek table: for each percent of playing time, its byte position scaled to 0..255.

    Every frame of one stream holds the same number of samples, so time is the frame index.
    """
    n = len(frame_offsets)
    toc = bytearray(100)
    for i in range(100):
        offset = frame_offsets[min(n - 1, i * n // 100)] if n else 0
        toc[i] = min(255, offset * 256 // max(1, total_bytes))
    return bytes(toc)


def rewrite_xing(frame: bytes, xing: XingHeader, *, frames: int, nbytes: int, toc: bytes,
                 padding: int, music_crc: int | None) -> bytes:
    """The same header frame, describing a longer stream: counts, seek table, end padding, CRCs."""
    out = bytearray(frame)
    cur = xing.offset + 8
    if xing.flags & 1:
        out[cur:cur + 4] = frames.to_bytes(4, "big")
        cur += 4
    if xing.flags & 2:
        out[cur:cur + 4] = nbytes.to_bytes(4, "big")
        cur += 4
    if xing.flags & 4:
        out[cur:cur + 100] = toc
    lame = xing.lame_offset
    if lame is not None:
        padding = min(padding, 0xFFF)
        out[lame + 21:lame + 24] = bytes([xing.delay >> 4, ((xing.delay & 0x0F) << 4) | (padding >> 8),
                                          padding & 0xFF])
        out[lame + 28:lame + 32] = nbytes.to_bytes(4, "big")  # "music length": the whole stream
        if music_crc is not None:
            out[lame + 32:lame + 34] = music_crc.to_bytes(2, "big")
        out[lame + 34:lame + 36] = lame_crc16(bytes(out[:lame + 34])).to_bytes(2, "big")
    return bytes(out)


def make_xing_frame(like: FrameHeader, *, frames: int, nbytes_after: int, toc_offsets: list[int]) -> bytes:
    """A silent Info-style header frame (frames, bytes, TOC) matching ``like``'s version and rate.

    Decoders skip it and take the frame count from it; libsndfile needs that for VBR streams,
    whose length it otherwise guesses from the first frame's bit rate (and stops there).
    """
    family = "1" if like.version == "1" else "2"
    side = _side_info_size(like)
    need = 4 + side + 8 + 4 + 4 + 100
    version_bits = {"1": 0b11, "2": 0b10, "2.5": 0b00}[like.version]
    rate_index = _SAMPLE_RATES[like.version].index(like.sample_rate)
    for index, kbps in enumerate(_BITRATES[(family, 3)]):
        if not kbps:
            continue
        length = (144 if like.version == "1" else 72) * kbps * 1000 // like.sample_rate
        if length >= need:
            break
    else:
        raise InvalidAudio("no mp3 frame size can hold an Xing header")
    channel_bits = 0b11 if like.channels == 1 else 0b00
    head = bytes([0xFF, 0xE0 | (version_bits << 3) | (0b01 << 1) | 1, (index << 4) | (rate_index << 2),
                  channel_bits << 6])
    total = length + nbytes_after
    toc = build_toc([length + o for o in toc_offsets], total)
    body = b"Xing" + (1 | 2 | 4).to_bytes(4, "big") + frames.to_bytes(4, "big") + total.to_bytes(4, "big") + toc
    frame = head + bytes(side) + body
    return frame + bytes(length - len(frame))


def audio_frames(data: bytes, layout: Mp3Layout) -> tuple[bytes, list[int], list[FrameHeader]]:
    """The audio frames (header frame, tags and trailing junk left out) as one byte string, with
    each frame's offset in it and its header."""
    frames = layout.frames[1:] if layout.header_frame else layout.frames
    if not frames:
        return b"", [], []
    start = frames[0][0]
    end = frames[-1][0] + frames[-1][1].length
    return data[start:end], [pos - start for pos, _ in frames], [h for _, h in frames]


def is_vbr(headers: list[FrameHeader]) -> bool:
    return len({h.bitrate for h in headers}) > 1


def with_frame_count(data: bytes) -> bytes:
    """The stream with an Xing header frame in front if it is VBR and has none, else unchanged.

    libsndfile (mpg123) guesses a headerless stream's length from its first frame's bit rate and
    stops decoding there: 0.29 s of a 2 s VBR stream in our measurement.
    """
    layout = scan(data)
    if layout.header_frame:
        return data
    audio, offsets, headers = audio_frames(data, layout)
    if not is_vbr(headers):
        return data
    xing = make_xing_frame(headers[0], frames=len(headers), nbytes_after=len(audio), toc_offsets=offsets)
    return layout.tag + xing + audio
