"""One request's spend holds, released when the request ends (a stream: when its body ends).

:class:`MeterMiddleware` (installed by ``build_app``) binds a fresh :class:`RequestMeter` to the
request's context; holds taken during the request are put on it; the bill settles a hold; what is
still held when the app returns (failure, cancellation, a client gone mid-stream) is released.
The ASGI call spans the whole response, streaming bodies and WebSockets included.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from voicefn.auth.principal import Principal
from voicefn.limits.rules import RateRule
from voicefn.logging import get_logger

if TYPE_CHECKING:
    from voicefn.storage.state import StateStore

log = get_logger(__name__)


@dataclass
class Hold:
    user_id: str
    month: str
    day: str
    amount: int  # micro-units
    open: bool = True  # held and not yet settled or released
    resolved: bool = True  # False while the store call that holds it runs


@dataclass(frozen=True)
class RateAsk:
    """A rate check not made yet: the route's first spend hold makes it in the same store call."""

    key: str
    rule: RateRule
    family: str
    state: StateStore


@dataclass
class RequestMeter:
    state: StateStore | None = None
    principal: Principal | None = None
    own_key: bool = False  # this request runs on the user's own DashScope key: not capped, not counted
    holds: list[Hold] = field(default_factory=list)
    pending_rate: RateAsk | None = None
    _calls: list[tuple[asyncio.Future[tuple[int, bool]], Hold]] = field(default_factory=list)
    closed: bool = False  # the request ended (a task it started may still see this meter)

    def take_open_hold(self, user_id: str) -> Hold | None:
        for h in self.holds:
            if h.open and h.user_id == user_id:
                h.open = False
                return h
        return None

    async def track(self, call: Coroutine[Any, Any, tuple[int, bool]], hold: Hold) -> tuple[int, bool]:
        """Run a store call that may hold ``hold`` ((wait_ms, held) back). Shielded: if the request
        is cancelled meanwhile (a client gone), the call still finishes and :meth:`release` gives
        back what it held, so no hold outlives its request."""
        self.holds.append(hold)
        task = asyncio.ensure_future(call)
        self._calls.append((task, hold))
        result = await asyncio.shield(task)
        hold.open, hold.resolved = result[1], True
        return result

    def take_pending_rate(self) -> RateAsk | None:
        ask, self.pending_rate = self.pending_rate, None
        return ask

    async def release(self) -> None:
        self.closed = True
        for task, hold in self._calls:
            if not hold.resolved:  # its store call outlived a cancelled request: see what it did
                with contextlib.suppress(Exception):
                    hold.open, hold.resolved = (await task)[1], True
        ask = self.take_pending_rate()
        if ask is not None:  # the route ended before any hold (bad input, say): count it now
            with contextlib.suppress(Exception):
                await ask.state.take_rate(ask.key, int(time.time() * 1000), ask.rule.interval_ms, ask.rule.burst)
        for h in self.holds:
            if h.open and self.state is not None:
                h.open = False
                with contextlib.suppress(Exception):  # a store hiccup must not fail the response
                    await self.state.add_spend(h.user_id, h.month, h.day, held=-h.amount)


_meter: ContextVar[RequestMeter | None] = ContextVar("voicefn_request_meter", default=None)


def current_meter() -> RequestMeter | None:
    return _meter.get()


class MeterMiddleware:
    """Pure ASGI (no body buffering): a context var set and a finally per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        meter = RequestMeter()
        token = _meter.set(meter)
        try:
            await self.app(scope, receive, send)
        finally:
            _meter.reset(token)
            await meter.release()
