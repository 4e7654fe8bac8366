"""seed 002's packet intake: ``{seq, total, data}`` (``type`` too on the VLM socket).

A turn's upload is a numbered run of base64 pieces. Duplicates (a client resending after a lost
ack) are acknowledged but not counted twice; a gap (a packet beyond the next expected one), a
changed ``total``, bad base64 or an oversized piece is a :class:`PacketError` the socket reports
as an ``error`` event — the socket and the pieces already in stay alive, so the client can
resend the right packet.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PacketError", "Packet", "PacketRun", "parse_packet"]

MAX_TOTAL_PACKETS = 4096


class PacketError(ValueError):
    """A packet the socket refuses; its message is sent to the client."""


@dataclass(frozen=True)
class Packet:
    seq: int
    total: int
    data: bytes
    type: str = "audio"


def _int_field(message: dict[str, Any], name: str) -> int:
    value = message.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PacketError(f"packet field {name!r} must be an integer")
    return value


def parse_packet(message: dict[str, Any], *, max_bytes: int, types: tuple[str, ...] = ("audio",),
                 typed: bool = False) -> Packet:
    """A checked packet. ``max_bytes`` bounds the decoded piece (seed 002: 8 KB of audio on
    /v1/chat/audio, 50 KB on /v1/chat/vlm); the base64 text is checked before it is decoded."""
    seq, total = _int_field(message, "seq"), _int_field(message, "total")
    if not 1 <= total <= MAX_TOTAL_PACKETS:
        raise PacketError(f"total must be between 1 and {MAX_TOTAL_PACKETS}")
    if not 1 <= seq <= total:
        raise PacketError(f"seq must be between 1 and total ({total})")
    kind = message.get("type", types[0]) if typed else types[0]
    if kind not in types:
        raise PacketError(f"packet type must be one of {', '.join(types)}")
    data = message.get("data")
    if not isinstance(data, str) or not data:
        raise PacketError("packet field 'data' must be a non-empty base64 string")
    if len(data) > (max_bytes * 4) // 3 + 4:
        raise PacketError(f"a packet carries at most {max_bytes // 1024} KB")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PacketError(f"packet {seq}: data is not valid base64") from None
    if len(raw) > max_bytes:
        raise PacketError(f"a packet carries at most {max_bytes // 1024} KB")
    return Packet(seq=seq, total=total, data=raw, type=str(kind))


@dataclass
class PacketRun:
    """The pieces of one upload (one turn's audio, or its image), in order."""

    max_total_bytes: int
    total: int = 0
    pieces: list[bytes] = field(default_factory=list)
    size: int = 0

    @property
    def received(self) -> int:
        return len(self.pieces)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.received == self.total

    def add(self, packet: Packet) -> bool:
        """Take ``packet``; False for a duplicate (acknowledged, not counted)."""
        if self.total and packet.total != self.total:
            raise PacketError(f"total changed from {self.total} to {packet.total} within one upload")
        if packet.seq <= self.received:
            return False
        if packet.seq != self.received + 1:
            raise PacketError(f"packet {packet.seq} arrived before packet {self.received + 1}; "
                              f"resend from {self.received + 1}")
        if self.size + len(packet.data) > self.max_total_bytes:
            raise PacketError(f"an upload is at most {self.max_total_bytes // (1024 * 1024)} MB")
        self.total = packet.total
        self.pieces.append(packet.data)
        self.size += len(packet.data)
        return True

    def data(self) -> bytes:
        return b"".join(self.pieces)
