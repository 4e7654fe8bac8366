"""Pick the ObjectStore and StateStore adapters named by the settings (DESIGN.md §2).

Only the chosen adapter's module (and SDK) is imported.
"""

from __future__ import annotations

from typing import Any

from voicefn.storage.objects import ObjectStore
from voicefn.storage.state import StateStore


def object_store_from_settings(settings: Any) -> ObjectStore:
    """``VOICEFN_OBJECT_STORE``: ``local`` (filesystem) or ``oss``."""
    if settings.object_store == "local":
        from voicefn.storage.local_objects import LocalObjectStore

        return LocalObjectStore.from_settings(settings)
    if settings.object_store == "oss":
        from voicefn.storage.oss_objects import OssObjectStore

        return OssObjectStore.from_settings(settings)
    raise ValueError(f"unknown object store {settings.object_store!r} (local or oss)")


def state_store_from_settings(settings: Any) -> StateStore:
    """``VOICEFN_STATE_STORE``: ``sqlite`` or ``tablestore`` (tables must exist: create_tables)."""
    if settings.state_store == "sqlite":
        from voicefn.storage.sqlite_state import SqliteStateStore

        return SqliteStateStore.from_settings(settings)
    if settings.state_store == "tablestore":
        from voicefn.storage.tablestore_state import TablestoreStateStore

        return TablestoreStateStore.from_settings(settings)
    raise ValueError(f"unknown state store {settings.state_store!r} (sqlite or tablestore)")
