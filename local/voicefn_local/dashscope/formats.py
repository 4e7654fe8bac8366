"""Output formats the TTS APIs accept, and DashScope's placeholders for "the default"."""

from __future__ import annotations

from voicefn_local.dashscope.errors import DashScopeError

TTS_FORMATS = ("mp3", "wav", "pcm", "opus")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
OPUS_SAMPLE_RATES = (8000, 16000, 24000, 48000)  # what libopus can encode
DEFAULT_FORMAT = "mp3"
DEFAULT_SAMPLE_RATE = 22050
DEFAULT_OPUS_KBPS = 32


def resolve_format(fmt: object, sample_rate: object) -> tuple[str, int]:
    """``(format, sample_rate)`` for a request; SDK 2.0.2's ``"Default"``/``0`` mean mp3/22050."""
    name = DEFAULT_FORMAT if fmt in (None, "", "Default", "default") else str(fmt).lower()
    if name not in TTS_FORMATS:
        raise DashScopeError("InvalidParameter",
                             f"format {fmt!r} is not supported; use one of {', '.join(TTS_FORMATS)}")
    try:
        rate = DEFAULT_SAMPLE_RATE if sample_rate in (None, 0, "") else int(sample_rate)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DashScopeError("InvalidParameter", f"sample_rate {sample_rate!r} is not a number") from None
    if name == "opus" and rate == DEFAULT_SAMPLE_RATE and sample_rate in (None, 0, ""):
        rate = 24000
    allowed = OPUS_SAMPLE_RATES if name == "opus" else SAMPLE_RATES
    if rate not in allowed:
        raise DashScopeError("InvalidParameter",
                             f"sample_rate {rate} is not supported for {name}; use one of "
                             f"{', '.join(map(str, allowed))}")
    return name, rate


def resolve_bit_rate(fmt: str, bit_rate: object) -> int | None:
    """kbps for opus (SDK sends ``bit_rate`` only for opus); None for the other formats."""
    if fmt != "opus":
        return None
    if bit_rate in (None, 0, ""):
        return DEFAULT_OPUS_KBPS
    try:
        kbps = int(bit_rate)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DashScopeError("InvalidParameter", f"bit_rate {bit_rate!r} is not a number") from None
    if not 6 <= kbps <= 510:
        raise DashScopeError("InvalidParameter", f"bit_rate {kbps} kbps is out of range")
    return kbps
