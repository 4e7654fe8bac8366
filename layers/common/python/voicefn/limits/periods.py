"""The spend caps' days and months, in the configured time zone (VOICEFN_SPEND_CAP_TIMEZONE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    month: str  # YYYY-MM
    day: str  # YYYY-MM-DD
    day_resets_at: datetime
    month_resets_at: datetime


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def current_period(timezone: str, now: datetime | None = None) -> Period:
    zone = _zone(timezone)
    local = (now or datetime.now(zone)).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = (midnight + timedelta(days=1, hours=3)).replace(hour=0)  # DST-safe
    first = midnight.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return Period(month=local.strftime("%Y-%m"), day=local.strftime("%Y-%m-%d"),
                  day_resets_at=tomorrow, month_resets_at=next_month)
