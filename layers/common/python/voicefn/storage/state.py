"""StateStore port: history, tasks, voices, user settings and event dedupe (DESIGN.md §6).

Rows are plain dicts of JSON-able values so that both adapters (SQLite, Tablestore) store the
same thing. Times are UTC ISO-8601 strings.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

TASK_STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")


@runtime_checkable
class StateStore(Protocol):
    # -- history: one row per billed operation; record_id is a per-user increasing integer ----
    async def add_history(self, user_id: str, record: dict[str, Any],
                          idempotency_key: str | None = None) -> int:
        """Store ``record`` and return its record_id. The same ``idempotency_key`` for the same
        user returns the first record_id and writes nothing (a retried invocation bills once)."""
        ...

    async def list_history(self, user_id: str, *, type: str | None = None, page: int = 1,
                           page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
        """Newest first. Returns (items, total). Each item has ``id`` plus the stored fields."""
        ...

    async def get_history(self, user_id: str, record_id: int) -> dict[str, Any] | None: ...

    # -- tasks ------------------------------------------------------------------------------
    async def create_task(self, task: dict[str, Any]) -> bool:
        """Insert ``task`` (must have ``task_id``, ``owner``, ``kind``, ``status``). False if the
        task_id exists already (nothing is overwritten)."""
        ...

    async def get_task(self, task_id: str) -> dict[str, Any] | None: ...

    async def update_task(self, task_id: str, changes: dict[str, Any],
                          expect_status: str | tuple[str, ...] | None = None) -> bool:
        """Apply ``changes``; when ``expect_status`` is given, only if the current status is one of
        them (conditional update). False if missing or the condition failed."""
        ...

    async def list_tasks(self, *, owner: str | None = None, kind: str | None = None,
                         statuses: tuple[str, ...] | None = None, limit: int = 100) -> list[dict[str, Any]]: ...

    # -- voices (owner, voice_id) -----------------------------------------------------------
    async def put_voice(self, voice: dict[str, Any]) -> None: ...

    async def get_voice(self, voice_id: str) -> dict[str, Any] | None: ...

    async def list_voices(self, owner: str, *, model: str | None = None, prefix: str | None = None,
                          page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]: ...

    async def delete_voice(self, voice_id: str) -> bool: ...

    # -- user settings ------------------------------------------------------------------------
    async def get_user_settings(self, user_id: str) -> dict[str, Any] | None: ...

    async def put_user_settings(self, user_id: str, values: dict[str, Any]) -> None:
        """Merge ``values`` into the user's settings; a value of None deletes that field."""
        ...

    # -- event dedupe (at-least-once delivery) ----------------------------------------------
    async def claim_event(self, event_key: str, owner: str = "") -> bool:
        """True the first time ``event_key`` is claimed, False for every later delivery."""
        ...

    async def get_event(self, event_key: str) -> dict[str, Any] | None: ...

    async def set_event_outcome(self, event_key: str, outcome: dict[str, Any]) -> None: ...

    # -- small key/value cache index (TTS content cache) ------------------------------------
    async def get_cache(self, cache_key: str) -> dict[str, Any] | None: ...

    async def put_cache(self, cache_key: str, value: dict[str, Any]) -> None: ...
