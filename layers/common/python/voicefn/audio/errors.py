"""The two ways audio bytes can be refused."""

from __future__ import annotations


class InvalidAudio(ValueError):
    """Bytes that are not the audio they claim to be: fake, truncated, corrupt, or not audio at all.

    Routes map it to seed 003's ``INVALID_AUDIO``.
    """


class UnsupportedAudio(InvalidAudio):
    """Real audio in a container this build cannot decode (m4a/webm need ffmpeg, which we do not ship).

    Routes map it to ``UNSUPPORTED_FORMAT``.
    """
