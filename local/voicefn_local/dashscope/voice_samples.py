"""Reading an enrollment sample: fetch it, check it against DashScope's limits (reference §2:
WAV 16-bit, MP3 or M4A; at most 60 s and 10 MB; at least 16 kHz; at least 5 s of speech) and
measure what the cloning engine imitates (median F0 and pace). A sample that fails any of these
ends the voice ``UNDEPLOYED`` with the reason."""

from __future__ import annotations

import asyncio

from voicefn.audio import wav
from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.errors import InvalidAudio
from voicefn.audio.probe import audio_info

from voicefn_local.dashscope.asr_audio import AudioFetchFailed, AudioTooLarge, read_audio_ref
from voicefn_local.engines.clone import CloneProfile
from voicefn_local.engines.pace import speech_seconds, syllables_per_second
from voicefn_local.engines.pitch import median_f0

MAX_SAMPLE_BYTES = 10 * 1024 * 1024
MAX_SAMPLE_SECONDS = 60.0
MIN_SPEECH_SECONDS = 5.0
MIN_SAMPLE_RATE = 16_000
MIN_SYLLABLES_PER_S = 1.0   # speech has 3-7; a beep or a hum has none
FORMATS = ("wav", "mp3", "m4a")


class SampleRejected(ValueError):
    """The sample cannot be used; the message says why (shown as the voice's reason)."""


def engine_language(language_hints: object) -> str:
    """The engine language of the first hint: "en", "yue", else "zh"."""
    first = language_hints[0] if isinstance(language_hints, list) and language_hints else None
    return first if first in ("en", "yue") else "zh"


async def fetch_sample(url: str, *, timeout_s: float, allowed: tuple[str, ...] | None) -> bytes:
    try:
        return await read_audio_ref(url, max_bytes=MAX_SAMPLE_BYTES, timeout_s=timeout_s,
                                    allowed=allowed)
    except AudioTooLarge as exc:
        raise SampleRejected(f"the sample is too large: {exc}") from None
    except AudioFetchFailed as exc:
        raise SampleRejected(f"the sample could not be downloaded: {exc}") from None


def analyse_sample(data: bytes, language: str) -> CloneProfile:
    """The sample's profile, or :class:`SampleRejected`; CPU-bound (run it in a thread)."""
    try:
        info = audio_info(data)
    except InvalidAudio as exc:
        raise SampleRejected(f"the sample is not audio: {exc}") from None
    if info.format not in FORMATS:
        raise SampleRejected(f"unsupported sample format {info.format}; use WAV (16-bit), MP3 or M4A")
    if info.format == "wav" and wav.parse_wav(data).bits_per_sample != 16:
        raise SampleRejected("a WAV sample must be 16-bit PCM")
    if info.sample_rate < MIN_SAMPLE_RATE:
        raise SampleRejected(f"the sample rate is {info.sample_rate} Hz; at least 16000 Hz is needed")
    if info.duration > MAX_SAMPLE_SECONDS:
        raise SampleRejected(f"the sample lasts {info.duration:.1f} s; at most 60 s is allowed")
    try:
        pcm, rate = decode_to_pcm(data)
    except InvalidAudio as exc:
        raise SampleRejected(f"the sample cannot be decoded: {exc}") from None
    speech = speech_seconds(pcm, rate)
    if speech == 0.0:
        raise SampleRejected("the sample is silent")
    if speech < MIN_SPEECH_SECONDS:
        raise SampleRejected(f"the sample has {speech:.1f} s of speech; at least 5 s is needed")
    f0 = median_f0(pcm, rate)
    pace = syllables_per_second(pcm, rate)
    if f0 is None or pace is None or pace < MIN_SYLLABLES_PER_S:  # a steady tone is no voice
        raise SampleRejected("no voice was found in the sample")
    return CloneProfile(f0_hz=round(f0, 1), syllables_per_s=round(pace, 2), language=language)


async def profile_from_url(url: str, language: str, *, timeout_s: float,
                           allowed: tuple[str, ...] | None) -> CloneProfile:
    data = await fetch_sample(url, timeout_s=timeout_s, allowed=allowed)
    return await asyncio.to_thread(analyse_sample, data, language)
