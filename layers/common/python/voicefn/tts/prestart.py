"""One synthesis started ahead of its text, so a reply's next sentence finds its task running.

A spoken reply synthesizes sentence after sentence as the LLM writes them. Each sentence is one
CosyVoice task, and starting a task (run-task until task-started) is the part of its latency
that does not need the text. :class:`Prestarted` keeps one task started ahead: when the next
sentence is complete it goes to that task at once (the same as DashScope's own streaming
input, where one task is open while the text is still being written), and another is started
for the sentence after it. A task started ahead and never given text is cancelled unbilled
(DashScope bills characters); one older than ``max_age_s`` is replaced, well before DashScope's
23 s limit between texts (reference §1) and within the retry budget of a failure before audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable

from voicefn.tts.live import LiveSynthesis, texts_of

__all__ = ["Prestarted", "MAX_AGE_S"]

MAX_AGE_S = 10.0


class _Ahead:
    """A synthesis whose upstream task starts now and whose one text comes later."""

    def __init__(self, make: Callable[[AsyncIterable[str]], LiveSynthesis]) -> None:
        self.text: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.live = make(self._texts())
        self.born = time.monotonic()
        self.opening = asyncio.ensure_future(self.live.open())
        # a start that failed is seen (and replaced) when the task is taken
        self.opening.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _texts(self) -> AsyncGenerator[str, None]:
        yield await self.text

    def usable(self, max_age_s: float) -> bool:
        failed = self.opening.done() and (self.opening.cancelled() or self.opening.exception() is not None)
        # a synthesis that failed while waiting cancelled its wait for the text (or will, soon)
        return not failed and not self.text.done() and time.monotonic() - self.born < max_age_s

    async def aclose(self) -> None:
        self.opening.cancel()
        with contextlib.suppress(BaseException):
            await self.opening
        await self.live.aclose()  # no text was sent: DashScope's task is cancelled, nothing billed


class Prestarted:
    """``take(text)`` gives a synthesis of ``text``, started ahead when :meth:`prepare` was
    called; :meth:`aclose` ends the one started ahead, if any. One loop, one owner."""

    def __init__(self, make: Callable[[AsyncIterable[str]], LiveSynthesis], *,
                 max_age_s: float = MAX_AGE_S) -> None:
        self._make = make
        self._max_age_s = max_age_s
        self._ahead: _Ahead | None = None
        self._closed = False
        self.started_ahead = 0  # tasks started ahead (for tests and logs)
        self.used_ahead = 0

    def prepare(self) -> None:
        """Start the next synthesis's upstream task now, if none is waiting already."""
        if self._ahead is None and not self._closed:
            self._ahead = _Ahead(self._make)
            self.started_ahead += 1

    async def take(self, text: str) -> LiveSynthesis:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if ahead.usable(self._max_age_s):
                ahead.text.set_result(text)
                self.used_ahead += 1
                return ahead.live
            await ahead.aclose()
        return self._make(texts_of([text]))

    async def aclose(self) -> None:
        """No more text will come: end the task started ahead."""
        self._closed = True
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            await ahead.aclose()
