"""One UTC clock: every table's stamps have one format that sorts as text in time order."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from voicefn import clock, history
from voicefn.storage import records

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_every_name_for_now_is_the_one_clock() -> None:
    assert history.utc_now is clock.utc_now and records.now_iso is clock.utc_now
    assert STAMP.fullmatch(clock.utc_now())


def test_stamps_sort_as_text_in_time_order() -> None:
    base = datetime(2025, 12, 30, 10, 30, 59, 999000, tzinfo=timezone.utc)
    stamps = [clock.format_utc(base + timedelta(milliseconds=n)) for n in (0, 1, 1000, 3_600_000)]
    assert stamps == sorted(stamps) and stamps[0] == "2025-12-30T10:30:59.999Z"
    assert clock.format_utc(datetime(2025, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))) == "2025-01-01T00:00:00.000Z"


def test_old_and_new_stamps_parse_to_the_same_moment() -> None:
    assert clock.parse_utc("2025-12-30T10:30:00") == clock.parse_utc("2025-12-30T10:30:00.000Z")
    assert clock.parse_utc("not a time") is None and clock.parse_utc(None) is None
    assert clock.seconds_since(None) == float("inf")
    assert 0 <= clock.seconds_since(clock.utc_now()) < 5


async def test_a_task_and_its_history_record_carry_one_format(tmp_path) -> None:
    from voicefn.storage.sqlite_state import SqliteStateStore
    from voicefn.tasks import create_task, succeed_task

    state = SqliteStateStore(tmp_path / "s.sqlite3")
    task = await create_task(state, owner="u", kind="tts_long", request={})
    await succeed_task(state, task["task_id"], {"ok": True})
    row = await state.get_task(task["task_id"])
    assert row is not None
    for name in ("submit_time", "created_at", "updated_at", "end_time"):
        assert STAMP.fullmatch(row[name]), (name, row[name])
    record_id = await history.record_history(state, "u", type="tts", model="m", input={}, bill="0")
    stored = await state.get_history("u", record_id)
    assert stored is not None and STAMP.fullmatch(stored["created_at"])
