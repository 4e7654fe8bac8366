"""Audio the asr suites send, and scripting what the deterministic recogniser hears."""

from __future__ import annotations

import base64

from tests.stack import Stack
from voicefn.audio.encode import decode_to_pcm, encode_pcm
from voicefn.audio.pcm import tone


def wav(seconds: float, rate: int = 16000, freq: float = 330.0) -> bytes:
    return encode_pcm(tone(seconds, rate, freq=freq), "wav", rate)


def script(stack: Stack, audio: bytes, text: str) -> None:
    """Make the embedded recogniser hear ``text`` in ``audio`` (its scripts are keyed by PCM hash)."""
    import hashlib

    pcm, _ = decode_to_pcm(audio)
    stack.emulator("/_admin/asr-scripts", "POST", json={hashlib.sha256(pcm).hexdigest(): text}).raise_for_status()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
