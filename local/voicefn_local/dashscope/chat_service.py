"""Everything chat one emulator instance holds (``state.chat``): its engine, the scripted
engine's scripts, and a log of recent calls, so tests can see each generation's end.

Every generation goes through :meth:`ChatService.generate`, which applies ``max_tokens`` and
``stop`` (whatever the engine) and counts: ``chat_generations`` started, ``chat_completed``
(ran to the model's own end or a limit), ``chat_cancelled`` (stopped because the client went
away), ``chat_failed``, ``chat_active`` (running now) and ``chat_tokens`` (generated).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import Any

from voicefn_local.dashscope.call_times import MAX_MARKS, CallTimes
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.stats import Stats
from voicefn_local.engines.llm_base import ChatEvent, ChatPrompt, Finish, Piece, count_prompt_tokens
from voicefn_local.engines.llm_engines import get_llm_engine
from voicefn_local.engines.llm_scripted import ChatScript, ChatScripts, ScriptedEngine

CALL_LOG_SIZE = 200


@dataclass
class ChatCall:
    id: int
    model: str
    stream: bool
    engine: str
    scripted: bool
    started_at: float
    ended_at: float | None = None
    tokens: int = 0
    finish: str = "running"  # stop, length, cancelled, failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters of ``text`` could start a stop sequence (kept until known)."""
    best = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:size]):
                best = size
                break
    return best


async def limited(events: AsyncIterator[ChatEvent], prompt: ChatPrompt) -> AsyncIterator[ChatEvent]:
    """``events`` cut at the first stop sequence (not included) or after ``max_tokens`` pieces."""
    pending, count = "", 0
    async with aclosing(events):
        async for event in events:
            if isinstance(event, Finish):
                if pending:
                    yield Piece(pending)
                yield Finish(event.reason, event.prompt_tokens, count)
                return
            count += 1
            pending += event.text
            cuts = [i for i in (pending.find(s) for s in prompt.stop) if i >= 0]
            if cuts:
                if min(cuts):
                    yield Piece(pending[:min(cuts)])
                yield Finish("stop", count_prompt_tokens(prompt), count)
                return
            keep = _held_back(pending, prompt.stop)
            if len(pending) > keep:
                yield Piece(pending[:len(pending) - keep])
                pending = pending[len(pending) - keep:]
            if prompt.max_tokens is not None and count >= prompt.max_tokens:
                if pending:
                    yield Piece(pending)
                yield Finish("length", count_prompt_tokens(prompt), count)
                return


class ChatService:
    def __init__(self, engine_name: str, stats: Stats, call_times: CallTimes | None = None) -> None:
        self.stats = stats
        self.call_times = call_times or CallTimes()
        self.scripts = ChatScripts()
        self.scripted = ScriptedEngine()
        self.engine_name = engine_name
        self.engine = self.scripted if engine_name == "scripted" else get_llm_engine(engine_name)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._calls: deque[ChatCall] = deque(maxlen=CALL_LOG_SIZE)

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.to_dict() for c in self._calls]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def _new_call(self, model: str, stream: bool, engine: str, scripted: bool) -> ChatCall:
        call = ChatCall(next(self._ids), model, stream, engine, scripted, time.time())
        with self._lock:
            self._calls.append(call)
        return call

    def generate(self, prompt: ChatPrompt, *, model: str, stream: bool, script: ChatScript | None,
                 fault: Fault | None) -> AsyncIterator[ChatEvent]:
        """The reply's events; a script (header or admin) makes the scripted engine answer."""
        if script is not None or self.engine is self.scripted:
            events, name = self.scripted.generate(prompt, script), "scripted"
        else:
            events, name = self.engine.generate(prompt), self.engine.name
        call = self._new_call(model, stream, name, script is not None)
        return self._tracked(limited(events, prompt), call, fault)

    async def _tracked(self, events: AsyncIterator[ChatEvent], call: ChatCall,
                       fault: Fault | None) -> AsyncIterator[ChatEvent]:
        self.stats.incr("chat_generations")
        self.stats.incr("chat_active")
        slow = fault.frame_delay_s if fault is not None and fault.kind == "slow_frames" else 0.0
        start, marks = time.monotonic(), list[float]()
        try:
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, Piece):
                        call.tokens += 1
                        self.stats.incr("chat_tokens")
                        if slow:
                            await asyncio.sleep(slow)
                        if len(marks) < MAX_MARKS:
                            marks.append(time.monotonic())
                    else:
                        call.finish = event.reason
                        self.stats.incr("chat_completed")
                    yield event
        except (GeneratorExit, asyncio.CancelledError):
            self._end(call, "cancelled")
            raise
        except Exception:
            self._end(call, "failed")
            raise
        else:
            if call.finish == "running":  # the engine ended without saying how
                self._end(call, "failed")
        finally:
            if call.ended_at is None:
                call.ended_at = time.time()
            self.stats.incr("chat_active", -1)
            self.call_times.record("chat", start, marks[-1] if marks else time.monotonic(), marks)

    def _end(self, call: ChatCall, finish: str) -> None:
        if call.finish == "running":
            call.finish = finish
            self.stats.incr(f"chat_{finish}")
        call.ended_at = time.time()
