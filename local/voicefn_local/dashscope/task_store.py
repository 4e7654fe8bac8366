"""Async task records and their result files, in memory or under a directory (then they survive a
restart of the emulator).

Layout of a directory: ``tasks/{task_id}.json`` (one :class:`TaskRecord` each) and
``results/{name}`` (the transcription JSON files served at ``/files/asr/{name}``). Every write
goes to a temporary file renamed into place, so a crash never leaves half a record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("voicefn.dashscope.tasks")

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, UNKNOWN = (
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, CANCELED})

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def new_task_id() -> str:
    return str(uuid.uuid4())


@dataclass
class FileOutcome:
    """What became of one input file: its result file, or why it failed."""

    file_url: str
    status: str = PENDING               # SUCCEEDED / FAILED once processed
    result_name: str | None = None      # under results/, served at /files/asr/{name}
    seconds: int = 0                    # billed: whole seconds x channels transcribed
    code: str | None = None
    message: str | None = None


@dataclass
class TaskRecord:
    task_id: str
    kind: str                           # "filetrans" (input.file_url) | "file_urls"
    model: str
    parameters: dict[str, Any]
    files: list[FileOutcome]
    status: str = PENDING
    submit_time: float = field(default_factory=time.time)
    scheduled_time: float | None = None
    end_time: float | None = None
    code: str | None = None             # set when FAILED
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TaskRecord":
        files = [FileOutcome(**f) for f in data.get("files", [])]
        return cls(**{**data, "files": files})

    @property
    def seconds(self) -> int:
        return sum(f.seconds for f in self.files)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TaskStore:
    """Task records by id and result files by name; safe to use from any thread."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._dir = Path(directory) if directory is not None else None
        self._records: dict[str, TaskRecord] = {}
        self._results: dict[str, bytes] = {}   # in-memory mode only
        if self._dir is not None:
            self._load()

    @property
    def persistent(self) -> bool:
        return self._dir is not None

    def _load(self) -> None:
        assert self._dir is not None
        for path in sorted((self._dir / "tasks").glob("*.json")):
            try:
                record = TaskRecord.from_dict(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping unreadable task record %s: %s", path.name, exc)
                continue
            self._records[record.task_id] = record

    def put(self, record: TaskRecord) -> None:
        """Store (or update) a record; written through to disk in persistent mode."""
        data = json.dumps(record.to_dict(), ensure_ascii=False).encode()
        with self._lock:
            self._records[record.task_id] = record
            if self._dir is not None:
                _write_atomic(self._dir / "tasks" / f"{record.task_id}.json", data)

    def get(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            return self._records.get(task_id)

    def all(self) -> list[TaskRecord]:
        with self._lock:
            return list(self._records.values())

    def delete(self, task_id: str) -> None:
        """Forget a task and its result files."""
        with self._lock:
            record = self._records.pop(task_id, None)
            if self._dir is not None:
                (self._dir / "tasks" / f"{task_id}.json").unlink(missing_ok=True)
        for outcome in record.files if record else []:
            if outcome.result_name:
                self._delete_result(outcome.result_name)

    def put_result(self, name: str, data: bytes) -> None:
        if not _SAFE_NAME.match(name):
            raise ValueError(f"bad result name {name!r}")
        if self._dir is not None:
            _write_atomic(self._dir / "results" / name, data)
        else:
            with self._lock:
                self._results[name] = data

    def get_result(self, name: str) -> bytes | None:
        if not _SAFE_NAME.match(name) or name.startswith("."):
            return None
        if self._dir is None:
            with self._lock:
                return self._results.get(name)
        try:
            return (self._dir / "results" / name).read_bytes()
        except OSError:
            return None

    def _delete_result(self, name: str) -> None:
        if self._dir is not None:
            (self._dir / "results" / name).unlink(missing_ok=True)
        else:
            with self._lock:
                self._results.pop(name, None)

    def prune(self, older_than: float) -> int:
        """Delete tasks submitted before ``older_than`` (unix seconds); returns how many."""
        old = [r.task_id for r in self.all() if r.submit_time < older_than]
        for task_id in old:
            self.delete(task_id)
        return len(old)
