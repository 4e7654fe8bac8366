"""What audio bytes are and how long they play, without decoding them.

wav, mp3 and Ogg Opus are read by our own parsers (streamed-WAV sizes, exact VBR frame counts,
Ogg CRCs); Ogg Vorbis, FLAC and m4a by mutagen, with libsndfile's header reader as the fallback.
Anything that is not what it claims raises :class:`InvalidAudio`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from voicefn.audio import mp3, ogg, wav
from voicefn.audio.errors import InvalidAudio, UnsupportedAudio
from voicefn.audio.formats import detect_format, normalize_format

__all__ = ["AudioInfo", "InvalidAudio", "UnsupportedAudio", "audio_info", "duration_seconds"]


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float  # seconds
    sample_rate: int
    channels: int


def audio_info(data: bytes) -> AudioInfo:
    """Format, duration, rate and channels of a container format (not raw pcm)."""
    fmt = detect_format(data)
    if fmt is None:
        raise InvalidAudio("not a recognised audio format")
    info = _PROBES[fmt](bytes(data))
    if not math.isfinite(info.duration) or info.duration < 0 or info.sample_rate <= 0:
        raise InvalidAudio(f"{fmt} header describes impossible audio")
    return info


def duration_seconds(data: bytes, fmt: str | None = None, sample_rate: int | None = None) -> float:
    """Seconds of audio. ``pcm`` needs ``sample_rate``; a given ``fmt`` must match the bytes."""
    key = normalize_format(fmt) if fmt is not None else None
    if key == "pcm":
        if not sample_rate or sample_rate <= 0:
            raise ValueError("pcm duration needs a positive sample_rate")
        if len(data) % 2:
            raise InvalidAudio("PCM16 data must have an even number of bytes")
        return len(data) / 2 / sample_rate
    info = audio_info(data)
    if key is not None and key != info.format and {key, info.format} != {"ogg", "opus"}:
        raise InvalidAudio(f"data is {info.format}, not {key}")
    return info.duration


def _probe_wav(data: bytes) -> AudioInfo:
    layout = wav.parse_wav(data)
    return AudioInfo("wav", layout.duration, layout.sample_rate, layout.channels)


def _probe_mp3(data: bytes) -> AudioInfo:
    layout = mp3.scan(data)
    audio = layout.frames[1:] if layout.header_frame else layout.frames
    head = (audio or layout.frames)[0][1]
    return AudioInfo("mp3", mp3.duration_of(layout), head.sample_rate, head.channels)


def _probe_opus(data: bytes) -> AudioInfo:
    pages = ogg.parse_pages(data)  # every page's CRC checked
    serial = pages[0].serial
    packets = ogg.iter_packets(pages)
    try:
        head = ogg.parse_opus_head(next(packets)[1])
    except StopIteration:
        raise InvalidAudio("Ogg stream ends before its OpusHead") from None
    granules = [p.granule for p in pages if p.serial == serial and p.granule >= 0]
    end = granules[-1] if granules else 0
    samples = max(0, end - head.pre_skip)  # granules count 48 kHz samples, pre-skip included
    return AudioInfo("opus", samples / 48000, head.input_rate or 48000, head.channels)


def _probe_mutagen(fmt: str, loader: str) -> Callable[[bytes], AudioInfo]:
    def probe(data: bytes) -> AudioInfo:
        import importlib

        module_name, cls_name = loader.rsplit(".", 1)
        try:
            cls = getattr(importlib.import_module(module_name), cls_name)
            info = cls(io.BytesIO(data)).info
            length, rate, channels = float(info.length), int(info.sample_rate), int(info.channels)
        except Exception:  # mutagen raises a different error class per format
            return _probe_soundfile(fmt, data)
        if fmt == "flac" and length == 0:
            return _probe_soundfile(fmt, data)  # streamed FLAC: STREAMINFO says "total unknown"
        return AudioInfo(fmt, length, rate, channels)

    return probe


def _probe_soundfile(fmt: str, data: bytes) -> AudioInfo:
    if fmt == "m4a":
        raise InvalidAudio("m4a header could not be read")
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            frames, rate, channels = f.frames, int(f.samplerate), int(f.channels)
    except Exception as exc:
        raise InvalidAudio(f"{fmt} could not be read: {exc}") from exc
    if not 0 < frames < 2**40:  # no total in the header (streamed FLAC): this one case decodes
        from voicefn.audio.decode import decode_to_pcm

        pcm, _ = decode_to_pcm(data)
        frames = len(pcm) // 2
    return AudioInfo(fmt, frames / rate, rate, channels)


def _probe_webm(data: bytes) -> AudioInfo:
    raise UnsupportedAudio("webm cannot be probed or decoded here; send mp3, wav, ogg, opus or flac")


_PROBES: dict[str, Callable[[bytes], AudioInfo]] = {
    "wav": _probe_wav,
    "mp3": _probe_mp3,
    "opus": _probe_opus,
    "ogg": _probe_mutagen("ogg", "mutagen.oggvorbis.OggVorbis"),
    "flac": _probe_mutagen("flac", "mutagen.flac.FLAC"),
    "m4a": _probe_mutagen("m4a", "mutagen.mp4.MP4"),
    "webm": _probe_webm,
}
