"""Maths on raw PCM: 16-bit signed little-endian mono, the format every engine and encoder trades.

numpy is imported inside each function: importing this module must stay free (FC cold start).
"""

from __future__ import annotations

from math import gcd
from typing import Any

_FULL_SCALE = 32768.0
_ZERO_CROSSINGS = 8  # sinc lobes on each side of the resampling kernel: quality vs. CPU
_BLOCK = 16384  # output samples per vectorised step, bounds memory to a few MB


def _samples(pcm: bytes) -> Any:  # a numpy int16 array (numpy is imported lazily)
    import numpy as np

    if len(pcm) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    return np.frombuffer(pcm, dtype="<i2")


def _to_pcm(values: Any) -> bytes:
    import numpy as np

    data: bytes = np.clip(np.rint(values), -32768, 32767).astype("<i2").tobytes()
    return data


def _check_rate(rate: int, name: str) -> None:
    if not isinstance(rate, int) or rate <= 0:
        raise ValueError(f"{name} must be a positive integer, got {rate!r}")


def resample_pcm16(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Change the sample rate with a polyphase windowed-sinc filter (Blackman, 8 zero crossings).

    The kernel's cutoff is the lower of the two Nyquist frequencies, so downsampling does not
    alias. The output has ``round(n * dst / src)`` samples, so durations are kept.
    """
    import numpy as np

    _check_rate(src_rate, "src_rate")
    _check_rate(dst_rate, "dst_rate")
    x = _samples(pcm)
    if src_rate == dst_rate or len(x) == 0:
        return bytes(pcm)
    g = gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g  # output n sits at input position n * down / up
    n_out = (len(x) * up + down // 2) // down
    cutoff = min(1.0, up / down)  # fraction of the input Nyquist
    half = int(np.ceil(_ZERO_CROSSINGS / cutoff))
    offsets = np.arange(-half + 1, half + 1)  # input taps around floor(position)
    padded = np.concatenate([np.zeros(half), x.astype(np.float64), np.zeros(half + 1)])

    def kernels(phases: Any) -> Any:
        # distance from each tap to the exact output position, in input samples
        dist = phases[:, None] / up - offsets[None, :]
        rel = np.clip(dist / half, -1.0, 1.0)
        window = 0.42 + 0.5 * np.cos(np.pi * rel) + 0.08 * np.cos(2 * np.pi * rel)
        k = cutoff * np.sinc(cutoff * dist) * window
        return k / k.sum(axis=1, keepdims=True)  # unity gain at DC for every phase

    table = kernels(np.arange(up)) if up <= 4096 else None
    out = np.empty(n_out)
    for start in range(0, n_out, _BLOCK):
        n = np.arange(start, min(start + _BLOCK, n_out), dtype=np.int64)
        base, phase = np.divmod(n * down, up)
        taps = padded[base[:, None] + offsets[None, :] + half]
        k = table[phase] if table is not None else kernels(phase)
        out[start:start + len(n)] = np.einsum("ij,ij->i", taps, k)
    return _to_pcm(out)


def scale_volume(pcm: bytes, gain: float) -> bytes:
    """Multiply every sample by ``gain`` (>= 0), clipping at full scale."""
    if gain < 0:
        raise ValueError("gain must be >= 0")
    x = _samples(pcm)
    return _to_pcm(x.astype("float64") * gain)


def rms(pcm: bytes) -> float:
    """Root-mean-square level as a fraction of full scale (0.0 silence, ~0.707 a full-scale sine)."""
    import numpy as np

    x = _samples(pcm)
    if len(x) == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) / _FULL_SCALE


def silence(seconds: float, rate: int) -> bytes:
    """``round(seconds * rate)`` zero samples."""
    _check_rate(rate, "rate")
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    return bytes(2 * round(seconds * rate))


def tone(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    """A sine of ``amplitude`` (fraction of full scale) lasting ``round(seconds * rate)`` samples."""
    import numpy as np

    _check_rate(rate, "rate")
    if seconds < 0 or not 0 <= amplitude <= 1:
        raise ValueError("seconds must be >= 0 and amplitude within [0, 1]")
    t = np.arange(round(seconds * rate)) / rate
    return _to_pcm(np.sin(2 * np.pi * freq * t) * amplitude * 32767)


def duration(pcm: bytes, rate: int) -> float:
    """Seconds of mono 16-bit PCM at ``rate``."""
    _check_rate(rate, "rate")
    return (len(pcm) // 2) / rate
