"""Speaking pitch: YIN fundamental-frequency estimation (de Cheveigné & Kawahara 2002) with numpy.

Used by the cloning engine (a sample's median F0) and by tests (the F0 of synthesized speech), so
both measure the same way. Frames are 40 ms every 10 ms at 16 kHz; a frame is voiced when it is
loud enough and its cumulative-mean-normalised difference dips below ``threshold``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from voicefn.audio.pcm import resample_pcm16

RATE = 16_000
FRAME = 640                 # 40 ms: two periods of the lowest F0
HOP = 160                   # 10 ms
F0_MIN, F0_MAX = 60.0, 500.0
THRESHOLD = 0.15            # YIN's absolute threshold
SILENCE_DB = -35.0          # frames this far below the loudest one are not voiced


def as_float(pcm: bytes, sample_rate: int) -> NDArray[np.float64]:
    """16-bit mono PCM at ``sample_rate`` as floats (-1..1) at 16 kHz."""
    if sample_rate != RATE:
        pcm = resample_pcm16(pcm, sample_rate, RATE)
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0


def frames(x: NDArray[np.float64], size: int = FRAME, hop: int = HOP) -> NDArray[np.float64]:
    if len(x) < size:
        return np.zeros((0, size))
    count = 1 + (len(x) - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    return x[index]


def frame_db(framed: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each frame's RMS level in dB relative to full scale."""
    rms = np.sqrt(np.mean(np.square(framed), axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-9))


def f0_track(pcm: bytes, sample_rate: int) -> NDArray[np.float64]:
    """F0 in Hz of each 10 ms frame; NaN where the frame is unvoiced or silent."""
    framed = frames(as_float(pcm, sample_rate))
    if len(framed) == 0:
        return np.zeros(0)
    levels = frame_db(framed)
    loud = levels > max(levels.max() + SILENCE_DB, -60.0)
    framed = framed - framed.mean(axis=1, keepdims=True)
    lag_min, lag_max = int(RATE / F0_MAX), int(RATE / F0_MIN)
    window = FRAME - lag_max  # every lag compares the same number of samples
    # d(tau) = sum_j (x_j - x_{j+tau})^2 over j < window: energies minus twice the correlation.
    spectrum = np.fft.rfft(framed, n=2 * FRAME, axis=1)
    head = np.fft.rfft(framed[:, :window], n=2 * FRAME, axis=1)
    corr = np.fft.irfft(np.conj(head) * spectrum, axis=1)[:, : lag_max + 1]
    squares = np.cumsum(np.square(framed), axis=1)
    squares = np.concatenate([np.zeros((len(framed), 1)), squares], axis=1)
    lags = np.arange(lag_max + 1)
    energy0 = squares[:, window][:, None]
    energy_tau = squares[:, lags + window] - squares[:, lags]
    diff = np.maximum(energy0 + energy_tau - 2 * corr, 0.0)
    # Cumulative mean normalised difference.
    running = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, lag_max + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, 1e-12)
    f0 = np.full(len(framed), np.nan)
    for i in np.flatnonzero(loud):
        row = cmnd[i]
        below = np.flatnonzero(row[lag_min:lag_max] < THRESHOLD)
        if len(below) == 0:
            continue
        tau = lag_min + int(below[0])
        while tau + 1 < lag_max and row[tau + 1] < row[tau]:  # down to the dip's bottom
            tau += 1
        # Parabolic interpolation around the dip for a sub-sample period.
        a, b, c = row[tau - 1], row[tau], row[tau + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom > 1e-12 else 0.0
        f0[i] = RATE / (tau + float(np.clip(shift, -1, 1)))
    return f0


def median_f0(pcm: bytes, sample_rate: int) -> float | None:
    """Median F0 (Hz) over the voiced frames; None when fewer than 20 frames (0.2 s) are voiced."""
    track = f0_track(pcm, sample_rate)
    voiced = track[np.isfinite(track)]
    if len(voiced) < 20:
        return None
    return float(np.median(voiced))
