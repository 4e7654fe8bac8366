"""Real speech recognition with pocketsphinx (its wheel ships a US-English model).

The audio is resampled to the model's 16 kHz, cut into utterances of at most
``MAX_UTTERANCE_S`` at the quietest point near each limit, and each utterance is decoded whole
(batch cepstral mean normalisation over the utterance: the best accuracy, and the same answer
for the same audio every time). The word segments (100 frames per second) give each word's time,
and a silence of ``SENTENCE_PAUSE_MS`` or more between two words ends a sentence. Sentences are
capitalised and end with a full stop, as DashScope's punctuated output does. An utterance
quieter than ``SILENCE_RMS`` is not decoded: silence has no words. The model only knows
English, so the language reported is always "en", whatever hint was given.

pocketsphinx holds the GIL for the whole of a decode (seconds for long audio), which would
freeze the event loop even from a worker thread, so decoding runs in a small pool of worker
processes (spawned, never forked: the server has threads). Each worker loads the model once, on
its first utterance; the pool is process-wide and made on first use.
"""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from voicefn.audio.pcm import resample_pcm16, rms

from voicefn_local.engines.asr_base import Sentence, Transcript, Word, sentence_text, split_on_pauses

MODEL_RATE = 16000
FRAMES_PER_SECOND = 100
SENTENCE_PAUSE_MS = 350
MAX_UTTERANCE_S = 30        # longer audio is decoded as several utterances (bounded memory)
_CUT_SEARCH_S = 5           # where to look for a quiet cut before each utterance limit
_CUT_WINDOW_S = 0.05
SILENCE_RMS = 0.001         # -60 dBFS: an utterance this quiet has no speech (the decoder would
                            # still "hear" a word in digital silence)
_ALTERNATE = re.compile(r"\(\d+\)$")   # "when(3)": the third pronunciation of "when"

# (word, first frame, last frame) as the decoder reports them
Segment = tuple[str, int, int]


# ---- in the worker process ------------------------------------------------------------------

_decoder: Any = None


def _worker_init() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the server shuts its pool down itself.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def decode_utterance(pcm16: bytes) -> list[Segment]:
    """Decode 16 kHz PCM16 as one utterance (runs in a worker process; model loaded once)."""
    global _decoder
    if _decoder is None:
        from pocketsphinx import Decoder  # imported lazily: only local runs need it

        # No adaptive noise removal: its estimate carries over from one utterance to the next,
        # and the same audio must give the same words (accuracy on clean speech is unchanged).
        _decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL", remove_noise=False)
    _decoder.reinit_feat()  # a clean front end: nothing of the previous utterance remains
    _decoder.start_utt()
    if pcm16:
        _decoder.process_raw(pcm16, full_utt=True)
    _decoder.end_utt()
    if _decoder.hyp() is None:
        return []
    return [(seg.word, seg.start_frame, seg.end_frame) for seg in _decoder.seg()]


# ---- in the server process ------------------------------------------------------------------

def _is_word(token: str) -> bool:
    # <s>, </s>, <sil>, [NOISE], ++GARBAGE++ are not words.
    return bool(token) and token[0] not in "<[+"


def cut_points(pcm: bytes) -> list[int]:
    """Sample offsets where utterances start: every ``MAX_UTTERANCE_S``, moved back to the
    quietest ``_CUT_WINDOW_S`` of the preceding ``_CUT_SEARCH_S``."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    limit = MAX_UTTERANCE_S * MODEL_RATE
    window = int(_CUT_WINDOW_S * MODEL_RATE)
    cuts, start = [0], 0
    while len(samples) - start > limit:
        lo = start + limit - _CUT_SEARCH_S * MODEL_RATE
        region = samples[lo:start + limit]
        energy = np.convolve(region * region, np.ones(window), mode="valid")
        start = lo + int(np.argmin(energy)) + window // 2
        cuts.append(start)
    return cuts


def _words(segments: list[Segment], offset_ms: int) -> list[Word]:
    ms_per_frame = 1000 // FRAMES_PER_SECOND
    return [Word(offset_ms + first * ms_per_frame, offset_ms + (last + 1) * ms_per_frame,
                 _ALTERNATE.sub("", word))
            for word, first, last in segments if _is_word(word)]


def _punctuate(words: list[Word]) -> Sentence:
    first, last = words[0], words[-1]
    words = list(words)
    words[0] = Word(first.begin_ms, first.end_ms, first.text[:1].upper() + first.text[1:])
    words[-1] = Word(last.begin_ms, last.end_ms, words[-1].text, ".")
    return Sentence(words[0].begin_ms, words[-1].end_ms, sentence_text(words), words)


class _Pool:
    """The process-wide worker pool, made on first use and remade if a worker dies."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                import multiprocessing

                self._executor = ProcessPoolExecutor(
                    self._size, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init)
            return self._executor

    def discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)


_pool = _Pool(min(2, os.cpu_count() or 1))


class PocketsphinxEngine:
    """US-English recognition, sentences split on pauses, word times from the decoder."""

    name = "pocketsphinx"

    def transcribe(self, pcm16: bytes, sample_rate: int, *, language: str | None) -> Transcript:
        pcm = resample_pcm16(pcm16, sample_rate, MODEL_RATE) if sample_rate != MODEL_RATE else pcm16
        cuts = cut_points(pcm) + [len(pcm) // 2]
        pieces = [(start, pcm[start * 2:end * 2]) for start, end in zip(cuts, cuts[1:])]
        pieces = [(start, piece) for start, piece in pieces if rms(piece) >= SILENCE_RMS]
        executor = _pool.get()
        try:
            # Long audio: the utterances are decoded in parallel by the pool's workers.
            futures = [(start, executor.submit(decode_utterance, piece)) for start, piece in pieces]
            words = [w for start, future in futures
                     for w in _words(future.result(), start * 1000 // MODEL_RATE)]
        except BrokenProcessPool:
            _pool.discard(executor)
            raise RuntimeError("a pocketsphinx worker process died") from None
        sentences = [_punctuate(group) for group in split_on_pauses(words, SENTENCE_PAUSE_MS)]
        return Transcript(" ".join(s.text for s in sentences), "en", sentences)
