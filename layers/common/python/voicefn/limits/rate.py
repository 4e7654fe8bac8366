"""The request-rate check: one store round trip (``StateStore.take_rate``)."""

from __future__ import annotations

import time

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.limits.meter import RateAsk
from voicefn.limits.rules import RateRule, bucket_key, rate_rule
from voicefn.services import Services

# route families: seed 003's four groups of paid work
FAMILIES = ("tts", "asr", "voice", "chat")


def now_ms() -> int:
    return int(time.time() * 1000)


def rate_refusal(rule: RateRule, family: str, wait_ms: int) -> ApiError:
    return ApiError("RATE_LIMITED",
                    f"request rate exceeded: at most {rule.per_minute} {family} requests per minute "
                    f"(bursts of {rule.burst}); retry in {wait_ms / 1000:.1f} s",
                    retry_after=wait_ms / 1000)


def rate_ask(services: Services, principal: Principal, family: str) -> RateAsk | None:
    """What :func:`check_rate` would ask the store (None: no limit applies)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown route family {family!r}")
    rule = rate_rule(services.settings, principal, family)
    return None if rule is None else RateAsk(bucket_key(principal, family), rule, family, services.state)


async def take(ask: RateAsk) -> None:
    wait_ms = await ask.state.take_rate(ask.key, now_ms(), ask.rule.interval_ms, ask.rule.burst)
    if wait_ms > 0:
        raise rate_refusal(ask.rule, ask.family, wait_ms)


async def check_rate(services: Services, principal: Principal, family: str) -> None:
    """Count one request of ``principal`` on ``family``, or raise RATE_LIMITED (429, Retry-After)."""
    ask = rate_ask(services, principal, family)
    if ask is not None:
        await take(ask)
