"""History records: one per billed operation, listed by seed 003 §5."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from voicefn import clock
from voicefn.records.history import HistoryItem, HistoryType
from voicefn.storage.objects import ObjectStore
from voicefn.storage.state import StateStore

HISTORY_TYPES = ("tts", "asr", "voice")
OUTPUT_URL_TTL_S = 24 * 3600
_MAX_INPUT_TEXT = 500  # history keeps a preview of long inputs, not whole books


# the one UTC clock (kept under this name: tasks and transcriptions import it from here)
utc_now = clock.utc_now


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
    item = HistoryItem(
        type=HistoryType.parse(type), model_name=model,
        input_data=json.dumps(input_preview(input), ensure_ascii=False), bill=str(bill),
        output_key=output_key, output_text=output_text, voice_id=voice_id, duration=duration,
        status=status, extra=dict(extra or {}))
    row = item.to_row()
    if extra:  # as before: extra fields may also replace the named ones
        row.update({k: v for k, v in extra.items() if v is not None})
    if output_key:  # the object is this user's from now on (read back by URL: storage.owners)
        from voicefn.storage.owners import grant

        await grant(state, output_key, user_id)
    record_id = await state.add_history(user_id, row, idempotency_key=idempotency_key)
    from voicefn.limits.ledger import settle_bill

    await settle_bill(state, user_id, bill, idempotency_key)  # the spend caps' ledger
    return record_id


def public_item(row: dict[str, Any], objects: ObjectStore) -> dict[str, Any]:
    """seed 003's AudioHistoryItem; output URLs are signed at read time (they expire)."""
    record = HistoryItem.from_row(row)
    item: dict[str, Any] = {
        "id": record.id,
        "type": record.type.value,
        "model_name": record.model_name,
        "input_data": record.input_data,
        "bill": record.bill,
        "created_at": record.created_at,
    }
    if record.output_key:
        item["output_url"] = objects.signed_get_url(record.output_key, OUTPUT_URL_TTL_S)
    for name in ("output_text", "voice_id", "duration", "status"):
        value = getattr(record, name)
        if value is not None:
            item[name] = value
    return item
