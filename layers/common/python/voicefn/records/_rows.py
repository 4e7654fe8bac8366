"""Helpers the record types share: reading typed fields from a row, writing one back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


def required_str(row: Mapping[str, Any], name: str, what: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} row needs a non-empty string {name!r}")
    return value


def optional_str(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    return None if value is None else str(value)


def enum_value(kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValueError(f"{what} {value!r} is not one of {allowed}") from None


def extra_fields(row: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    names = set(known)
    return {k: v for k, v in row.items() if k not in names}


def compact(fields: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A row: ``extra`` first (named fields win), None values left out as the stores do."""
    row = {k: v for k, v in extra.items() if v is not None}
    row.update({k: (v.value if isinstance(v, Enum) else v) for k, v in fields.items() if v is not None})
    return row
