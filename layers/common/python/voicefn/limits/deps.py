"""``RateLimited(family)``: the FastAPI dependency through which a route opts in to the limits."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from voicefn.auth.principal import Principal
from voicefn.limits.meter import current_meter
from voicefn.limits.rate import FAMILIES, check_rate, rate_ask
from voicefn.services import Services
from voicefn.web.deps import current_principal, services_dep


def RateLimited(family: str, *, with_hold: bool = False) -> Any:  # noqa: N802 - a marker in signatures
    """``principal: Principal = RateLimited("voice")``: authenticates like ``PrincipalDep``, counts
    the request against the caller's rate limit for ``family`` (429 RATE_LIMITED past it), and
    lets :func:`voicefn.limits.hold` cap this request's spend.

    ``with_hold=True`` (routes that always :func:`~voicefn.limits.hold` before their upstream
    call): the rate check waits for that hold and goes to the store with it, one round trip for
    both; a request that ends before holding (bad input) is counted when it ends."""
    if family not in FAMILIES:
        raise ValueError(f"unknown route family {family!r}: one of {', '.join(FAMILIES)}")

    async def dependency(services: Services = Depends(services_dep),
                         principal: Principal = Depends(current_principal)) -> Principal:
        meter = current_meter()
        if with_hold and meter is not None and not meter.closed:
            meter.pending_rate = rate_ask(services, principal, family)
        else:
            await check_rate(services, principal, family)
        if meter is not None:
            meter.principal = principal
        return principal

    dependency.__name__ = f"rate_limited_{family}"
    return Depends(dependency)
