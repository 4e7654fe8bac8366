"""Per-user request-rate limits and spend caps (README "Rate limits and spend caps").

- :func:`RateLimited` — the FastAPI dependency a paid route opts in with
  (``principal: Principal = RateLimited("tts")``); WebSockets call :func:`check_rate` after accept.
- :func:`hold` — before the upstream call, hold this call's estimated bill against the user's
  daily and monthly caps; the bill :func:`voicefn.history.record_history` writes settles it, and
  :class:`MeterMiddleware` releases whatever is still held when the request (or stream) ends.
- :func:`usage` — what ``GET /api/audio/usage`` shows.

Counters live behind the StateStore port (``take_rate``, ``hold_spend``, ``add_spend``).
"""

from voicefn.limits.deps import RateLimited
from voicefn.limits.ledger import hold, settle_bill
from voicefn.limits.meter import MeterMiddleware
from voicefn.limits.rate import FAMILIES, check_rate
from voicefn.limits.usage import usage

__all__ = ["FAMILIES", "MeterMiddleware", "RateLimited", "check_rate", "hold", "settle_bill", "usage"]
