"""The interface every speech-recognition engine of the embedded DashScope implements, and the
transcript it returns: sentences with their times, words with theirs."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from voicefn.text.charclass import is_cjk


@dataclass(frozen=True)
class Word:
    begin_ms: int
    end_ms: int
    text: str
    punctuation: str = ""   # the mark that follows the word in the sentence text ("", ".", "，")


@dataclass(frozen=True)
class Sentence:
    begin_ms: int
    end_ms: int
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str           # "en", "zh", ...: what the engine heard (or was told)
    sentences: list[Sentence] = field(default_factory=list)
    notice: str = ""        # why the text is empty although there may be speech ("" if it is not)


@runtime_checkable
class AsrEngine(Protocol):
    """Turns speech into text.

    ``pcm16`` is 16-bit little-endian mono PCM at ``sample_rate``; ``language`` is the caller's
    hint (DashScope's ``asr_options.language``), None to let the engine decide. Times are
    milliseconds from the start of ``pcm16``. Implementations must be safe to call from several
    threads at once. An engine that takes long checks ``cancel`` as it goes and raises
    :class:`TranscriptionCanceled` once it is set (its caller has given up: a stopping server must
    not wait for a long file to be finished).
    """

    name: str

    def transcribe(self, pcm16: bytes, sample_rate: int, *, language: str | None,
                   cancel: threading.Event | None = None) -> Transcript: ...


class TranscriptionCanceled(Exception):
    """The caller set the ``cancel`` event: the transcription was abandoned half way."""


def sentence_text(words: list[Word]) -> str:
    """The sentence as written: each word followed by its punctuation."""
    pieces = [w.text + w.punctuation for w in words]
    out = ""
    for word, piece in zip(words, pieces):
        if out and not (is_cjk(out[-1]) or (word.text and is_cjk(word.text[0]))):
            out += " "
        out += piece
    return out


def split_on_pauses(words: list[Word], pause_ms: int) -> list[list[Word]]:
    """Group consecutive words into sentences, starting a new one after a gap of ``pause_ms``."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.begin_ms - groups[-1][-1].end_ms < pause_ms:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def is_english_hint(language: str | None) -> bool:
    """True for no hint and for English ("en", "en-US", "en_GB"): what an English model can hear."""
    return language is None or language.strip().lower().replace("_", "-").split("-")[0] == "en"


def not_english_notice(language: str) -> str:
    """What an English-only engine says instead of inventing English words for other speech."""
    what = "Chinese" if language.lower().startswith(("zh", "yue", "cmn", "wuu")) else repr(language)
    return (f"{what} speech is not recognized offline: the embedded recognizer (Whisper tiny.en) "
            "knows English only; use real DashScope for other languages.")


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def split_punctuation(token: str) -> tuple[str, str]:
    """("world", ".") for "world."; leading marks (an opening quote) are dropped."""
    end = len(token)
    while end > 0 and _is_mark(token[end - 1]):
        end -= 1
    start = 0
    while start < end and _is_mark(token[start]):
        start += 1
    return token[start:end], token[end:]
