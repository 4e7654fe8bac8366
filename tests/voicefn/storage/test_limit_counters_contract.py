"""The StateStore's limit counters (rate buckets, spend ledger), on both adapters.

Same fixture as the main contract suite: SQLite on a temp file, Tablestore through the real SDK
against the wire-level fake.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, AsyncIterator

import pytest

from voicefn.storage.sqlite_state import SqliteStateStore
from voicefn.storage.tablestore_state import TablestoreStateStore


@pytest.fixture(params=["sqlite", "tablestore"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "state.sqlite3")
        yield sqlite
        sqlite.close()
    else:
        server = request.getfixturevalue("ots_server")
        ots = TablestoreStateStore(server.client(), table_prefix=f"t{uuid.uuid4().hex[:10]}_")
        await asyncio.to_thread(ots.create_tables)
        yield ots


T0 = 1_700_000_000_000


async def test_rate_admits_a_burst_then_one_per_interval(store: Any) -> None:
    # 1000 ms per request, 3 at once
    assert [await store.take_rate("u1:tts", T0, 1000, 3) for _ in range(3)] == [0, 0, 0]
    wait = await store.take_rate("u1:tts", T0, 1000, 3)
    assert wait == 1000
    assert await store.take_rate("u1:tts", T0 + 999, 1000, 3) == 1
    assert await store.take_rate("u1:tts", T0 + 1000, 1000, 3) == 0  # one token came back
    assert await store.take_rate("u1:tts", T0 + 1000, 1000, 3) > 0
    assert await store.take_rate("u2:tts", T0, 1000, 3) == 0  # another bucket is untouched
    assert await store.peek_rate("u1:tts") == T0 + 4000
    assert await store.peek_rate("nobody") is None


async def test_refusals_are_not_recorded(store: Any) -> None:
    assert await store.take_rate("k", T0, 60_000, 1) == 0
    for _ in range(5):
        assert await store.take_rate("k", T0, 60_000, 1) == 60_000
    assert await store.peek_rate("k") == T0 + 60_000


async def test_concurrent_takes_admit_exactly_the_burst(store: Any) -> None:
    results = await asyncio.gather(*[store.take_rate("hot", T0, 60_000, 5) for _ in range(20)])
    assert sum(1 for r in results if r == 0) == 5


async def test_spend_hold_settle_and_totals(store: Any) -> None:
    assert await store.get_spend("u1", "2026-12", "2026-12-02") == {
        "day_spent": 0, "day_held": 0, "month_spent": 0, "month_held": 0}
    assert await store.hold_spend("u1", "2026-12", "2026-12-02", 600, 1000, 5000)
    assert not await store.hold_spend("u1", "2026-12", "2026-12-02", 600, 1000, 5000)  # 1200 > 1000
    # settle: the hold goes, the real bill (smaller) stays
    await store.add_spend("u1", "2026-12", "2026-12-02", held=-600, spent=450)
    assert await store.get_spend("u1", "2026-12", "2026-12-02") == {
        "day_spent": 450, "day_held": 0, "month_spent": 450, "month_held": 0}
    assert await store.hold_spend("u1", "2026-12", "2026-12-02", 550, 1000, 5000)  # exactly at the cap
    await store.add_spend("u1", "2026-12", "2026-12-02", held=-550, spent=550)
    # the next day starts from 0 but the month remembers
    got = await store.get_spend("u1", "2026-12", "2026-12-03")
    assert got == {"day_spent": 0, "day_held": 0, "month_spent": 1000, "month_held": 0}
    assert not await store.hold_spend("u1", "2026-12", "2026-12-03", 4001, None, 5000)
    assert await store.hold_spend("u1", "2026-12", "2026-12-03", 4000, None, 5000)
    assert (await store.get_spend("u2", "2026-12", "2026-12-02"))["month_spent"] == 0


async def test_spend_without_caps_always_holds(store: Any) -> None:
    assert await store.hold_spend("u1", "2026-01", "2026-01-31", 10**12, None, None)
    assert (await store.get_spend("u1", "2026-01", "2026-01-31"))["day_held"] == 10**12


async def test_concurrent_holds_never_pass_the_cap(store: Any) -> None:
    results = await asyncio.gather(*[store.hold_spend("u1", "2026-12", "2026-12-02", 300, 1000, None)
                                     for _ in range(12)])
    admitted = sum(results)
    assert 1 <= admitted <= 3
    totals = await store.get_spend("u1", "2026-12", "2026-12-02")
    assert totals["day_held"] == 300 * admitted <= 1000  # refused holds were taken back


async def test_spend_buckets_are_checked(store: Any) -> None:
    with pytest.raises(ValueError):
        await store.get_spend("u1", "2026-12", "2026-11-02")
    with pytest.raises(ValueError):
        await store.add_spend("u1", "december", "2026-12-02", spent=1)


async def test_rate_and_hold_together(store: Any) -> None:
    day = ("u1", "2026-12", "2026-12-02")
    assert await store.take_rate_and_hold("b", T0, 60_000, 1, *day, 500, 800, None) == (0, True)
    # over the cap: the request is counted, nothing is held
    assert await store.take_rate_and_hold("c", T0, 60_000, 1, *day, 500, 800, None) == (0, False)
    assert await store.peek_rate("c") == T0 + 60_000
    # over the rate: nothing is held either
    wait, held = await store.take_rate_and_hold("b", T0, 60_000, 1, *day, 1, 800, None)
    assert wait == 60_000 and held is False
    assert (await store.get_spend("u1", "2026-12", "2026-12-02"))["day_held"] == 500
