"""Ogg pages and Opus packets in pure Python (RFC 3533, RFC 7845, RFC 6716 §3.1).

Enough to check an Ogg stream's integrity, count the samples in its Opus packets, and write pages
back with new serial numbers, sequence numbers and granule positions (see ``join``).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

from voicefn.audio.errors import InvalidAudio

CONTINUED = 0x01
BOS = 0x02
EOS = 0x04

_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc32(data: bytes) -> int:
    """Ogg's CRC-32: polynomial 0x04C11DB7, MSB-first, initial value 0, no final xor.

    zlib computes the bit-reflected CRC with the same polynomial, so the Ogg CRC is zlib's run
    over bit-reversed bytes (with zlib's init/xor undone), bit-reversed back: C speed, no table.
    """
    reflected = zlib.crc32(data.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


@dataclass(frozen=True)
class Page:
    header_type: int
    granule: int  # -1: no packet ends on this page
    serial: int
    sequence: int
    lacing: bytes  # the segment table
    body: bytes

    @property
    def packets_ending(self) -> int:
        return sum(1 for v in self.lacing if v < 255)

    def to_bytes(self) -> bytes:
        head = struct.pack("<4sBBqIII", b"OggS", 0, self.header_type, self.granule, self.serial,
                           self.sequence, 0) + bytes([len(self.lacing)]) + self.lacing
        raw = head + self.body
        crc = ogg_crc32(raw)
        return raw[:22] + struct.pack("<I", crc) + raw[26:]


def parse_pages(data: bytes) -> list[Page]:
    """Every page, CRCs checked; raises :class:`InvalidAudio` on anything else."""
    pages = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 4] != b"OggS" or pos + 27 > len(data):
            raise InvalidAudio(f"broken Ogg stream at byte {pos}")
        version, htype, granule, serial, seq, crc, nseg = struct.unpack_from("<BBqIIIB", data, pos + 4)
        if version != 0:
            raise InvalidAudio(f"unknown Ogg version {version}")
        lacing = data[pos + 27:pos + 27 + nseg]
        end = pos + 27 + nseg + sum(lacing)
        if len(lacing) != nseg or end > len(data):
            raise InvalidAudio("truncated Ogg page")
        raw = data[pos:end]
        if ogg_crc32(raw[:22] + b"\x00\x00\x00\x00" + raw[26:]) != crc:
            raise InvalidAudio(f"Ogg page {seq} fails its CRC")
        pages.append(Page(htype, granule, serial, seq, bytes(lacing), bytes(data[pos + 27 + nseg:end])))
        pos = end
    if not pages:
        raise InvalidAudio("empty Ogg stream")
    return pages


def iter_packets(pages: list[Page]) -> Iterator[tuple[int, bytes]]:
    """(index of the page the packet ends on, packet) for every complete packet."""
    partial = bytearray()
    for index, page in enumerate(pages):
        pos = 0
        for value in page.lacing:
            partial += page.body[pos:pos + value]
            pos += value
            if value < 255:
                yield index, bytes(partial)
                partial.clear()


@dataclass(frozen=True)
class OpusHead:
    channels: int
    pre_skip: int  # 48 kHz samples the decoder drops at the start
    input_rate: int
    mapping_family: int


def parse_opus_head(packet: bytes) -> OpusHead:
    if len(packet) < 19 or packet[:8] != b"OpusHead":
        raise InvalidAudio("Ogg stream is not Opus (no OpusHead)")
    _version, channels, pre_skip, rate, _gain, family = struct.unpack_from("<BBHIhB", packet, 8)
    if channels < 1:
        raise InvalidAudio("OpusHead with zero channels")
    return OpusHead(channels, pre_skip, rate, family)


# Frame duration in 48 kHz samples for each TOC configuration (RFC 6716 §3.1).
_FRAME_SAMPLES = (
    [480, 960, 1920, 2880] * 3  # 0-11 SILK-only: 10, 20, 40, 60 ms
    + [480, 960] * 2  # 12-15 hybrid: 10, 20 ms
    + [120, 240, 480, 960] * 4  # 16-31 CELT-only: 2.5, 5, 10, 20 ms
)


def opus_packet_samples(packet: bytes) -> int:
    """48 kHz samples one Opus packet decodes to."""
    if not packet:
        return 0
    toc = packet[0]
    code = toc & 0b11
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        if len(packet) < 2:
            raise InvalidAudio("Opus packet truncated")
        count = packet[1] & 0x3F
    return _FRAME_SAMPLES[toc >> 3] * count
