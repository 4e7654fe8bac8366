"""The audio formats we speak, their MIME types and extensions, and detection by magic bytes.

Output formats (what TTS can produce): ``mp3``, ``wav``, ``pcm`` (raw 16-bit signed little-endian
mono), ``opus`` (Opus in Ogg), ``flac``. Detection also knows the upload-only containers ``ogg``
(Vorbis), ``m4a`` (ISO BMFF) and ``webm`` (EBML), so a route can name what it refuses.
"""

from __future__ import annotations

from voicefn.audio import mp3, wav

OUTPUT_FORMATS: tuple[str, ...] = ("mp3", "wav", "pcm", "opus", "flac")
DETECTABLE_FORMATS: tuple[str, ...] = ("mp3", "wav", "opus", "ogg", "flac", "m4a", "webm")

# Registered or de-facto MIME types. pcm has none registered: OpenAI-compatible servers send
# ``audio/pcm`` and we add the rate as a parameter, since raw samples cannot say it themselves.
_CONTENT_TYPES = {
    "mp3": "audio/mpeg",  # RFC 3003
    "wav": "audio/wav",  # what browsers and OpenAI send (audio/vnd.wave is the registered one)
    "pcm": "audio/pcm",
    "opus": "audio/ogg; codecs=opus",  # RFC 7845 §9
    "ogg": "audio/ogg",  # RFC 5334
    "flac": "audio/flac",  # RFC 9639
    "m4a": "audio/mp4",  # RFC 4337
    "webm": "audio/webm",
}
_EXTENSIONS = {"mp3": "mp3", "wav": "wav", "pcm": "pcm", "opus": "opus", "ogg": "ogg", "flac": "flac",
               "m4a": "m4a", "webm": "webm"}
# Names clients use for our formats (OpenAI ``response_format``, MIME subtypes, DashScope enums).
_ALIASES = {"mpeg": "mp3", "mpga": "mp3", "wave": "wav", "x-wav": "wav", "ogg_opus": "opus",
            "oggopus": "opus", "pcm16": "pcm", "s16le": "pcm", "mp4": "m4a", "aac": "m4a"}


def normalize_format(name: str) -> str:
    """``"MP3"``/``"mpeg"`` -> ``"mp3"``; raises ValueError for a name we do not know."""
    key = (name or "").strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _CONTENT_TYPES:
        raise ValueError(f"unknown audio format {name!r}")
    return key


def content_type(fmt: str, sample_rate: int | None = None) -> str:
    """MIME type for a format; pcm gets ``;rate=<sr>`` when the rate is given."""
    key = normalize_format(fmt)
    if key == "pcm" and sample_rate:
        return f"audio/pcm;rate={int(sample_rate)}"
    return _CONTENT_TYPES[key]


def extension(fmt: str) -> str:
    """File extension without the dot (Ogg Opus is ``.opus``)."""
    return _EXTENSIONS[normalize_format(fmt)]


def detect_format(data: bytes) -> str | None:
    """What the bytes are, from their magic numbers only; None for anything else (text, junk, pcm)."""
    if len(data) < 4:
        return None
    if wav.is_wav(data):
        return "wav"
    if data[:4] == b"OggS":
        return _ogg_codec(data)
    if data[:4] == b"fLaC":
        # the first metadata block must be STREAMINFO (type 0) of 34 bytes
        return "flac" if len(data) >= 8 and (data[4] & 0x7F) == 0 and data[5:8] == b"\x00\x00\x22" else None
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12].isascii():
        return "m4a"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if mp3.first_frame_offset(data) is not None:  # ID3v2 tag and/or two consecutive frame headers
        return "mp3"
    return None


def _ogg_codec(data: bytes) -> str | None:
    """The codec of the first logical stream: its BOS page's first packet names it."""
    if len(data) < 28:
        return None
    first = 27 + data[26]
    packet = data[first:first + 8]
    if packet == b"OpusHead":
        return "opus"
    if packet[:7] == b"\x01vorbis":
        return "ogg"
    return None
