"""The request meter: a hold never outlives its request, also when the request is cancelled
while the store call that holds is still running (a client gone at that moment)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.limits.ledger import hold
from voicefn.limits.meter import MeterMiddleware
from voicefn.limits.periods import current_period
from voicefn.services import Services
from voicefn.settings import load_settings
from voicefn.storage.sqlite_state import SqliteStateStore


class SlowHolds(SqliteStateStore):
    """Holds whose answer takes a while after they are written (as a network round trip does), so
    a request can be cancelled when the hold is stored but not yet known to the request."""

    async def hold_spend(self, *args: Any) -> bool:
        held = await super().hold_spend(*args)
        await asyncio.sleep(0.2)
        return held


async def _request(app: Any) -> None:
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        pass

    await app({"type": "http", "method": "POST", "path": "/x", "headers": []}, receive, send)


async def test_a_cancelled_request_gives_its_hold_back(tmp_path: Path) -> None:
    store = SlowHolds(tmp_path / "state.sqlite3")
    services = Services(replace(load_settings({}), spend_cap_daily="1"), state=store)
    principal = Principal("u1")
    started = asyncio.Event()

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await hold(services, principal, Decimal("0.5"), api_key=None)
        await asyncio.sleep(10)  # the upstream call that never gets to finish

    request = asyncio.ensure_future(_request(MeterMiddleware(endpoint)))
    await started.wait()
    await asyncio.sleep(0.05)  # inside the slow hold
    request.cancel()
    try:
        await request
    except asyncio.CancelledError:
        pass
    period = current_period("UTC")
    totals = await store.get_spend("u1", period.month, period.day)
    assert totals["day_held"] == 0 and totals["day_spent"] == 0
    store.close()


async def test_a_finished_request_without_a_bill_releases_its_hold(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    services = Services(replace(load_settings({}), spend_cap_daily="1"), state=store)
    seen: dict[str, int] = {}

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        await hold(services, Principal("u2"), Decimal("0.25"), api_key=None)
        period = current_period("UTC")
        seen.update(await store.get_spend("u2", period.month, period.day))

    await _request(MeterMiddleware(endpoint))
    period = current_period("UTC")
    assert seen["day_held"] == 250_000  # held while the request ran
    assert (await store.get_spend("u2", period.month, period.day))["day_held"] == 0
    store.close()
