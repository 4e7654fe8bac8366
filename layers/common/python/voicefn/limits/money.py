"""Money in the ledger: integer micro-units (bills have at most 6 decimal places)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from voicefn.billing import format_money

_MICRO = Decimal(1_000_000)


def to_micro(amount: Decimal | str) -> int:
    """Rounded up: an estimate never holds less than the bill it stands for."""
    return int((Decimal(amount) * _MICRO).to_integral_value(rounding=ROUND_CEILING))


def from_micro(units: int) -> str:
    return format_money(Decimal(units) / _MICRO)


def cap_micro(setting: str) -> int | None:
    """A cap setting ("10", "0.01") in micro-units; "0" means no cap."""
    units = to_micro(setting)
    return units if units > 0 else None
