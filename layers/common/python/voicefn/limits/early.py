"""May a request's upstream work start before its limits have answered? (issue 13)

A stream's rate check and spend hold are one state-store round trip, and its upstream task
start (run-task until task-started) is one DashScope round trip: the two can run side by side,
the text going up only once the limits said yes. A refused request has then cost DashScope one
task start with no text (nothing billed), so this is allowed only where a refusal is unlikely:
a user refused (429) in the last minute on this instance starts nothing early, and a user has
at most one early start undecided at a time, so that a burst costs DashScope at most one task
start without text per user and instance.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from voicefn.errors import ApiError
from voicefn.ttlcache import TtlCache

__all__ = ["may_start_early", "decided", "REFUSAL_MEMORY_S"]

T = TypeVar("T")

REFUSAL_MEMORY_S = 60.0
_refused: TtlCache[bool] = TtlCache(max_entries=10_000, ttl_s=REFUSAL_MEMORY_S)
_undecided: dict[str, int] = {}  # user: requests whose limits have not answered yet


def may_start_early(user_id: str) -> bool:
    return not _undecided.get(user_id) and _refused.get(user_id) is None


async def decided(user_id: str, limits: Awaitable[T]) -> T:
    """``await limits``, remembering a refusal (and that a decision is pending meanwhile)."""
    _undecided[user_id] = _undecided.get(user_id, 0) + 1
    try:
        return await limits
    except ApiError as err:
        if err.status == 429:
            _refused.put(user_id, True)
        raise
    finally:
        left = _undecided.pop(user_id, 1) - 1
        if left > 0:
            _undecided[user_id] = left
