"""A row of the voices table: a cloned voice (DESIGN.md §6; seed 003 §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from voicefn.records._rows import compact, enum_value, extra_fields, optional_str, required_str

__all__ = ["Voice", "VoiceStatus"]


class VoiceStatus(str, Enum):
    """seed 003's VoiceStatus: in review, usable, refused."""

    DEPLOYING = "DEPLOYING"
    OK = "OK"
    UNDEPLOYED = "UNDEPLOYED"


_FIELDS = ("voice_id", "owner", "target_model", "prefix", "status", "name", "gender", "description",
           "public", "sample_key", "preview_key", "enrolled_by", "created_at", "updated_at")


@dataclass
class Voice:
    voice_id: str
    owner: str
    target_model: str | None = None
    prefix: str | None = None
    status: VoiceStatus = VoiceStatus.DEPLOYING
    name: str | None = None
    gender: str | None = None
    description: str | None = None
    public: bool = False
    sample_key: str | None = None
    preview_key: str | None = None
    # whose DashScope key enrolled it (the platform's or the owner's own)
    enrolled_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Voice:
        return cls(
            voice_id=required_str(row, "voice_id", "voice"), owner=required_str(row, "owner", "voice"),
            target_model=optional_str(row, "target_model"), prefix=optional_str(row, "prefix"),
            status=enum_value(VoiceStatus, row.get("status") or VoiceStatus.DEPLOYING.value, "voice status"),
            name=optional_str(row, "name"), gender=optional_str(row, "gender"),
            description=optional_str(row, "description"), public=bool(row.get("public")),
            sample_key=optional_str(row, "sample_key"), preview_key=optional_str(row, "preview_key"),
            enrolled_by=optional_str(row, "enrolled_by"), created_at=optional_str(row, "created_at"),
            updated_at=optional_str(row, "updated_at"), extra=extra_fields(row, _FIELDS))

    def to_row(self) -> dict[str, Any]:
        return compact({
            "voice_id": self.voice_id, "owner": self.owner, "target_model": self.target_model,
            "prefix": self.prefix, "status": self.status, "name": self.name, "gender": self.gender,
            "description": self.description, "public": self.public or None, "sample_key": self.sample_key,
            "preview_key": self.preview_key, "enrolled_by": self.enrolled_by,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }, self.extra)

    def visible_to(self, user_id: str) -> bool:
        """Its owner sees it; everyone sees a public one."""
        return self.owner == user_id or self.public

    @property
    def usable(self) -> bool:
        return self.status is VoiceStatus.OK
