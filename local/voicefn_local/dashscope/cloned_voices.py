"""The emulator's cloned voices: per account (API key), with DashScope's id format, quota and
status (``DEPLOYING`` until the sample is analysed and the deploy delay has passed, then ``OK``
or ``UNDEPLOYED``). Kept in ``data_dir/cloned_voices.json`` when the emulator has a data dir, so
a restarted ``voicefn serve`` still knows the voices its tables name."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voicefn_local.engines.clone import CloneProfile

DEPLOYING, OK, UNDEPLOYED = "DEPLOYING", "OK", "UNDEPLOYED"
_FILE = "cloned_voices.json"


def account_of(api_key: str) -> str:
    """The account a key belongs to: the emulator treats every key as its own account (kept as
    a hash, so the file never holds a key)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def new_voice_id(target_model: str, prefix: str) -> str:
    """DashScope's format: ``{target_model}-{prefix}-{32 hex}``."""
    return f"{target_model}-{prefix}-{uuid.uuid4().hex}"


def gmt_now() -> str:
    """DashScope's timestamp format, ``2024-12-11 13:38:02``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class ClonedVoice:
    voice_id: str
    account: str
    target_model: str
    prefix: str
    url: str                        # the sample's URL: query_voice's resource_link
    language: str                   # engine language from language_hints ("zh" default)
    gmt_create: str
    gmt_modified: str
    generation: int = 0             # bumped by update_voice: a stale analysis is ignored
    analysed: bool = False
    ready_at: float = 0.0           # wall time when DEPLOYING may end
    profile: CloneProfile | None = None
    reason: str | None = None       # why UNDEPLOYED
    created_ns: int = field(default_factory=time.time_ns)  # orders voices created in one second

    def status(self, now: float | None = None) -> str:
        if not self.analysed or (now if now is not None else time.time()) < self.ready_at:
            return DEPLOYING
        return OK if self.profile is not None else UNDEPLOYED

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "profile"}
        data["profile"] = self.profile.to_dict() if self.profile is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClonedVoice":
        profile = data.get("profile")
        return cls(**{**data, "profile": CloneProfile.from_dict(profile) if profile else None})


class VoiceQuotaExceeded(Exception):
    pass


@dataclass
class ClonedVoiceStore:
    quota: int
    data_dir: str | os.PathLike[str] | None = None
    _voices: dict[str, ClonedVoice] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        path = self._path()
        if path is not None and path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                voice = ClonedVoice.from_dict(item)
                self._voices[voice.voice_id] = voice

    def _path(self) -> Path | None:
        return Path(self.data_dir) / _FILE if self.data_dir is not None else None

    def _save(self) -> None:  # under the lock
        path = self._path()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([v.to_dict() for v in self._voices.values()]), encoding="utf-8")
        tmp.replace(path)

    def add(self, voice: ClonedVoice) -> None:
        """Store a new voice; :class:`VoiceQuotaExceeded` when its account is full."""
        with self._lock:
            used = sum(1 for v in self._voices.values() if v.account == voice.account)
            if used >= self.quota:
                raise VoiceQuotaExceeded()
            self._voices[voice.voice_id] = voice
            self._save()

    def get(self, voice_id: str) -> ClonedVoice | None:
        with self._lock:
            return self._voices.get(voice_id)

    def owned(self, account: str, voice_id: object) -> ClonedVoice | None:
        """The account's voice of that id (another account's is as absent as a missing one)."""
        voice = self.get(voice_id) if isinstance(voice_id, str) else None
        return voice if voice is not None and voice.account == account else None

    def list(self, account: str, prefix: str | None = None) -> list[ClonedVoice]:
        """The account's voices, newest first, optionally only those of one prefix."""
        with self._lock:
            voices = [v for v in self._voices.values() if v.account == account
                      and (prefix is None or v.prefix == prefix)]
        return sorted(voices, key=lambda v: v.created_ns, reverse=True)

    def pending(self) -> list[ClonedVoice]:
        with self._lock:
            return [v for v in self._voices.values() if not v.analysed]

    def renew(self, voice_id: str, url: str) -> ClonedVoice | None:
        """update_voice: a new sample, back to DEPLOYING."""
        with self._lock:
            voice = self._voices.get(voice_id)
            if voice is None:
                return None
            voice = replace(voice, url=url, gmt_modified=gmt_now(), generation=voice.generation + 1,
                            analysed=False, profile=None, reason=None)
            self._voices[voice_id] = voice
            self._save()
            return voice

    def finish(self, voice_id: str, generation: int, *, ready_at: float,
               profile: CloneProfile | None, reason: str | None) -> None:
        """Record the analysis of the sample of ``generation`` (ignored if updated since)."""
        with self._lock:
            voice = self._voices.get(voice_id)
            if voice is None or voice.generation != generation:
                return
            self._voices[voice_id] = replace(voice, analysed=True, ready_at=ready_at,
                                             profile=profile, reason=reason)
            self._save()

    def delete(self, voice_id: str) -> bool:
        with self._lock:
            found = self._voices.pop(voice_id, None) is not None
            if found:
                self._save()
            return found
