"""Text on its way to speech: CJK-aware sentence splitting, cleaning for TTS, cache normalization."""

from voicefn.text.clean import clean_for_speech, normalize_for_cache
from voicefn.text.split import SentenceStream, pack_segments, split_sentences

__all__ = ["SentenceStream", "clean_for_speech", "normalize_for_cache", "pack_segments", "split_sentences"]
