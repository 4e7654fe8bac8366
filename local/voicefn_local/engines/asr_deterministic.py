"""A test recogniser whose output is known in advance: scripted text, exact times.

The text of ``transcribe(pcm, rate, ...)`` is

- the script registered for ``pcm_sha256(pcm)`` (the SHA-256 hex digest of the PCM16 mono bytes
  exactly as passed in, i.e. as ``voicefn.audio.decode.decode_to_pcm`` returns them for a file,
  at the file's own rate), if there is one;
- else ``"audio of N.N seconds"``, the duration to one decimal (``describe_audio``).

The transcript's text is that text (stripped). Times: with ``D`` the audio's duration in
milliseconds, the text is split into sentences (``voicefn.text.split.split_sentences``, each
stripped) and each sentence into words (a whitespace-separated word, or one CJK character;
punctuation is the ``punctuation`` of the word before it). Every word weighs its number
of characters; with ``c0``/``c1`` the total weight before/after an item and ``C`` the whole
text's weight, the item spans ``[round(D*c0/C), round(D*c1/C)]``, so sentences and words tile
the audio exactly. The language is the caller's hint, else "zh" if the text holds CJK characters,
else "en".
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping

from voicefn.text.charclass import is_cjk
from voicefn.text.split import split_sentences

from voicefn_local.engines.asr_base import Sentence, Transcript, Word, split_punctuation

def pcm_sha256(pcm16: bytes) -> str:
    """The key of a script: SHA-256 (hex) of the PCM bytes."""
    return hashlib.sha256(pcm16).hexdigest()


def describe_audio(seconds: float) -> str:
    """What the engine says for audio it has no script for."""
    return f"audio of {seconds:.1f} seconds"


class AsrScripts:
    """Scripted transcripts by PCM SHA-256; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: dict[str, str] = {}

    def update(self, scripts: Mapping[str, str]) -> None:
        cleaned = {}
        for key, text in scripts.items():
            if not isinstance(key, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", key):
                raise ValueError(f"script keys are SHA-256 hex digests, not {key!r}")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"the script for {key} must be a non-empty string")
            cleaned[key.lower()] = text
        with self._lock:
            self._texts.update(cleaned)

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._texts.get(key)

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._texts)


def _raw_tokens(sentence: str) -> list[str]:
    """Whitespace-separated runs, with every CJK character (and CJK mark) a token of its own."""
    tokens: list[str] = []
    for chunk in sentence.split():
        run = ""
        for ch in chunk:
            if is_cjk(ch):
                tokens += [run, ch] if run else [ch]
                run = ""
            else:
                run += ch
        if run:
            tokens.append(run)
    return tokens


def _tokens(sentence: str) -> list[tuple[str, str]]:
    """(word, punctuation after it) pairs."""
    pairs: list[tuple[str, str]] = []
    for token in _raw_tokens(sentence):
        word, punctuation = split_punctuation(token)
        if word:
            pairs.append((word, punctuation))
        elif pairs:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + punctuation)
    return pairs


def _timed(pieces: list[tuple[str, list[tuple[str, str]]]], duration_ms: int) -> list[Sentence]:
    total = sum(len(w) for _, words in pieces for w, _ in words) or 1
    sentences, done = [], 0
    for text, tokens in pieces:
        words = []
        for word, punctuation in tokens:
            begin, done = done, done + len(word)
            words.append(Word(round(duration_ms * begin / total), round(duration_ms * done / total),
                              word, punctuation))
        sentences.append(Sentence(words[0].begin_ms, words[-1].end_ms, text, words))
    return sentences


class DeterministicAsrEngine:
    """Scripted (or duration-describing) transcripts with exact, documented timings."""

    name = "deterministic"

    def __init__(self, scripts: AsrScripts | None = None) -> None:
        self.scripts = scripts if scripts is not None else AsrScripts()

    def transcribe(self, pcm16: bytes, sample_rate: int, *, language: str | None,
                   cancel: threading.Event | None = None) -> Transcript:
        samples = len(pcm16) // 2
        duration_ms = round(samples * 1000 / sample_rate)
        text = self.scripts.get(pcm_sha256(pcm16)) or describe_audio(samples / sample_rate)
        pieces = [(s.strip(), _tokens(s)) for s in split_sentences(text)]
        sentences = _timed([(s, tokens) for s, tokens in pieces if tokens], duration_ms)
        detected = "zh" if any(is_cjk(ch) for ch in text) else "en"
        return Transcript(text.strip(), language or detected, sentences)
