"""Result files (synthesized audio) the emulator serves at ``GET /files/{id}.{ext}``.

DashScope hands out result URLs on its own OSS, valid 24 h and needing no auth; the emulator
keeps the bytes in memory instead, bounded in total size (oldest dropped first) so a long-running
``voicefn serve`` cannot grow without limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "pcm": "application/octet-stream",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "json": "application/json",
}


def new_file_id(prefix: str = "audio") -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    ext: str
    data: bytes
    expires_at: int  # unix seconds

    @property
    def name(self) -> str:
        return f"{self.file_id}.{self.ext}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.ext, "application/octet-stream")


class FileStore:
    def __init__(self, *, ttl_s: int = 86400, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._lock = threading.Lock()
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._bytes = 0
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes

    def put(self, data: bytes, ext: str, *, file_id: str | None = None) -> StoredFile:
        stored = StoredFile(file_id or new_file_id(), ext, data, int(time.time()) + self.ttl_s)
        with self._lock:
            self._files[stored.file_id] = stored
            self._bytes += len(data)
            while self._bytes > self.max_bytes and len(self._files) > 1:
                _, old = self._files.popitem(last=False)
                self._bytes -= len(old.data)
        return stored

    def get(self, name: str) -> StoredFile | None:
        """The file called ``{id}.{ext}``, or None if unknown, expired or the extension differs."""
        file_id, _, ext = name.rpartition(".")
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None or stored.ext != ext:
                return None
            if stored.expires_at < time.time():
                self._files.pop(file_id, None)
                self._bytes -= len(stored.data)
                return None
            return stored
