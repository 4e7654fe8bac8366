"""Typed records over the StateStore's rows: status enums, from_row/to_row round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicefn.records import (
    HistoryItem, HistoryType, Task, TaskError, TaskStatus, TicketPhase, UploadTicket, Voice, VoiceStatus,
)
from voicefn.storage.sqlite_state import SqliteStateStore


@pytest.fixture
def state(tmp_path: Path) -> SqliteStateStore:
    return SqliteStateStore(tmp_path / "state.sqlite3")


async def test_a_task_round_trips_through_the_store(state: SqliteStateStore) -> None:
    task = Task.new(owner="u1", kind="tts_long", request={"text": "hi"}, total=3)
    task.extra["upstream_task_id"] = "ds-1"  # fields the type does not name survive
    assert await state.create_task(task.to_row())
    row = await state.get_task(task.task_id)
    assert row is not None
    loaded = Task.from_row(row)
    assert loaded.status is TaskStatus.PENDING and not loaded.finished
    assert loaded.progress == {"done": 0, "total": 3} and loaded.extra == {"upstream_task_id": "ds-1"}
    assert loaded.to_row() == row
    await state.update_task(task.task_id, {"status": "FAILED", "error": {"code": "TIMEOUT", "message": "late"}})
    failed = Task.from_row(await state.get_task(task.task_id) or {})
    assert failed.finished and failed.error == TaskError("TIMEOUT", "late")


def test_a_task_with_an_unknown_status_or_no_owner_is_refused() -> None:
    with pytest.raises(ValueError, match="DONE.*PENDING, RUNNING, SUCCEEDED, FAILED"):
        Task.from_row({"task_id": "t", "owner": "u", "kind": "k", "status": "DONE"})
    with pytest.raises(ValueError, match="owner"):
        Task.from_row({"task_id": "t", "kind": "k", "status": "PENDING"})


async def test_a_voice_round_trips_and_says_who_may_use_it(state: SqliteStateStore) -> None:
    voice = Voice(voice_id="cosyvoice-v3-plus-me-1", owner="u1", target_model="cosyvoice-v3-plus", prefix="me")
    await state.put_voice(voice.to_row())
    row = await state.get_voice(voice.voice_id)
    assert row is not None
    loaded = Voice.from_row(row)
    assert loaded.status is VoiceStatus.DEPLOYING and not loaded.usable
    assert loaded.visible_to("u1") and not loaded.visible_to("u2")
    assert loaded.to_row() == row
    public = Voice.from_row({**row, "public": True, "status": "OK"})
    assert public.visible_to("u2") and public.usable
    with pytest.raises(ValueError, match="voice status"):
        Voice.from_row({**row, "status": "READY"})


def test_an_upload_ticket_maps_its_phase_onto_task_statuses() -> None:
    row = {"task_id": "a" * 32, "owner": "u1", "kind": "upload:asr", "status": "PENDING", "phase": "UPLOADED",
           "request": {"key": "uploads/asr/u1/x.wav", "content_type": "audio/wav", "size": 64,
                       "filename": "a.wav"}, "expires_at": "2025-01-01T00:30:00Z"}
    ticket = UploadTicket.from_row(row)
    assert (ticket.purpose, ticket.phase, ticket.size) == ("asr", TicketPhase.UPLOADED, 64)
    assert ticket.to_row() == row
    ticket.phase = TicketPhase.REJECTED
    assert ticket.to_row()["status"] == "FAILED" and ticket.to_row()["phase"] == "REJECTED"
    # the store status decides: a RUNNING row is PROCESSING whatever its phase field says
    assert UploadTicket.from_row({**row, "status": "RUNNING"}).phase is TicketPhase.PROCESSING
    with pytest.raises(ValueError, match="not an upload ticket"):
        UploadTicket.from_row({**row, "kind": "tts_long"})


async def test_a_history_item_is_what_record_history_stores(state: SqliteStateStore) -> None:
    from voicefn.history import record_history

    record_id = await record_history(state, "u1", type="asr", model="qwen3-asr-flash", input={"file": "a.wav"},
                                     bill="0.0012", output_text="你好", duration=3)
    row = await state.get_history("u1", record_id)
    assert row is not None
    item = HistoryItem.from_row(row)
    assert (item.type, item.id, item.bill, item.duration) == (HistoryType.ASR, record_id, "0.0012", 3)
    assert item.input_data == '{"file": "a.wav"}'
    assert {**item.to_row(), "id": record_id} == row
    with pytest.raises(ValueError, match="history type"):
        await record_history(state, "u1", type="sing", model="m", input={}, bill="0")
