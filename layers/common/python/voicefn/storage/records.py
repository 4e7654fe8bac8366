"""Rules both StateStore adapters apply to rows, so they store and return the same thing."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from voicefn import clock
from voicefn.storage.state import TASK_STATUSES

# Field names become Tablestore column names, so both adapters accept only what Tablestore does.
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


# UTC ISO-8601 with milliseconds and ``Z`` (sorts as text in time order): the one clock
now_iso = clock.utc_now


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_field_names(values: Mapping[str, Any], what: str) -> None:
    for name in values:
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            raise ValueError(f"{what} field name {name!r} must match {_FIELD_NAME.pattern}")


def check_page(page: int, page_size: int, first_page: int) -> None:
    if page < first_page:
        raise ValueError(f"page must be >= {first_page}")
    if page_size < 1:
        raise ValueError("page_size must be >= 1")


def new_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a task for ``create_task`` and stamp its times."""
    for name in ("task_id", "owner", "kind", "status"):
        if not isinstance(task.get(name), str) or not task.get(name):
            raise ValueError(f"task needs a non-empty string {name!r}")
    check_field_names(task, "task")
    check_status(task["status"])
    row = {k: v for k, v in task.items() if v is not None}
    now = now_iso()
    row.setdefault("created_at", now)
    row.setdefault("updated_at", row["created_at"])
    return row


def task_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``update_task`` changes (None deletes a field) and stamp ``updated_at``."""
    check_field_names(changes, "task")
    for fixed in ("task_id", "owner", "kind"):
        if fixed in changes:
            raise ValueError(f"update_task cannot change {fixed!r}")
    if "status" in changes:
        if changes["status"] is None:
            raise ValueError("update_task cannot delete 'status'")
        check_status(changes["status"])
    out = dict(changes)
    out.setdefault("updated_at", now_iso())
    return out


def check_status(status: Any) -> None:
    if status not in TASK_STATUSES:
        raise ValueError(f"task status must be one of {TASK_STATUSES}, not {status!r}")


def expected_fields(expect_fields: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Validate ``update_task``'s ``expect_fields``: scalar values (or None: absent)."""
    if expect_fields is None:
        return None
    check_field_names(expect_fields, "task")
    for name, value in expect_fields.items():
        if value is not None and not isinstance(value, (str, int, bool)):
            raise ValueError(f"expect_fields[{name!r}] must be a str, int, bool or None")
    return dict(expect_fields)


def expected_statuses(expect_status: str | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if expect_status is None:
        return None
    return (expect_status,) if isinstance(expect_status, str) else tuple(expect_status)


def new_voice(voice: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a voice for ``put_voice``; keep the first ``created_at``, stamp ``updated_at``."""
    for name in ("voice_id", "owner"):
        if not isinstance(voice.get(name), str) or not voice.get(name):
            raise ValueError(f"voice needs a non-empty string {name!r}")
    check_field_names(voice, "voice")
    row = {k: v for k, v in voice.items() if v is not None}
    now = now_iso()
    row.setdefault("created_at", (existing or {}).get("created_at") or now)
    row["updated_at"] = voice.get("updated_at") or now
    return row


def voice_sort_key(voice: Mapping[str, Any]) -> tuple[str, str]:
    """Voice lists are oldest first (as seed 003's example), ties by id."""
    return (str(voice.get("created_at", "")), str(voice["voice_id"]))


def task_sort_key(task: Mapping[str, Any]) -> tuple[str, str]:
    """Task lists are oldest first (work queues drain in order), ties by id."""
    return (str(task.get("created_at", "")), str(task["task_id"]))


def voice_matches(voice: Mapping[str, Any], model: str | None, prefix: str | None) -> bool:
    return ((model is None or voice.get("target_model") == model)
            and (prefix is None or voice.get("prefix") == prefix))


def task_matches(task: Mapping[str, Any], owner: str | None, kind: str | None,
                 statuses: tuple[str, ...] | None) -> bool:
    return ((owner is None or task.get("owner") == owner)
            and (kind is None or task.get("kind") == kind)
            and (statuses is None or task.get("status") in statuses))


def history_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a history record: a copy with ``created_at``; ``id`` is assigned."""
    row = {k: v for k, v in record.items() if k != "id"}
    row.setdefault("created_at", now_iso())
    return row


def history_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``update_history`` changes: string field names; ``id`` is fixed (it is the key)."""
    if not isinstance(changes, Mapping):
        raise ValueError("history changes must be a mapping of field names to values")
    for name in changes:
        if not isinstance(name, str) or not name:
            raise ValueError(f"history field name {name!r} must be a non-empty string")
    if "id" in changes:
        raise ValueError("update_history cannot change 'id'")
    return dict(changes)


def merge_fields(row: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with ``changes`` applied: a None value deletes the field."""
    merged = dict(row)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


_MONTH = re.compile(r"^\d{4}-\d{2}$")


def check_spend_buckets(month: str, day: str) -> None:
    """``month`` is ``YYYY-MM`` and ``day`` a ``YYYY-MM-DD`` inside it (the spend ledger's rows)."""
    if not _MONTH.match(month) or not re.fullmatch(r"\d{2}", day[len(month) + 1:]) or \
            not day.startswith(month + "-"):
        raise ValueError(f"spend buckets must be YYYY-MM and a YYYY-MM-DD in it, not {month!r}, {day!r}")
