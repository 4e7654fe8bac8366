"""What uploads may be, stated once: purposes, sizes, media types, the reading budget of a check.

The ticket code, the intake workflow, the purposes' hooks and the local object store all read
these; nothing else repeats them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ACCEPTED_FORMATS", "ACCEPTED_TYPES", "FILETRANS_MODEL", "KiB", "MAX_SIZE", "MiB", "PROBE_BLOCK_BYTES",
           "PROBE_MAX_READ_BYTES", "PROBE_WHOLE_BYTES", "PURPOSES", "TICKET_TTL_S"]

KiB: Final = 1024
MiB: Final = 1024 * KiB

PURPOSES: Final = ("asr", "voice")
TICKET_TTL_S: Final = 1800  # a 200 MiB upload over a phone network needs its time; OSS checks at request start

# the largest object a ticket of each purpose allows; voice: seed 003 §3.1 (≤ 10 MB samples)
MAX_SIZE: Final[dict[str, int]] = {"asr": 200 * MiB, "voice": 10 * MiB}

# declared media type -> extension of the object key, per purpose; the filename's extension is not trusted
ACCEPTED_TYPES: Final[dict[str, dict[str, str]]] = {
    "asr": {
        "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
        "audio/mpeg": "mp3", "audio/mp3": "mp3",
        "audio/ogg": "ogg", "audio/opus": "opus",
        "audio/flac": "flac", "audio/x-flac": "flac",
        "audio/mp4": "m4a", "audio/m4a": "m4a", "audio/x-m4a": "m4a", "audio/aac": "aac",
        "audio/webm": "webm",
    },
    "voice": {  # seed 003 §3.1: WAV (16 bit), MP3, M4A
        "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
        "audio/mpeg": "mp3", "audio/mp3": "mp3",
        "audio/mp4": "m4a", "audio/m4a": "m4a", "audio/x-m4a": "m4a",
    },
}

# what the bytes of an upload must turn out to be (voicefn.audio.probe's names), per purpose
ACCEPTED_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "asr": ("wav", "mp3", "opus", "ogg", "flac", "m4a", "webm"),
    "voice": ("wav", "mp3", "m4a"),
}

# the model an asr upload is transcribed with (a file of up to 200 MiB needs the file API)
FILETRANS_MODEL: Final = "qwen3-asr-flash-filetrans"

# Checking an upload reads ranges, never the whole object: objects up to PROBE_WHOLE_BYTES are read
# in one range and probed exactly; larger ones are read in blocks where the parser asks (the
# header, the end for formats whose length is there), at most PROBE_MAX_READ_BYTES in all.
PROBE_WHOLE_BYTES: Final = 2 * MiB
PROBE_BLOCK_BYTES: Final = 64 * KiB
PROBE_MAX_READ_BYTES: Final = 4 * MiB
