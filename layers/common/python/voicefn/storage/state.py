"""StateStore port: history, tasks, voices, user settings and event dedupe (DESIGN.md §6).

Rows are plain dicts of JSON-able values so that both adapters (SQLite, Tablestore) store the
same thing. Times are UTC ISO-8601 strings (``2025-12-30T10:30:00.000Z``), stamped by the store
when absent (``created_at``; ``updated_at`` on tasks and voices). Top-level field names of tasks,
voices and settings must match ``[A-Za-z_][A-Za-z0-9_]*`` (they are Tablestore columns); a None
value is never stored (it deletes the field where updates allow that). Invalid input raises
ValueError. Adapters: :mod:`voicefn.storage.sqlite_state`, :mod:`voicefn.storage.tablestore_state`.
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
        user returns the first record_id and writes nothing (a retried invocation bills once),
        also when deliveries race. record_ids increase per user but are not consecutive (on
        Tablestore they are large auto-increment values, still below 2**53)."""
        ...

    async def list_history(self, user_id: str, *, type: str | None = None, page: int = 1,
                           page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
        """Newest first, ``page`` from 1, optional ``type`` filter. Returns (items, total). Each
        item has ``id`` plus the stored fields."""
        ...

    async def get_history(self, user_id: str, record_id: int) -> dict[str, Any] | None: ...

    async def update_history(self, user_id: str, record_id: int, changes: dict[str, Any]) -> bool:
        """Merge ``changes`` into the user's existing record (a None value deletes that field;
        ``id`` is fixed, so it raises ValueError). False if the user has no such record: it never
        creates one. Concurrent updates of different fields all survive (atomic per record)."""
        ...

    # -- tasks ------------------------------------------------------------------------------
    async def create_task(self, task: dict[str, Any]) -> bool:
        """Insert ``task`` (must have ``task_id``, ``owner``, ``kind``, ``status`` in
        TASK_STATUSES). False if the task_id exists already (nothing is overwritten)."""
        ...

    async def get_task(self, task_id: str) -> dict[str, Any] | None: ...

    async def update_task(self, task_id: str, changes: dict[str, Any],
                          expect_status: str | tuple[str, ...] | None = None,
                          expect_fields: dict[str, Any] | None = None) -> bool:
        """Apply ``changes`` (a None value deletes that field; ``task_id``/``owner``/``kind`` are
        fixed); when ``expect_status`` is given, only if the current status is one of them, as one
        atomic conditional write. ``expect_fields`` adds equality conditions on other top-level
        fields (scalars: str, int, bool; None means the field must be absent), checked in the same
        write: compare-and-swap on a lease token. False if missing or a condition failed."""
        ...

    async def list_tasks(self, *, owner: str | None = None, kind: str | None = None,
                         statuses: tuple[str, ...] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Matching tasks, oldest first (``created_at``, then ``task_id``), at most ``limit``."""
        ...

    # -- voices (owner, voice_id) -----------------------------------------------------------
    async def put_voice(self, voice: dict[str, Any]) -> None:
        """Insert or replace a voice (needs ``voice_id`` and ``owner``; ``target_model`` and
        ``prefix`` are what lists filter on). A replacement keeps the first ``created_at``."""
        ...

    async def get_voice(self, voice_id: str) -> dict[str, Any] | None: ...

    async def list_voices(self, owner: str, *, model: str | None = None, prefix: str | None = None,
                          page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        """(voices, total) of ``owner``, filtered on ``target_model``/``prefix`` (exact), oldest
        first (``created_at``, then ``voice_id``), ``page`` from 0 as seed 003 has it."""
        ...

    async def list_visible_voices(self, user_id: str, *, include_public: bool = True, gender: str | None = None,
                                  page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        """(voices, total): ``user_id``'s own voices and, with ``include_public``, everyone's public
        ones (``public`` true), optionally only those whose ``gender`` equals ``gender``; oldest
        first (``created_at``, then ``voice_id``), ``page`` from 0."""
        ...

    async def count_voices(self, *, owner: str | None = None, enrolled_by: str | None = None) -> int:
        """How many voices (of ``owner``; whose ``enrolled_by`` equals ``enrolled_by``) exist."""
        ...

    async def delete_voice(self, voice_id: str) -> bool:
        """True if the voice existed."""
        ...

    # -- user settings ------------------------------------------------------------------------
    async def get_user_settings(self, user_id: str) -> dict[str, Any] | None:
        """None if never set; ``{}`` once every field has been deleted."""
        ...

    async def put_user_settings(self, user_id: str, values: dict[str, Any]) -> None:
        """Merge ``values`` into the user's settings; a value of None deletes that field."""
        ...

    # -- event dedupe (at-least-once delivery) ----------------------------------------------
    async def claim_event(self, event_key: str, owner: str = "") -> bool:
        """True the first time ``event_key`` is claimed, False for every later delivery."""
        ...

    async def get_event(self, event_key: str) -> dict[str, Any] | None:
        """``{event_key, owner, first_seen, outcome (dict or None), outcome_at}`` or None."""
        ...

    async def set_event_outcome(self, event_key: str, outcome: dict[str, Any]) -> None:
        """Record what processing the event produced (an unclaimed event becomes claimed)."""
        ...

    # -- small key/value cache index (TTS content cache) ------------------------------------
    async def get_cache(self, cache_key: str) -> dict[str, Any] | None: ...

    async def put_cache(self, cache_key: str, value: dict[str, Any]) -> None: ...

    async def cache_entries(self) -> list[tuple[str, dict[str, Any]]]:
        """Every (key, value) of the cache index (seed 004's /cache/stats)."""
        ...

    async def clear_cache(self) -> int:
        """Forget every cache entry (the stored audio stays: history links to it); returns how many."""
        ...
