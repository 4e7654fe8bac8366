"""A row of the history table: one billed operation (seed 003 §5's AudioHistoryItem)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from voicefn import clock
from voicefn.records._rows import compact, enum_value, extra_fields, optional_str

__all__ = ["HistoryItem", "HistoryType", "HISTORY_TYPES"]


class HistoryType(str, Enum):
    TTS = "tts"
    ASR = "asr"
    VOICE = "voice"
    CHAT = "chat"  # DESIGN.md §6: the chat function's spoken replies

    @classmethod
    def parse(cls, value: object) -> HistoryType:
        """ValueError naming the allowed types for anything else."""
        return enum_value(cls, value, "history type")


HISTORY_TYPES = tuple(t.value for t in HistoryType)

_FIELDS = ("id", "type", "model_name", "input_data", "output_key", "output_text", "voice_id", "duration",
           "bill", "status", "created_at")


@dataclass
class HistoryItem:
    type: HistoryType
    model_name: str
    input_data: str = "{}"  # JSON text, as seed 003 shows it
    bill: str = "0"         # money is a decimal string
    output_key: str | None = None
    output_text: str | None = None
    voice_id: str | None = None
    duration: float | int | None = None  # as given: seed 003 shows ASR seconds as an int
    status: str | None = None
    created_at: str | None = field(default_factory=clock.utc_now)
    id: int | None = None   # the record_id, assigned by the store
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> HistoryItem:
        record_id = row.get("id")
        duration = row.get("duration")
        if duration is not None and not isinstance(duration, (int, float)):
            duration = float(duration)
        return cls(
            type=enum_value(HistoryType, row.get("type"), "history type"),
            model_name=str(row.get("model_name") or ""), input_data=str(row.get("input_data") or "{}"),
            bill=str(row.get("bill") if row.get("bill") is not None else "0"),
            output_key=optional_str(row, "output_key"), output_text=optional_str(row, "output_text"),
            voice_id=optional_str(row, "voice_id"), duration=duration,
            status=optional_str(row, "status"), created_at=optional_str(row, "created_at"),
            id=None if record_id is None else int(record_id), extra=extra_fields(row, _FIELDS))

    def to_row(self) -> dict[str, Any]:
        """The stored form, without ``id`` (the store assigns it)."""
        return compact({
            "type": self.type, "model_name": self.model_name, "input_data": self.input_data,
            "output_key": self.output_key, "output_text": self.output_text, "voice_id": self.voice_id,
            "duration": self.duration, "bill": self.bill, "status": self.status,
            "created_at": self.created_at,
        }, self.extra)
