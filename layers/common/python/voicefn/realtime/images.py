"""An image checked by its bytes: JPEG, PNG or WebP, with its pixel size read from the header.

No image library in the layer: the three headers are small and documented, and a picture's
size is all the socket needs to refuse a decompression bomb before it reaches the VLM.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["ImageInfo", "InvalidImage", "image_info", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS"]

MAX_IMAGE_BYTES = 10 * 1024 * 1024   # DashScope's qwen-vl takes images up to 10 MB
MAX_IMAGE_PIXELS = 40_000_000        # larger pictures are a memory risk and DashScope downscales anyway
_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class InvalidImage(ValueError):
    """Not a JPEG/PNG/WebP we accept; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str   # jpeg | png | webp
    width: int
    height: int

    @property
    def mime(self) -> str:
        return _MIME[self.format]

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise InvalidImage("PNG without its IHDR header")
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def _jpeg(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise InvalidImage("JPEG with a broken marker")
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > len(data):
                break
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return int(w), int(h)
        if length < 2:
            raise InvalidImage("JPEG with a broken segment")
        i += 2 + length
    raise InvalidImage("JPEG without a frame header")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise InvalidImage("WebP with an unknown or truncated header")


def image_info(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageInfo:
    """The image's format and size, or InvalidImage (wrong kind, truncated, too big)."""
    if len(data) > max_bytes:
        raise InvalidImage(f"the image is larger than {max_bytes // (1024 * 1024)} MB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        fmt, (w, h) = "png", _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        fmt, (w, h) = "jpeg", _jpeg(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        fmt, (w, h) = "webp", _webp(data)
    else:
        raise InvalidImage("the image must be JPEG, PNG or WebP")
    if w <= 0 or h <= 0:
        raise InvalidImage("the image has no pixels")
    if w * h > max_pixels:
        raise InvalidImage(f"the image has more than {max_pixels:,} pixels")
    return ImageInfo(format=fmt, width=w, height=h)
