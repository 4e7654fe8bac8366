"""The SQLite store's point operations run on the loop, yet never block it (issue 13)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from voicefn.storage.sqlite_state import SqliteStateStore


async def test_a_hold_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    other = sqlite3.connect(tmp_path / "state.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing: it holds the write lock
    released = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    released.start()
    start = time.monotonic()
    held = await store.hold_spend("u1", "2026-12", "2026-12-02", 5, day_cap=100, month_cap=None)
    waited = time.monotonic() - start
    beat.cancel()
    released.join()
    assert held is True
    assert waited >= 0.25  # it did wait for the other writer ...
    assert ticks >= 10  # ... while the loop kept running
    assert await store.get_spend("u1", "2026-12", "2026-12-02") == {
        "day_spent": 0, "day_held": 5, "month_spent": 0, "month_held": 5}
    other.close()
    store.close()


async def test_quick_writes_are_checkpointed_off_the_loop(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    wal = tmp_path / "state.db-wal"
    for i in range(3000):  # rate buckets: each one row written on the loop
        assert await store.take_rate(f"k{i % 50}", 1_000_000 + i, 10, 10**6) == 0
    await asyncio.sleep(0.2)  # the scheduled checkpoint runs in a worker thread
    sizes = [wal.stat().st_size]
    for i in range(3000):
        await store.take_rate(f"k{i % 50}", 2_000_000 + i, 10, 10**6)
    await asyncio.sleep(0.2)
    sizes.append(wal.stat().st_size)
    # a checkpointed WAL is rewritten from its start: it stops growing with the writes
    assert sizes[1] <= sizes[0] * 1.5, sizes
    assert await store.peek_rate("k0") is not None
    store.close()


async def test_quick_reads_see_what_the_worker_wrote(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    await store.put_cache("key", {"object_key": "audio/x.mp3"})  # worker thread
    assert await store.get_cache("key") == {"object_key": "audio/x.mp3"}  # on the loop
    store.close()
