"""History records: one per billed operation, listed by seed 003 §5."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from voicefn.storage.objects import ObjectStore
from voicefn.storage.state import StateStore

HISTORY_TYPES = ("tts", "asr", "voice")
OUTPUT_URL_TTL_S = 24 * 3600
_MAX_INPUT_TEXT = 500  # history keeps a preview of long inputs, not whole books


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def input_preview(fields: dict[str, Any]) -> dict[str, Any]:
    """The request fields worth keeping (callers pass no secrets); long text is cut."""
    out = dict(fields)
    text = out.get("text")
    if isinstance(text, str) and len(text) > _MAX_INPUT_TEXT:
        out["text"] = text[:_MAX_INPUT_TEXT] + "…"
        out["text_length"] = len(text)
    return out


async def record_history(state: StateStore, user_id: str, *, type: str, model: str,
                         input: dict[str, Any], bill: Decimal | str, output_key: str | None = None,
                         output_text: str | None = None, voice_id: str | None = None,
                         duration: float | None = None, status: str | None = None,
                         extra: dict[str, Any] | None = None,
                         idempotency_key: str | None = None) -> int:
    record: dict[str, Any] = {
        "type": type,
        "model_name": model,
        "input_data": json.dumps(input_preview(input), ensure_ascii=False),
        "output_key": output_key,
        "output_text": output_text,
        "voice_id": voice_id,
        "duration": duration,
        "bill": str(bill),
        "status": status,
        "created_at": utc_now(),
    }
    if extra:
        record.update(extra)
    if output_key:  # the object is this user's from now on (read back by URL: storage.owners)
        from voicefn.storage.owners import grant

        await grant(state, output_key, user_id)
    return await state.add_history(user_id, {k: v for k, v in record.items() if v is not None},
                                   idempotency_key=idempotency_key)


def public_item(row: dict[str, Any], objects: ObjectStore) -> dict[str, Any]:
    """seed 003's AudioHistoryItem; output URLs are signed at read time (they expire)."""
    item: dict[str, Any] = {
        "id": row["id"],
        "type": row.get("type"),
        "model_name": row.get("model_name"),
        "input_data": row.get("input_data", "{}"),
        "bill": row.get("bill", "0"),
        "created_at": row.get("created_at"),
    }
    if row.get("output_key"):
        item["output_url"] = objects.signed_get_url(row["output_key"], OUTPUT_URL_TTL_S)
    for name in ("output_text", "voice_id", "duration", "status"):
        if row.get(name) is not None:
            item[name] = row[name]
    return item
