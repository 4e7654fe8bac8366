"""Audio bytes: formats, probing, PCM maths, streaming encoders and joins.

Importing this package is cheap (FC cold start): only the pure-Python modules are imported here.
numpy, soundfile, lameenc and mutagen are imported inside the functions that need them.
"""

from voicefn.audio.errors import InvalidAudio, UnsupportedAudio
from voicefn.audio.formats import OUTPUT_FORMATS, content_type, detect_format, extension, normalize_format

__all__ = [
    "InvalidAudio",
    "UnsupportedAudio",
    "OUTPUT_FORMATS",
    "content_type",
    "detect_format",
    "extension",
    "normalize_format",
]
