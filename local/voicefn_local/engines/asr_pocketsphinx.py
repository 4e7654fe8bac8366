"""Real speech recognition with pocketsphinx (its wheel ships a US-English model).

The audio is resampled to the model's 16 kHz, cut into utterances of at most
``MAX_UTTERANCE_S`` at the quietest point near each limit, and decoded; the word segments
(100 frames per second) give each word's time, and a silence of ``SENTENCE_PAUSE_MS`` or more
between two words ends a sentence. Sentences are capitalised and end with a full stop, as
DashScope's punctuated output does. The model only knows English, so the language reported is
always "en", whatever hint was given.

Loading a model takes ~0.3 s and a decoder is not thread-safe, so decoders are kept in a small
process-wide pool: created on first need, reused, one thread at a time each. pocketsphinx holds
the GIL while it decodes, so audio is fed in ``FEED_MS`` pieces: other threads (the event loop)
get to run between them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from voicefn.audio.pcm import resample_pcm16

from voicefn_local.engines.asr_base import Sentence, Transcript, Word, sentence_text, split_on_pauses

MODEL_RATE = 16000
FRAMES_PER_SECOND = 100
SENTENCE_PAUSE_MS = 350
MAX_UTTERANCE_S = 30        # longer audio is decoded as several utterances (bounded memory)
_CUT_SEARCH_S = 5           # where to look for a quiet cut before each utterance limit
_CUT_WINDOW_S = 0.05
FEED_MS = 100
_ALTERNATE = re.compile(r"\(\d+\)$")   # "when(3)": the third pronunciation of "when"


def _is_word(token: str) -> bool:
    # <s>, </s>, <sil>, [NOISE], ++GARBAGE++ are not words.
    return bool(token) and token[0] not in "<[+"


def _cut_points(pcm: bytes) -> list[int]:
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


class _DecoderPool:
    """pocketsphinx decoders, at most ``size``, each used by one thread at a time."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._idle: list[Any] = []
        self._made = 0
        self._cond = threading.Condition()

    @contextmanager
    def decoder(self) -> Iterator[Any]:
        with self._cond:
            while not self._idle and self._made >= self._size:
                self._cond.wait()
            if self._idle:
                decoder = self._idle.pop()
            else:
                self._made += 1
                decoder = None
        if decoder is None:
            try:
                from pocketsphinx import Decoder  # imported lazily: only local runs need it

                decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL")
            except BaseException:
                with self._cond:
                    self._made -= 1
                    self._cond.notify()
                raise
        try:
            yield decoder
        finally:
            with self._cond:
                self._idle.append(decoder)
                self._cond.notify()


def _decode(decoder: Any, pcm: bytes, offset_ms: int) -> list[Word]:
    step = MODEL_RATE * FEED_MS // 1000 * 2
    decoder.start_utt()
    for start in range(0, len(pcm), step):
        decoder.process_raw(pcm[start:start + step], full_utt=False)
    decoder.end_utt()
    ms_per_frame = 1000 // FRAMES_PER_SECOND
    words = []
    for seg in decoder.seg():
        if _is_word(seg.word):
            words.append(Word(offset_ms + seg.start_frame * ms_per_frame,
                              offset_ms + (seg.end_frame + 1) * ms_per_frame,
                              _ALTERNATE.sub("", seg.word)))
    return words


def _punctuate(words: list[Word]) -> Sentence:
    first = words[0]
    words = [Word(first.begin_ms, first.end_ms, first.text[:1].upper() + first.text[1:]),
             *words[1:]]
    last = words[-1]
    words[-1] = Word(last.begin_ms, last.end_ms, last.text, ".")
    return Sentence(words[0].begin_ms, words[-1].end_ms, sentence_text(words), words)


class PocketsphinxEngine:
    """US-English recognition, sentences split on pauses, word times from the decoder."""

    name = "pocketsphinx"

    def __init__(self, max_decoders: int | None = None) -> None:
        self._pool = _DecoderPool(max_decoders or min(4, os.cpu_count() or 1))

    def transcribe(self, pcm16: bytes, sample_rate: int, *, language: str | None) -> Transcript:
        pcm = resample_pcm16(pcm16, sample_rate, MODEL_RATE) if sample_rate != MODEL_RATE else pcm16
        cuts = _cut_points(pcm) + [len(pcm) // 2]
        words: list[Word] = []
        with self._pool.decoder() as decoder:
            for start, end in zip(cuts, cuts[1:]):
                words += _decode(decoder, pcm[start * 2:end * 2], start * 1000 // MODEL_RATE)
        sentences = [_punctuate(group) for group in split_on_pauses(words, SENTENCE_PAUSE_MS)]
        return Transcript(" ".join(s.text for s in sentences), "en", sentences)
