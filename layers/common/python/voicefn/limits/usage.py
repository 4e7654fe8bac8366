"""``GET /api/audio/usage``: spend today and this month, the caps, the rate budget left."""

from __future__ import annotations

from typing import Any

from voicefn.auth.principal import Principal
from voicefn.limits.money import cap_micro, from_micro
from voicefn.limits.periods import current_period
from voicefn.limits.rate import FAMILIES, now_ms
from voicefn.limits.rules import bucket_key, rate_rule
from voicefn.services import Services


async def usage(services: Services, principal: Principal) -> dict[str, Any]:
    s = services.settings
    period = current_period(s.spend_cap_timezone)
    totals = await services.state.get_spend(principal.user_id, period.month, period.day)
    day_cap, month_cap = cap_micro(s.spend_cap_daily), cap_micro(s.spend_cap_monthly)

    def side(spent: int, held: int, cap: int | None, resets: Any) -> dict[str, Any]:
        return {"spent": from_micro(spent), "in_flight": from_micro(held),
                "cap": from_micro(cap) if cap is not None else None,
                "remaining": from_micro(max(0, cap - spent - held)) if cap is not None else None,
                "resets_at": resets.isoformat()}

    rates: dict[str, Any] = {}
    now = now_ms()
    for family in FAMILIES:
        rule = rate_rule(s, principal, family)
        if rule is None:
            rates[family] = {"per_minute": None, "burst": None, "remaining": None, "full_in_s": 0}
            continue
        tat = await services.state.peek_rate(bucket_key(principal, family)) or now
        backlog = max(0, tat - now)  # how far ahead of schedule the bucket is
        rates[family] = {"per_minute": rule.per_minute, "burst": rule.burst,
                         "remaining": max(0, rule.burst - -(-backlog // rule.interval_ms)),
                         "full_in_s": round(backlog / 1000, 3)}
    return {"timezone": s.spend_cap_timezone, "day": period.day, "month": period.month,
            "today": side(totals["day_spent"], totals["day_held"], day_cap, period.day_resets_at),
            "this_month": side(totals["month_spent"], totals["month_held"], month_cap, period.month_resets_at),
            "caps_apply_to_own_key": s.spend_cap_own_key, "rate_limits": rates}
