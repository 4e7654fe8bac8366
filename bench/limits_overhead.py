"""What the per-user limits add to a paid request, measured side by side in one run.

A request on a limited route does one ``take_rate_and_hold`` before the upstream call (routes
declared ``RateLimited(family, with_hold=True)``; else ``take_rate`` then ``hold_spend``) and the
settling ``add_spend`` after (with the bill's history write, off the time-to-first-byte path). This times
each on the SQLite store (the local runtime's; Tablestore adds its network round trips), and the
whole per-request set against a bare ``get_cache`` read, the cheapest store call a request makes.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from voicefn.storage.sqlite_state import SqliteStateStore

ROUNDS = 400


async def _time(fn, rounds: int = ROUNDS) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        await fn(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStateStore(Path(tmp) / "state.sqlite3")
        now = int(time.time() * 1000)

        async def baseline(i: int) -> None:
            await store.get_cache("missing")

        async def rate(i: int) -> None:
            await store.take_rate(f"tts:user{i % 50}", now + i, 1000, 60)

        async def hold(i: int) -> None:
            await store.hold_spend(f"user{i % 50}", "2026-12", "2026-12-02", 600, 10_000_000, 100_000_000)

        async def settle(i: int) -> None:
            await store.add_spend(f"user{i % 50}", "2026-12", "2026-12-02", held=-600, spent=573)

        async def all_three(i: int) -> None:
            await rate(i)
            await hold(i)
            await settle(i)

        async def combined(i: int) -> None:  # what a with_hold route does before its upstream call
            await store.take_rate_and_hold(f"tts:user{i % 50}", now + i, 1000, 60, f"user{i % 50}", "2026-12",
                                           "2026-12-02", 600, 10_000_000, 100_000_000)

        results = {name: await _time(fn) for name, fn in
                   (("get_cache (baseline)", baseline), ("take_rate", rate), ("hold_spend", hold),
                    ("add_spend (settle)", settle), ("rate + hold + settle", all_three),
                    ("take_rate_and_hold", combined))}
        store.close()
    base = results["get_cache (baseline)"]
    for name, ms in results.items():
        print(f"{name:24s} median {ms:6.3f} ms   x{ms / base:4.1f} of the baseline")


if __name__ == "__main__":
    asyncio.run(main())
