"""What both realtime sockets do around their turns: authenticate before ``connected``, send
seed 002's ``{event: data}`` messages (one sender at a time), answer bad packets with ``error``
events instead of closing, run each turn as a task that a new question cancels (barge-in), and
end with an ``error`` event shortly before Function Compute would cut the socket (its timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.services import Services
from voicefn.web.deps import principal_from_connection

log = get_logger(__name__)

POLICY_VIOLATION = 1008
MAX_MESSAGE_BYTES = 96 * 1024  # a 50 KB packet in base64 (68 KB) plus its JSON


class RealtimeSession:
    """One accepted, authenticated socket."""

    def __init__(self, ws: WebSocket, services: Services, principal: Principal) -> None:
        self.ws = ws
        self.services = services
        self.principal = principal
        self.session_id = str(uuid.uuid4())
        self.opened = time.monotonic()
        self.turns = 0
        self._send_lock = asyncio.Lock()
        self._turn: asyncio.Task[None] | None = None

    async def send(self, event: str, data: dict[str, Any]) -> None:
        async with self._send_lock:  # the turn task and the packet loop both send
            await self.ws.send_text(json.dumps({event: data}, ensure_ascii=False))

    async def error(self, message: str) -> None:
        await self.send("error", {"message": message})

    # -- turns ---------------------------------------------------------------------------------
    @property
    def replying(self) -> bool:
        return self._turn is not None and not self._turn.done()

    async def interrupt(self) -> None:
        """Barge-in: cancel the turn in progress (its LLM stream and syntheses) and wait for it."""
        turn, self._turn = self._turn, None
        if turn is not None and not turn.done():
            turn.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await turn

    def start_turn(self, run: Callable[[], Awaitable[None]]) -> None:
        self.turns += 1

        async def guarded() -> None:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except ApiError as err:
                with contextlib.suppress(Exception):
                    await self.error(err.message)
            except (WebSocketDisconnect, OSError, RuntimeError):
                pass  # the client is gone; the receive loop ends the session
            except Exception:
                log.exception("realtime turn failed")
                with contextlib.suppress(Exception):
                    await self.error("internal error while answering; please ask again")

        self._turn = asyncio.create_task(guarded(), name=f"realtime-turn-{self.turns}")

    # -- the socket's life ---------------------------------------------------------------------
    def remaining_s(self) -> float:
        return self.services.settings.realtime_max_s - (time.monotonic() - self.opened)

    async def receive_json(self) -> dict[str, Any] | None:
        """The next JSON object from the client; None (after an ``error`` event) for anything
        else. Raises TimeoutError at the session's time limit, WebSocketDisconnect when gone."""
        message = await asyncio.wait_for(self.ws.receive(), max(self.remaining_s(), 0.001))
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:
            await self.error("send JSON text messages")
            return None
        if len(raw) > MAX_MESSAGE_BYTES:
            await self.error(f"a message is at most {MAX_MESSAGE_BYTES // 1024} KB")
            return None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            await self.error("message is not JSON")
            return None
        if not isinstance(data, dict):
            await self.error("a message is a JSON object")
            return None
        return data

    async def time_limit_reached(self) -> None:
        limit = self.services.settings.realtime_max_s
        await self.interrupt()
        with contextlib.suppress(Exception):
            await self.error(f"the connection reached its time limit ({limit:g} s); reconnect to go on")
            await self.ws.close(1000)


async def open_session(ws: WebSocket, services: Services, connected_message: str) -> RealtimeSession | None:
    """Accept, authenticate (Bearer header or ``?token=``), send ``connected``; None when refused
    (an ``error`` event, then close 1008: nothing else was sent)."""
    await ws.accept()
    try:
        principal = principal_from_connection(ws, services)
    except ApiError as err:
        with contextlib.suppress(Exception):
            await ws.send_text(json.dumps({"error": {"message": err.message}}))
            await ws.close(POLICY_VIOLATION)
        return None
    session = RealtimeSession(ws, services, principal)
    await session.send("connected", {"message": connected_message, "session_id": session.session_id})
    return session


async def run_session(session: RealtimeSession, on_message: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Feed the client's messages to ``on_message`` until it leaves or time runs out."""
    try:
        while True:
            message = await session.receive_json()
            if message is not None:
                await on_message(message)
    except (TimeoutError, asyncio.TimeoutError):
        await session.time_limit_reached()
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass
    finally:
        await session.interrupt()  # a gone client stops the work
