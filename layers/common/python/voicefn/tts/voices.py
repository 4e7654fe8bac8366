"""Kept for callers of the old name: voice access lives in :mod:`voicefn.voice.access`."""

from voicefn.voice.access import check_voice, synthesis_key

__all__ = ["check_voice", "synthesis_key"]
