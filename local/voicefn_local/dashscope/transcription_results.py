"""The JSON documents a transcription task leaves at its ``transcription_url`` (reference §3.2, §3.3).

Two shapes: ``qwen3-asr-flash-filetrans`` (``audio_info``, sentences with language and emotion,
words only with ``enable_words``) and Paraformer / Fun-ASR (``properties``, durations, sentences
numbered from 1, always with words). The engines detect no emotion: it is always "neutral".
"""

from __future__ import annotations

from typing import Any

from voicefn_local.dashscope.asr_audio import DecodedAudio
from voicefn_local.engines.asr_base import Sentence, Transcript, Word

NEUTRAL = "neutral"

# (channel id, what was heard on it)
ChannelTranscripts = list[tuple[int, Transcript]]


def _words(words: list[Word]) -> list[dict[str, Any]]:
    return [{"begin_time": w.begin_ms, "end_time": w.end_ms, "text": w.text,
             "punctuation": w.punctuation} for w in words]


def _filetrans_sentence(index: int, sentence: Sentence, language: str,
                        enable_words: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"sentence_id": index, "begin_time": sentence.begin_ms,
                           "end_time": sentence.end_ms, "text": sentence.text,
                           "language": language, "emotion": NEUTRAL}
    if enable_words:
        out["words"] = _words(sentence.words)
    return out


def filetrans_document(file_url: str, audio: DecodedAudio, channels: ChannelTranscripts, *,
                       enable_words: bool) -> dict[str, Any]:
    """The result file of a ``qwen3-asr-flash-filetrans`` task."""
    return {
        "file_url": file_url,
        "audio_info": {"format": audio.format, "sample_rate": audio.sample_rate},
        "transcripts": [
            {"channel_id": channel, "text": t.text,
             "sentences": [_filetrans_sentence(i, s, t.language, enable_words)
                           for i, s in enumerate(t.sentences)]}
            for channel, t in channels],
    }


def paraformer_document(file_url: str, audio: DecodedAudio,
                        channels: ChannelTranscripts) -> dict[str, Any]:
    """The result file of one file of a Paraformer / Fun-ASR (``file_urls``) task."""
    return {
        "file_url": file_url,
        "properties": {"audio_format": audio.format, "channels": [c for c, _ in channels],
                       "original_sampling_rate": audio.sample_rate,
                       "original_duration_in_milliseconds": round(audio.seconds * 1000)},
        "transcripts": [
            {"channel_id": channel,
             "content_duration_in_milliseconds": sum(s.end_ms - s.begin_ms for s in t.sentences),
             "text": t.text,
             "sentences": [{"begin_time": s.begin_ms, "end_time": s.end_ms, "text": s.text,
                            "sentence_id": i + 1, "words": _words(s.words)}
                           for i, s in enumerate(t.sentences)]}
            for channel, t in channels],
    }
