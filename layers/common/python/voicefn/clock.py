"""One UTC clock for every table and response: ISO-8601 with milliseconds and ``Z``.

``2025-12-30T10:30:00.123Z`` sorts as text in time order, so stores can range-scan and compare
stamps without parsing them. Rows written before this clock existed may hold
``2025-12-30T10:30:00`` (no zone, meaning UTC): :func:`parse_utc` reads both.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utc_now", "format_utc", "parse_utc", "seconds_since"]


def format_utc(moment: datetime) -> str:
    """``moment`` (naive means UTC) as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """Now, as every table stores it."""
    return format_utc(datetime.now(timezone.utc))


def parse_utc(stamp: str | None) -> datetime | None:
    """An aware UTC datetime from a stamp of this clock (or an older zone-less one); None if unreadable."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def seconds_since(stamp: str | None) -> float:
    """Seconds from ``stamp`` to now; infinity when there is no readable stamp."""
    moment = parse_utc(stamp)
    if moment is None:
        return float("inf")
    return (datetime.now(timezone.utc) - moment).total_seconds()
