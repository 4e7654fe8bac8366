"""A cloning sample: checked by its bytes, then stored as ``audio/voice/{date}/{uuid}.{ext}``.

What DashScope enrolls is a signed URL of that stored object, never a user's URL (DESIGN §8):
a URL is fetched through the guard first (:func:`voicefn.asr.intake.fetch_url`), an upload is
copied from ``uploads/voice/…``. The checks are seed 003 §3.1's: WAV (16-bit), MP3 or M4A,
10–60 s, at most 10 MB, at least 16 kHz, and not silent (WAV and MP3 are decoded for that; M4A
cannot be decoded without ffmpeg, so its level is left to DashScope).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.voice.rules import (
    MAX_SAMPLE_BYTES, MAX_SAMPLE_S, MIN_SAMPLE_RATE, MIN_SAMPLE_S, SAMPLE_FORMATS, SAMPLE_PREFIX,
)

__all__ = ["Sample", "check_sample", "sample_from_object", "sample_from_url", "store_sample"]

_FETCH_TIMEOUT_S = 20.0
_FRAME_S = 0.02
_SOUND_LEVEL = 0.01          # -40 dBFS: below it a 20 ms frame counts as silence
_MIN_SOUND_S = 2.0           # at least this much of the sample must be sound


@dataclass(frozen=True)
class Sample:
    data: bytes
    format: str
    duration: float
    sample_rate: int
    channels: int


def check_sample(data: bytes, *, param: str = "file") -> Sample:
    """``data`` as a usable sample, or INVALID_AUDIO / AUDIO_TOO_LONG saying why not."""
    from voicefn.audio.errors import InvalidAudio
    from voicefn.audio.probe import audio_info

    if not data:
        raise ApiError("INVALID_AUDIO", "the sample is empty", param=param)
    if len(data) > MAX_SAMPLE_BYTES:
        raise ApiError("INVALID_AUDIO", f"the sample is larger than {MAX_SAMPLE_BYTES // (1024 * 1024)} MB",
                       param=param)
    try:
        info = audio_info(data)
    except InvalidAudio as exc:
        raise ApiError("INVALID_AUDIO", f"the sample is not a supported audio file ({exc})", param=param) from exc
    if info.format not in SAMPLE_FORMATS:
        raise ApiError("INVALID_AUDIO", f"the sample is {info.format}; send WAV (16-bit), MP3 or M4A", param=param)
    if info.format == "wav":
        _check_wav_16bit(data, param)
    if info.duration > MAX_SAMPLE_S:
        raise ApiError("AUDIO_TOO_LONG", f"the sample is {info.duration:.1f} s; at most {MAX_SAMPLE_S:g} s",
                       param=param)
    if info.duration < MIN_SAMPLE_S:
        raise ApiError("INVALID_AUDIO", f"the sample is {info.duration:.1f} s; it needs at least "
                       f"{MIN_SAMPLE_S:g} s of clear speech (10–20 s is best)", param=param)
    if info.sample_rate < MIN_SAMPLE_RATE:
        raise ApiError("INVALID_AUDIO", f"the sample's rate is {info.sample_rate} Hz; at least "
                       f"{MIN_SAMPLE_RATE} Hz is needed", param=param)
    if info.format != "m4a":
        _check_not_silent(data, param)
    return Sample(data, info.format, info.duration, info.sample_rate, info.channels)


def _check_wav_16bit(data: bytes, param: str) -> None:
    from voicefn.audio import wav

    layout = wav.parse_wav(data)
    if layout.format_tag != wav.PCM or layout.bits_per_sample != 16:
        raise ApiError("INVALID_AUDIO", f"the WAV sample must be 16-bit PCM (it is {layout.bits_per_sample}-bit"
                       f"{'' if layout.format_tag == wav.PCM else ', not PCM'})", param=param)


def _check_not_silent(data: bytes, param: str) -> None:
    import numpy as np

    from voicefn.audio.decode import decode_to_pcm
    from voicefn.audio.errors import InvalidAudio

    try:
        pcm, rate = decode_to_pcm(data)
    except InvalidAudio as exc:
        raise ApiError("INVALID_AUDIO", f"the sample could not be decoded ({exc})", param=param) from exc
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    frame = max(1, int(rate * _FRAME_S))
    usable = len(samples) // frame * frame
    if usable == 0:
        raise ApiError("INVALID_AUDIO", "the sample has no sound", param=param)
    levels = np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, frame)), axis=1))
    sound_s = float(np.count_nonzero(levels > _SOUND_LEVEL)) * _FRAME_S
    if sound_s < _MIN_SOUND_S:
        raise ApiError("INVALID_AUDIO", f"the sample is silent or nearly ({sound_s:.1f} s above -40 dBFS); "
                       "record at least a few seconds of clear speech", param=param)


async def store_sample(services: Services, sample: Sample, owner: str) -> str:
    """Store the sample as its owner's object; its key."""
    from voicefn.audio.formats import content_type
    from voicefn.storage.owners import grant

    day = datetime.now(timezone.utc).strftime("%Y%m%d")
    key = f"{SAMPLE_PREFIX}/{day}/{uuid.uuid4().hex}.{sample.format}"
    await services.objects.put(key, sample.data, content_type(sample.format))
    await grant(services.state, key, owner)
    return key


async def sample_from_url(services: Services, url: str, *, user_id: str, param: str = "audio_url") -> Sample:
    """The sample at a user's URL, fetched through the guard (or read from our own store if theirs)."""
    from voicefn.asr.intake import fetch_url

    try:
        data = await fetch_url(services, url, user_id=user_id, param=param, max_bytes=MAX_SAMPLE_BYTES,
                               timeout_s=_FETCH_TIMEOUT_S)
    except ApiError as err:
        if err.code == "PAYLOAD_TOO_LARGE":
            raise ApiError("INVALID_AUDIO", f"{param}: the sample is larger than "
                           f"{MAX_SAMPLE_BYTES // (1024 * 1024)} MB", param=param) from None
        raise ApiError("INVALID_PARAMETER", f"{param} could not be fetched: it must be a public http(s) URL that "
                       "serves the audio file", param=param) from None
    return await asyncio.to_thread(check_sample, data, param=param)


async def sample_from_object(services: Services, key: str, *, param: str = "audio_file_id") -> Sample:
    """A stored upload (``uploads/voice/…``) as a sample."""
    info = await services.objects.head(key)
    if info is None:
        raise ApiError("INVALID_AUDIO", "the uploaded sample no longer exists", param=param)
    if info.size > MAX_SAMPLE_BYTES:
        raise ApiError("INVALID_AUDIO", f"the sample is larger than {MAX_SAMPLE_BYTES // (1024 * 1024)} MB",
                       param=param)
    data = await services.objects.get(key)
    return await asyncio.to_thread(check_sample, data, param=param)
