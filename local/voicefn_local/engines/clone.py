"""What the emulator's "cloning" keeps of a voice sample: its measured pitch and pace.

This is all the embedded engines can imitate: espeak-ng is told a pitch, a speed and a male or
female variant. The timbre of the sample is not imitated (real cloning is DashScope's).
"""

from __future__ import annotations

from dataclasses import dataclass

# Median F0 above which the female variant is chosen: between typical male (~85-155 Hz) and
# female (~165-255 Hz) speaking pitch.
FEMALE_ABOVE_HZ = 160.0


@dataclass(frozen=True)
class CloneProfile:
    f0_hz: float            # median F0 of the sample's voiced frames
    syllables_per_s: float  # energy peaks per second of speech in the sample
    language: str = "zh"    # "zh" | "yue" | "en": the enrollment's language hint

    @property
    def gender(self) -> str:
        return "female" if self.f0_hz >= FEMALE_ABOVE_HZ else "male"

    def to_dict(self) -> dict[str, float | str]:
        return {"f0_hz": self.f0_hz, "syllables_per_s": self.syllables_per_s,
                "language": self.language}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "CloneProfile":
        return cls(float(data["f0_hz"]), float(data["syllables_per_s"]),  # type: ignore[arg-type]
                   str(data.get("language") or "zh"))
