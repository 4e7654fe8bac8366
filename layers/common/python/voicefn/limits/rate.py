"""The request-rate check: one store round trip (``StateStore.take_rate``)."""

from __future__ import annotations

import time

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.limits.rules import bucket_key, rate_rule
from voicefn.services import Services

# route families: seed 003's four groups of paid work
FAMILIES = ("tts", "asr", "voice", "chat")


def now_ms() -> int:
    return int(time.time() * 1000)


async def check_rate(services: Services, principal: Principal, family: str) -> None:
    """Count one request of ``principal`` on ``family``, or raise RATE_LIMITED (429, Retry-After)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown route family {family!r}")
    rule = rate_rule(services.settings, principal, family)
    if rule is None:
        return
    wait_ms = await services.state.take_rate(bucket_key(principal, family), now_ms(), rule.interval_ms, rule.burst)
    if wait_ms > 0:
        raise ApiError("RATE_LIMITED",
                       f"request rate exceeded: at most {rule.per_minute} {family} requests per minute "
                       f"(bursts of {rule.burst}); retry in {wait_ms / 1000:.1f} s",
                       retry_after=wait_ms / 1000)
