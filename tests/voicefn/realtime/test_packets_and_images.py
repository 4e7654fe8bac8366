"""The realtime sockets' packet intake and image checks."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from voicefn.realtime.images import InvalidImage, image_info
from voicefn.realtime.packets import PacketError, PacketRun, parse_packet


def packet(seq: int, total: int, data: bytes, **extra: object) -> dict:
    return {"seq": seq, "total": total, "data": base64.b64encode(data).decode(), **extra}


def test_a_run_takes_packets_in_order_and_acknowledges_duplicates() -> None:
    run = PacketRun(max_total_bytes=100)
    assert run.add(parse_packet(packet(1, 3, b"ab"), max_bytes=8))
    assert not run.add(parse_packet(packet(1, 3, b"ab"), max_bytes=8))  # a resend: not counted
    with pytest.raises(PacketError, match="before packet 2"):
        run.add(parse_packet(packet(3, 3, b"ef"), max_bytes=8))
    assert run.add(parse_packet(packet(2, 3, b"cd"), max_bytes=8))
    with pytest.raises(PacketError, match="total changed"):
        run.add(parse_packet(packet(3, 4, b"ef"), max_bytes=8))
    assert run.add(parse_packet(packet(3, 3, b"ef"), max_bytes=8))
    assert run.complete and run.data() == b"abcdef" and run.received == 3


@pytest.mark.parametrize("message", [
    {"seq": 1, "total": 1}, {"seq": "1", "total": 1, "data": "AA=="}, {"seq": 2, "total": 1, "data": "AA=="},
    {"seq": 1, "total": 1, "data": "not base64!"}, {"seq": True, "total": 1, "data": "AA=="},
    packet(1, 1, b"x" * 9), packet(1, 1, b"x", type="video")])
def test_bad_packets_are_refused_with_a_message(message: dict) -> None:
    with pytest.raises(PacketError):
        parse_packet(message, max_bytes=8, types=("audio", "image"), typed=True)


def test_a_run_is_bounded_in_total() -> None:
    run = PacketRun(max_total_bytes=10)
    run.add(parse_packet(packet(1, 2, b"x" * 8), max_bytes=8))
    with pytest.raises(PacketError, match="at most"):
        run.add(parse_packet(packet(2, 2, b"x" * 8), max_bytes=8))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_image_size_is_read_from_the_header(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (123, 45), (10, 200, 30)).save(out, fmt)
    info = image_info(out.getvalue())
    assert (info.format, info.width, info.height) == ({"JPEG": "jpeg"}.get(fmt, fmt.lower()), 123, 45)


def test_other_files_and_huge_pictures_are_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (2000, 2000)).save(out, "PNG")
    with pytest.raises(InvalidImage, match="pixels"):
        image_info(out.getvalue(), max_pixels=1_000_000)
    for junk in (b"GIF89a" + b"\0" * 50, b"\x89PNG\r\n\x1a\n" + b"\0" * 4, b""):
        with pytest.raises(InvalidImage):
            image_info(junk)
