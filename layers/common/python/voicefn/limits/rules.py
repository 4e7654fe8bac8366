"""Which limits apply to a caller: the family's, or its service key's own."""

from __future__ import annotations

from dataclasses import dataclass

from voicefn.auth.principal import Principal
from voicefn.settings import Settings


@dataclass(frozen=True)
class RateRule:
    per_minute: int
    burst: int

    @property
    def interval_ms(self) -> int:
        return max(1, 60_000 // self.per_minute)


def rate_rule(settings: Settings, principal: Principal, family: str) -> RateRule | None:
    """None: no limit. A service key listed in VOICEFN_SERVICE_RATE_LIMITS has its own rule (per
    acting user, every family); other callers get the family's rule."""
    rule = None
    if principal.kind == "service" and principal.service in settings.service_rate_limits:
        rule = settings.service_rate_limits[principal.service or ""]
    elif family in settings.rate_limits:
        rule = settings.rate_limits[family]
    if rule is None or rule[0] <= 0:
        return None
    return RateRule(rule[0], rule[1])


def bucket_key(principal: Principal, family: str) -> str:
    # a service's own rule counts apart from the user's own calls
    owner = f"{principal.user_id}@{principal.service}" if principal.kind == "service" else principal.user_id
    return f"{family}:{owner}"
