"""Word error rate and speed of the embedded recognizer (Whisper tiny.en) on held-out English.

The sentences of ``bench/data/wer_sentences.txt`` (written once, used by no test and for no
tuning) are synthesized by the embedded TTS (espeak-ng) with two English voices and recognized
by the embedded DashScope's recognizer, in process:

- each sentence on its own (as sync recognition sees a short clip);
- all of them in one long file, with pauses between them (as a file transcription sees it:
  cut into utterances of at most 30 s).

WER is the corpus figure (word edits over reference words, after lower-casing and dropping
punctuation), per voice. The real-time factor is decoding time over audio time. Goal: WER at
most 15 % for each voice.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from voicefn.audio.pcm import silence
from voicefn_local.engines import get_engine
from voicefn_local.engines.asr_whisper import MAX_UTTERANCE_S, MODEL_RATE, WhisperEngine, _model
from voicefn_local.engines.espeak import voice_name

SENTENCES = Path(__file__).resolve().parent / "data" / "wer_sentences.txt"
VOICES = ("female", "male")     # espeak en-us+steph and en-us+m3
GOAL = 0.15
PAUSE_S = 0.6


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def edits(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1]


def load_sentences() -> list[str]:
    lines = [line.strip() for line in SENTENCES.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def main() -> int:
    sentences = load_sentences()
    tts, asr = get_engine("espeak"), WhisperEngine()
    started = time.perf_counter()
    _model.get()
    print(f"Whisper tiny.en loaded in {time.perf_counter() - started:.2f} s; "
          f"{len(sentences)} sentences, {sum(len(words(s)) for s in sentences)} words")
    met = True
    for gender in VOICES:
        voice = voice_name("en", gender)
        clips = [tts.synthesize(s, language="en", gender=gender, sample_rate=MODEL_RATE)
                 for s in sentences]
        errors = total = 0
        audio_s = decode_s = 0.0
        misheard = []
        for sentence, pcm in zip(sentences, clips):
            started = time.perf_counter()
            heard = asr.transcribe(pcm, MODEL_RATE, language="en").text
            decode_s += time.perf_counter() - started
            audio_s += len(pcm) / 2 / MODEL_RATE
            ref = words(sentence)
            wrong = edits(ref, words(heard))
            errors, total = errors + wrong, total + len(ref)
            if wrong:
                misheard.append((sentence, heard))
        wer = errors / total
        met = met and wer <= GOAL
        print(f"\n{voice}: sentence by sentence  WER {wer:.1%} ({errors}/{total} words), "
              f"RTF {decode_s / audio_s:.2f} ({audio_s:.0f} s of audio)")
        for sentence, heard in misheard:
            print(f"    said  {sentence}\n    heard {heard}")

        pause = silence(PAUSE_S, MODEL_RATE)
        long = pause.join(clips)
        long_s = len(long) / 2 / MODEL_RATE
        started = time.perf_counter()
        transcript = asr.transcribe(long, MODEL_RATE, language="en")
        elapsed = time.perf_counter() - started
        ref = words(" ".join(sentences))
        long_wer = edits(ref, words(transcript.text)) / len(ref)
        met = met and long_wer <= GOAL
        print(f"{voice}: one {long_s:.0f} s file (utterances of at most {MAX_UTTERANCE_S} s)  "
              f"WER {long_wer:.1%}, RTF {elapsed / long_s:.2f}, {len(transcript.sentences)} sentences")
    print(f"\ngoal: WER at most {GOAL:.0%} per voice: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
