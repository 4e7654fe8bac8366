"""Spend caps: hold an estimate before the upstream call, settle it with the real bill after.

Only the platform's money is capped: a request on the user's own DashScope key is neither held
nor counted, unless VOICEFN_SPEND_CAP_OWN_KEY is on. Bills recorded outside a request (async
tasks: long TTS, transcriptions, seed 000 tasks) are counted when recorded; their request held
the estimate while it ran, so a task can pass a cap by at most its own bill.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.limits.meter import Hold, current_meter
from voicefn.limits.money import cap_micro, from_micro, to_micro
from voicefn.limits.periods import Period, current_period
from voicefn.limits.rate import now_ms, rate_refusal, take
from voicefn.services import Services
from voicefn.storage.state import StateStore


def _own_key(services: Services, api_key: str | None) -> bool:
    return bool(api_key) and api_key != services.settings.platform_api_key


def _refusal(services: Services, period: Period, day_cap: int | None, month_cap: int | None,
             totals: dict[str, int], amount: int) -> ApiError:
    tz = services.settings.spend_cap_timezone
    if day_cap is not None and totals["day_spent"] + totals["day_held"] + amount > day_cap:
        which, cap, used, resets = "daily", day_cap, totals["day_spent"] + totals["day_held"], period.day_resets_at
    else:
        which, cap = "monthly", month_cap or 0
        used, resets = totals["month_spent"] + totals["month_held"], period.month_resets_at
    wait_s = max(1.0, (resets - resets.now(resets.tzinfo)).total_seconds())
    return ApiError("SPEND_CAP_EXCEEDED",
                    f"{which} spend cap of {from_micro(cap)} reached: spent {from_micro(used)}, this call "
                    f"would add about {from_micro(amount)}; the cap resets at {resets.isoformat()} ({tz})",
                    retry_after=wait_s)


async def hold(services: Services, principal: Principal, estimate: Decimal, *, api_key: str | None) -> None:
    """Hold ``estimate`` on ``principal``'s caps for this request, or raise SPEND_CAP_EXCEEDED
    (429) when it would pass the daily or monthly cap. ``api_key`` is the key the call will run
    on (the user's own key is not capped unless configured). Released at the end of the request
    unless a bill settles it first."""
    s = services.settings
    meter = current_meter()
    ask = meter.take_pending_rate() if meter is not None and not meter.closed else None
    if _own_key(services, api_key) and not s.spend_cap_own_key:
        if meter is not None:
            meter.own_key = True
        if ask is not None:
            await take(ask)
        return
    day_cap, month_cap = cap_micro(s.spend_cap_daily), cap_micro(s.spend_cap_monthly)
    if day_cap is None and month_cap is None:
        if ask is not None:
            await take(ask)
        return
    period = current_period(s.spend_cap_timezone)
    amount = to_micro(estimate)
    if meter is None or meter.closed:  # nothing would release a hold: check only
        totals = await services.state.get_spend(principal.user_id, period.month, period.day)
        if ((day_cap is not None and totals["day_spent"] + totals["day_held"] + amount > day_cap)
                or (month_cap is not None and totals["month_spent"] + totals["month_held"] + amount > month_cap)):
            raise _refusal(services, period, day_cap, month_cap, totals, amount)
        return
    state = services.state
    if ask is not None:  # the deferred rate check and the hold: one store call
        call = state.take_rate_and_hold(ask.key, now_ms(), ask.rule.interval_ms, ask.rule.burst, principal.user_id,
                                        period.month, period.day, amount, day_cap, month_cap)
    else:
        call = _held_only(state.hold_spend(principal.user_id, period.month, period.day, amount, day_cap, month_cap))
    meter.state = state
    wait_ms, held = await meter.track(call, Hold(principal.user_id, period.month, period.day, amount, open=False,
                                               resolved=False))
    if wait_ms > 0 and ask is not None:
        raise rate_refusal(ask.rule, ask.family, wait_ms)
    if not held:
        totals = await state.get_spend(principal.user_id, period.month, period.day)
        raise _refusal(services, period, day_cap, month_cap, totals, amount)


async def _held_only(call: Awaitable[bool]) -> tuple[int, bool]:
    return 0, await call


async def settle_bill(state: StateStore, user_id: str, bill: Decimal | str,
                      idempotency_key: str | None = None) -> None:
    """Count a recorded bill (``record_history`` calls this): settles this request's hold in the
    same write, else adds it to today. A bill recorded again under the same idempotency key
    counts once."""
    meter = current_meter()
    if meter is not None and meter.own_key:
        from voicefn.services import get_services

        if not get_services().settings.spend_cap_own_key:
            return
    amount = to_micro(bill)
    held = meter.take_open_hold(user_id) if meter is not None else None
    if held is None and amount == 0:
        return
    if idempotency_key is not None and not await state.claim_event(f"spend:{user_id}:{idempotency_key}", user_id):
        if held is not None:
            await state.add_spend(user_id, held.month, held.day, held=-held.amount)
        return
    if held is not None:
        await state.add_spend(user_id, held.month, held.day, held=-held.amount, spent=amount)
        return
    from voicefn.services import get_services

    period = current_period(get_services().settings.spend_cap_timezone)
    await state.add_spend(user_id, period.month, period.day, spent=amount)
