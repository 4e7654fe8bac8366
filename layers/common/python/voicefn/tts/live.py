"""Live synthesis: an async source of text pieces in, audio out, recorded when complete.

The one primitive behind every stream that speaks as it goes: the HTTP stream
(``/api/audio/tts/synthesize`` with ``stream``, ``/v1/audio/speech``), the TTS WebSocket, and
chat. Routes keep only their wire formats.

Stages, all children of one :class:`~voicefn.pipeline.TurnScope` (nothing outlives the stream):

- a *reader* pulls text pieces from the source (optionally regrouped into sentences, which
  DashScope speaks with better prosody than fragments) into a text log;
- a *sender* per upstream attempt sends the log to the CosyVoice session, then finish-task;
- the *pump* iterates the session's events through :func:`retry_until_first`: an upstream that
  fails before its first audio is replaced by a fresh session fed the whole log again, which
  the listener cannot notice; after that, a failure ends the stream with an error;
- the consumer reads :class:`AudioChunk` events from a bounded queue (backpressure: a slow
  listener stops the pump, the socket's receive buffer stops DashScope) and the
  :class:`StreamRecorder` keeps the bounded copy that is stored, cached and billed at the end.

Leaving the iteration early (a client that goes away) cancels every stage and the upstream task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any, Union

from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError
from voicefn.dashscope.retry import retry_until_first
from voicefn.dashscope.tts_ws import CosyVoiceSession
from voicefn.dashscope.tts_ws_messages import AudioFrame, SentenceBegin, SessionEvent
from voicefn.logging import get_logger
from voicefn.pipeline.events import AudioChunk, EndOfTurn, Sentence
from voicefn.pipeline.scope import TurnScope
from voicefn.services import Services
from voicefn.tts.params import VoiceSettings
from voicefn.tts.recorder import Recorded, StreamRecorder
from voicefn.tts.service import TtsService
from voicefn.tts.tally import CharacterTally

__all__ = ["LiveSynthesis", "LiveEvent", "speak_sentences", "texts_of"]

log = get_logger(__name__)

LiveEvent = Union[Sentence, AudioChunk, EndOfTurn]
_END: Any = object()


async def texts_of(pieces: list[str]) -> AsyncGenerator[str, None]:
    """A source of text pieces known in advance."""
    for piece in pieces:
        yield piece


class _TextLog:
    """Every piece read from the source, so that a replacement session can be fed all of it."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.ended = False
        self._changed = asyncio.Condition()

    async def append(self, piece: str) -> None:
        async with self._changed:
            self.pieces.append(piece)
            self._changed.notify_all()

    async def end(self) -> None:
        async with self._changed:
            self.ended = True
            self._changed.notify_all()

    async def follow(self) -> AsyncIterator[str]:
        """All pieces from the first, waiting for more until the source has ended."""
        sent = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: self.ended or len(self.pieces) > sent)
                pending, ended = self.pieces[sent:], self.ended
            for piece in pending:
                yield piece
            sent += len(pending)
            if ended and sent == len(self.pieces):
                return


class LiveSynthesis:
    """One live synthesis. :meth:`open`, then iterate :meth:`events` (or :meth:`audio`) once.

    When the stream completes it is recorded as a synthesis of all the text read (the cache key
    and the history record); ``bill=False`` stores and caches it without a bill or history record
    (a chat turn bills once for all its sentences). ``regroup`` cuts the pieces into sentences
    before they go upstream; ``ssml`` sends the (single) text as SSML.
    """

    def __init__(self, services: Services, principal: Principal, settings: VoiceSettings,
                 api_key: str, texts: AsyncIterable[str], *, regroup: bool = False,
                 ssml: bool = False, bill: bool = True) -> None:
        self._services = services
        self._service = TtsService(services)
        self._principal = principal
        self.settings = settings
        self._api_key = api_key
        self._texts = texts
        self._regroup = regroup
        self._ssml = ssml
        self._bill = bill
        self._log = _TextLog()
        self._read: list[str] = []
        self._out: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, services.settings.stream_queue_chunks))
        self._scope = TurnScope(cancel_owner=False, on_error=self._wake)
        self._opened = asyncio.Event()
        self._failed = asyncio.Event()
        self._started = False
        self._iterated = False
        self.characters = 0
        self.sessions = 0  # upstream tasks started (more than one after a retry)
        self.recorded: Recorded | None = None

    @property
    def text(self) -> str:
        """Everything read from the source so far."""
        return "".join(self._read)

    # -- stages ------------------------------------------------------------------------------
    async def _reader(self) -> None:
        from voicefn.text.split import SentenceStream

        sentences = SentenceStream() if self._regroup else None
        async for piece in self._texts:
            self._read.append(piece)
            for part in (sentences.feed(piece) if sentences else [piece]):
                await self._log.append(part)
        for part in (sentences.flush() if sentences else []):
            await self._log.append(part)
        await self._log.end()

    async def _sender(self, session: CosyVoiceSession) -> None:
        try:
            async for piece in self._log.follow():
                if piece.strip():
                    await session.send_text(piece)
            await session.finish()
        except UpstreamError:
            raise  # the connection failed: the event loop below sees it too, after the audio queued
        except BaseException:
            # Anything else would leave the event loop waiting: closing the session wakes it,
            # and it then reports this error.
            await session.aclose()
            raise

    async def _attempt(self) -> AsyncGenerator[SessionEvent, None]:
        session = self._services.dashscope.tts_session(
            api_key=self._api_key, params=self.settings.cosyvoice(ssml=self._ssml))
        self.sessions += 1
        async with session, TurnScope(cancel_owner=False) as scope:
            self._opened.set()
            sender = scope.spawn(self._sender(session))
            try:
                async for event in session.events():
                    yield event
            except UpstreamError:
                # A failed sender closed the session to get here: its error says more.
                await asyncio.wait({sender}, timeout=1.0)
                if sender.done() and not sender.cancelled() and sender.exception() is not None:
                    raise sender.exception() from None  # type: ignore[misc]
                raise
            if scope.error is not None:
                raise scope.error
            self.characters = session.characters

    async def _pump(self) -> None:
        events = retry_until_first(self._attempt, retries=self._services.settings.upstream_retries,
                                   budget_s=self._services.settings.upstream_retry_budget_s,
                                   counts=lambda e: isinstance(e, AudioFrame))
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, AudioFrame):
                    await self._out.put(AudioChunk(event.data, event.sentence))
                elif isinstance(event, SentenceBegin):
                    await self._out.put(Sentence(event.index, event.text))
        await self._out.put(_END)

    def _wake(self, _: BaseException) -> None:
        """A stage failed: let a consumer waiting (in :meth:`open` or on the queue) see it."""
        self._failed.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._out.put_nowait(_END)

    # -- the consumer's side ----------------------------------------------------------------
    async def open(self) -> None:
        """Start the stages and wait until the upstream task has started (retried if it fails).

        Raises :class:`ApiError` (upstream errors translated) before anything was delivered.
        """
        if self._started:
            return
        self._started = True
        await self._scope.__aenter__()
        self._scope.spawn(self._reader())
        self._scope.spawn(self._pump())
        waits = {asyncio.ensure_future(self._opened.wait()), asyncio.ensure_future(self._failed.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if self._scope.error is not None and not self._opened.is_set():
            error = self._scope.error
            await self.aclose()
            raise _api_error(error) from error

    async def events(self) -> AsyncGenerator[LiveEvent, None]:
        """Sentences and audio as they come, then :class:`EndOfTurn` once recorded and billed."""
        if self._iterated:
            raise RuntimeError("a live synthesis is iterated once")
        self._iterated = True
        await self.open()
        recorder = StreamRecorder()
        completed = False
        try:
            while True:
                item = await self._out.get()
                if self._scope.error is not None:
                    raise self._scope.error
                if item is _END:
                    break
                if isinstance(item, AudioChunk):
                    recorder.write(item.data)
                yield item
            completed = True
        except UpstreamError as err:
            # After audio went out this ends a stream the client believed healthy: say so.
            log.warning("live synthesis failed", extra={
                "code": err.code, "delivered_bytes": recorder.size, "upstream_tasks": self.sessions})
            raise to_api_error(err) from err
        finally:
            await self.aclose()
            if not completed:
                recorder.discard()
        params = self.settings.with_text(self.text or " ")
        self.recorded = await recorder.finish(self._service, self._principal, params,
                                              self.characters, bill=self._bill)
        yield EndOfTurn(self.characters)

    async def audio(self) -> AsyncGenerator[bytes, None]:
        """Only the audio bytes of :meth:`events`."""
        async with contextlib.aclosing(self.events()) as events:
            async for event in events:
                if isinstance(event, AudioChunk):
                    yield event.data

    async def aclose(self) -> None:
        """Stop every stage (the upstream task is cancelled if it has not finished)."""
        if self._started:
            await self._scope.aclose()


def _api_error(exc: BaseException) -> BaseException:
    return to_api_error(exc) if isinstance(exc, UpstreamError) else exc


async def speak_sentences(services: Services, principal: Principal, settings: VoiceSettings,
                          api_key: str, sentences: AsyncIterable[Sentence], *, limit: int,
                          totals: list[int] | None = None,
                          tally: CharacterTally | None = None,
                          skip_failed: bool = False) -> AsyncGenerator[LiveEvent, None]:
    """Sentences in, their audio out in order: each sentence is one live synthesis, at most
    ``limit`` at once (bounded, ordered; DESIGN §7 "Spoken chat").

    Every sentence is stored and cached under its own text (so a later ``/v1/audio/speech`` of
    the same sentence is a cache hit) but not billed: the caller bills the turn, with the
    characters appended to ``totals`` (one entry per sentence, in order) and counted in ``tally``
    (by sentence index, with the sentences whose audio had started: for a turn cut short). Yields each
    :class:`Sentence` before its audio, the audio as :class:`AudioChunk` carrying the turn's
    sentence index, and no :class:`EndOfTurn` (the turn is the caller's). A sentence whose
    synthesis fails ends the iteration with its error, unless ``skip_failed``: then the others
    go on (a caller that only stores each sentence's audio loses that one sentence, not the rest).

    The next sentence's upstream task is started ahead (:mod:`voicefn.tts.prestart`) as each
    sentence starts, while fewer than ``limit`` run, so that a sentence complete after the LLM's
    last token pays no task start. Not before the first: a turn whose sentences all come from
    the cache starts no task.
    """
    from voicefn.pipeline.ordered import ordered_streams
    from voicefn.tts.prestart import Prestarted

    ahead = Prestarted(lambda texts: LiveSynthesis(services, principal, settings, api_key, texts, bill=False))
    running = given = taken = 0
    source_ended = False

    def start_next() -> None:
        if running < limit and not source_ended:
            ahead.prepare()

    async def end_ahead_if_unneeded() -> None:
        if source_ended and taken == given:  # every sentence has its synthesis: none will come
            await ahead.aclose()

    async def speak(sentence: Sentence) -> AsyncGenerator[LiveEvent, None]:
        nonlocal running, taken
        running += 1
        try:
            synthesis = await ahead.take(sentence.text)
            taken += 1
            start_next()
            await end_ahead_if_unneeded()
            yield sentence
            try:
                async with contextlib.aclosing(synthesis.events()) as events:
                    async for event in events:
                        if isinstance(event, AudioChunk):
                            if tally is not None:
                                tally.started.setdefault(sentence.index, sentence.text)
                            yield AudioChunk(event.data, sentence.index)
            except ApiError as err:
                if not skip_failed:
                    raise
                log.warning("a sentence's synthesis failed; the others go on",
                            extra={"code": err.code, "sentence": sentence.index})
                return
            if totals is not None:
                totals.append(synthesis.characters)
            if tally is not None:
                tally.finished[sentence.index] = synthesis.characters
        finally:
            running -= 1
        start_next()

    async def source() -> AsyncGenerator[Sentence, None]:
        nonlocal source_ended, given
        async for sentence in sentences:
            given += 1
            yield sentence
        source_ended = True
        await end_ahead_if_unneeded()

    try:
        async with contextlib.aclosing(ordered_streams(source(), speak, limit=limit)) as spoken:
            async for event in spoken:
                yield event
    finally:
        await ahead.aclose()
