"""Any audio we accept -> PCM16 mono and its sample rate.

WAV is decoded with numpy (it must accept streamed 0xFFFFFFFF sizes); everything else by
libsndfile (mpg123 for mp3, libopus, libvorbis, libFLAC), imported lazily.
"""

from __future__ import annotations

from typing import Any

from voicefn.audio import wav
from voicefn.audio.errors import InvalidAudio, UnsupportedAudio
from voicefn.audio.formats import detect_format


def decode_to_pcm(data: bytes) -> tuple[bytes, int]:
    """Any detectable format -> (PCM16 mono, sample rate). Channels are averaged."""
    fmt = detect_format(data)
    if fmt is None:
        raise InvalidAudio("not a recognised audio format")
    if fmt in ("m4a", "webm"):
        raise UnsupportedAudio(f"{fmt} cannot be decoded here (needs ffmpeg); send mp3, wav, ogg, opus or flac")
    if fmt == "wav":
        decoded = _decode_wav(data)
        if decoded is not None:
            return decoded
    if fmt == "mp3":
        from voicefn.audio.mp3 import with_frame_count

        data = with_frame_count(data)  # else libsndfile stops early in a VBR stream
    return _decode_soundfile(data)


def _decode_wav(data: bytes) -> tuple[bytes, int] | None:
    """Integer and float PCM WAV with numpy (handles streamed 0xFFFFFFFF sizes); None for codecs."""
    import numpy as np

    layout = wav.parse_wav(data)
    raw = data[layout.data_offset:layout.data_offset + layout.data_size]
    width = layout.block_align // layout.channels
    if layout.format_tag == wav.PCM and width in (1, 2, 3, 4):
        if width == 1:
            x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) * 256
        elif width == 3:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            x = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8).astype(np.float64) / 256
        else:
            x = np.frombuffer(raw, dtype="<i2" if width == 2 else "<i4").astype(np.float64)
            if width == 4:
                x /= 65536
    elif layout.format_tag == wav.IEEE_FLOAT and width in (4, 8):
        x = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64) * 32767
    else:
        return None
    x = x.reshape(-1, layout.channels).mean(axis=1)
    return np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes(), layout.sample_rate


def _decode_soundfile(data: bytes) -> tuple[bytes, int]:
    import io

    import numpy as np
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate = int(f.samplerate)
            if 0 <= f.frames < 2**40:
                samples = f.read(dtype="int16", always_2d=True)
            else:
                samples = _read_unknown_length(f)
    except InvalidAudio:
        raise
    except Exception as exc:  # libsndfile raises a bare RuntimeError/LibsndfileError for junk
        raise InvalidAudio(f"audio could not be decoded: {exc}") from exc
    if samples.shape[1] > 1:
        samples = np.rint(samples.mean(axis=1))
    return samples.astype("<i2").tobytes(), rate


def _read_unknown_length(f: Any) -> Any:  # f: soundfile.SoundFile; returns int16 samples
    """Read to EOF a stream whose header does not give its length (streamed FLAC).

    libsndfile reports such a length as ~2**63 frames, and soundfile's read() seeks to
    "position + frames read" after every block, which fails there. So this calls
    sf_readf_short itself (soundfile's private handles; soundfile is pinned at 0.14.0).
    """
    import numpy as np
    import soundfile as sf

    blocks = []
    while True:
        buf = np.empty((65536, f.channels), dtype=np.int16)
        got = sf._snd.sf_readf_short(f._file, sf._ffi.cast("short *", sf._ffi.from_buffer(buf)), len(buf))
        if got <= 0:
            break
        blocks.append(buf[:got])
    if not blocks:
        raise InvalidAudio("audio stream holds no samples")
    return np.concatenate(blocks)
