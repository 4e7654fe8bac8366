"""One chat turn, spoken: LLM deltas → sentences → bounded, ordered, concurrent TTS → the route.

Built from the layer's parts (DESIGN §3a, §7 "Spoken chat"): the LLM stream
(:class:`voicefn.llm.ChatClient`), sentence cutting with an early first clause
(:class:`voicefn.text.split.SentenceStream`), cleaning for speech, and
:func:`voicefn.tts.live.speak_sentences` for the audio, all children of one
:class:`~voicefn.pipeline.TurnScope`: a client that goes away closes :meth:`ReplyTurn.events`,
which cancels the LLM stream (its HTTP response is closed, so the upstream stops) and every
synthesis of the turn.

Each sentence to be spoken is announced (:class:`Spoken`) the moment it is cut, and registered
as *in flight* in the TTS cache (:mod:`voicefn.tts.inflight`) until its audio is stored, so
that ``/v1/audio/speech`` and the announced ``audio_url`` wait for it instead of synthesizing it
again (seed 004). The text the client receives is the LLM's, unchanged; only what is spoken is
cleaned (markdown, code blocks, emoji, URLs).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Union

from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError
from voicefn.llm import ChatTarget, Usage
from voicefn.llm.errors import to_chat_error
from voicefn.pipeline import AudioChunk, Sentence, TextDelta, TurnScope
from voicefn.services import Services
from voicefn.text.charclass import is_speakable
from voicefn.text.clean import clean_for_speech, normalize_for_cache
from voicefn.text.split import SentenceStream
from voicefn.tts import inflight
from voicefn.tts.params import VoiceSettings
from voicefn.tts.tally import CharacterTally
from voicefn_chat.billing import abandoned_usage

FIRST_CLAUSE_MIN_CHARS = 8  # a short first clause goes to TTS early (fast first audio)
# Later clauses this long go as they end too: the reply's last piece, whose synthesis is all a
# listener still waits for after the LLM's last token, is then a clause, not a long sentence.
CLAUSE_MIN_CHARS = 24
SENTENCE_MAX_CHARS = 300  # a run-on sentence is cut at a comma or space rather than waited for
OUT_QUEUE = 64
_DONE: Any = object()


@dataclass(frozen=True)
class Spoken:
    """A sentence that will be spoken: ``text`` is the reply's text since the previous spoken
    sentence (unspoken parts such as code included), ``spoken`` what the voice reads."""

    index: int
    text: str
    spoken: str
    cache_key: str


@dataclass(frozen=True)
class SpeechStart:
    """The audio of ``sentence`` starts now (the next :class:`AudioChunk` events are it)."""

    sentence: Spoken


@dataclass
class ReplyEnd:
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    characters: int = 0  # billable TTS characters of the turn
    tail: str = ""  # reply text after the last spoken sentence (nothing to say in it)
    sentences: int = 0


TurnEvent = Union[TextDelta, Spoken, SpeechStart, AudioChunk, ReplyEnd]


class SpeechFilter:
    """What of each cut sentence a voice should read; code blocks are skipped across sentences
    (the splitter cuts at line ends, so a fenced block arrives line by line)."""

    def __init__(self) -> None:
        self.in_code = False

    def speakable(self, sentence: str) -> str | None:
        kept = []
        for line in sentence.splitlines(keepends=True):  # a piece may hold a fence and a sentence
            if line.lstrip().startswith(("```", "~~~")):
                self.in_code = not self.in_code
            elif not self.in_code:
                kept.append(line)
        spoken = clean_for_speech("".join(kept)).strip()
        return spoken if any(is_speakable(c) for c in spoken) else None


class ReplyTurn:
    """Iterate :meth:`events` once. Without ``voice`` the turn is text only."""

    def __init__(self, services: Services, principal: Principal, target: ChatTarget, body: dict[str, Any], *,
                 voice: VoiceSettings | None = None, tts_api_key: str = "", deliver_audio: bool = False) -> None:
        self.services = services
        self.principal = principal
        self.target = target
        self.body = body
        self.voice = voice
        self.tts_api_key = tts_api_key
        self.deliver_audio = deliver_audio
        self.text = ""
        self._out: asyncio.Queue[Any] = asyncio.Queue(maxsize=OUT_QUEUE)
        self._sentences: asyncio.Queue[Any] = asyncio.Queue()
        self._failed = asyncio.Event()
        self._pending_keys: dict[int, str] = {}
        self._announced = 0
        self._tally = CharacterTally()
        self._deltas = 0  # content deltas received: the completion's tokens if no usage comes
        self._usage_reported = False
        self._end = ReplyEnd()

    # -- stages ------------------------------------------------------------------------------
    async def _announce(self, piece: str, speech: SpeechFilter, unspoken: list[str]) -> None:
        unspoken.append(piece)
        assert self.voice is not None
        spoken = speech.speakable(piece)
        if spoken is None:
            return
        index = self._announced
        self._announced += 1
        key = self.voice.with_text(spoken).cache_key(normalize_for_cache(spoken))
        await inflight.begin(self.services, key)
        self._pending_keys[index] = key
        sentence = Spoken(index, "".join(unspoken), spoken, key)
        unspoken.clear()
        await self._out.put(sentence)
        await self._sentences.put(sentence)

    async def _read_llm(self) -> None:
        splitter = SentenceStream(first_fragment_min_chars=FIRST_CLAUSE_MIN_CHARS, max_chars=SENTENCE_MAX_CHARS,
                                   clause_min_chars=CLAUSE_MIN_CHARS)
        speech, unspoken = SpeechFilter(), []  # type: ignore[var-annotated]
        stream = self.services.llm.stream(self.target, self.body)
        try:
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    if chunk.text:
                        self._deltas += 1
                        self.text += chunk.text
                        await self._out.put(TextDelta(chunk.text))
                        if self.voice is not None:
                            for piece in splitter.feed(chunk.text):
                                await self._announce(piece, speech, unspoken)
                    if chunk.finish_reason:
                        self._end.finish_reason = chunk.finish_reason
                    if chunk.usage is not None:
                        self._end.usage, self._usage_reported = chunk.usage, True
        except UpstreamError as err:
            raise to_chat_error(err, self.target.requested) from err
        if self.voice is not None:
            for piece in splitter.flush():
                await self._announce(piece, speech, unspoken)
            self._end.tail = "".join(unspoken)
        await self._sentences.put(_DONE)
        await self._out.put(_DONE)

    async def _speak(self) -> None:
        from voicefn.tts.live import speak_sentences

        assert self.voice is not None
        by_index: dict[int, Spoken] = {}

        async def sentences() -> AsyncGenerator[Sentence, None]:
            from voicefn.tts.service import TtsService

            while True:
                item = await self._sentences.get()
                if item is _DONE:
                    return
                if not self.deliver_audio and await TtsService(self.services).cached_key(item.cache_key, wait=False):
                    await self._finished(item.index)  # said before, same voice: its audio is in the cache
                    continue
                by_index[item.index] = item
                yield Sentence(item.index, item.spoken)

        previous: int | None = None
        spoken = speak_sentences(self.services, self.principal, self.voice, self.tts_api_key, sentences(),
                                 limit=self.services.settings.chat_tts_concurrency, tally=self._tally,
                                 skip_failed=not self.deliver_audio)  # seed 004: that one audio_url fails
        async with contextlib.aclosing(spoken):
            async for event in spoken:
                if isinstance(event, Sentence):
                    if previous is not None:  # its synthesis ended (and was cached) before this one's audio
                        await self._finished(previous)
                    previous = event.index
                    if self.deliver_audio:
                        await self._out.put(SpeechStart(by_index[event.index]))
                elif isinstance(event, AudioChunk) and self.deliver_audio:
                    await self._out.put(event)
        if previous is not None:
            await self._finished(previous)
        await self._out.put(_DONE)

    async def _finished(self, index: int) -> None:
        key = self._pending_keys.pop(index, None)
        if key is not None:
            inflight.end_soon(self.services, [key])  # waiters here wake now, elsewhere on the marker
        self._end.sentences += 1

    # -- the route's side --------------------------------------------------------------------
    async def _next(self, scope: TurnScope) -> Any:
        getter = asyncio.ensure_future(self._out.get())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait({getter, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
            if not getter.done():
                getter.cancel()
        if scope.error is not None:
            raise scope.error
        return getter.result()

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        """Text deltas as they come; with a voice, :class:`Spoken` announcements, and (with
        ``deliver_audio``) each sentence's :class:`SpeechStart` and audio in order; finally
        :class:`ReplyEnd` once every synthesis has finished. Raises :class:`ApiError`."""
        producers = 2 if self.voice is not None else 1
        try:
            async with TurnScope(cancel_owner=False, on_error=lambda _: self._failed.set()) as scope:
                scope.spawn(self._read_llm(), name="chat-llm")
                if self.voice is not None:
                    scope.spawn(self._speak(), name="chat-tts")
                done = 0
                while done < producers:
                    item = await self._next(scope)
                    if item is _DONE:
                        done += 1
                        continue
                    yield item
        finally:
            # not awaited: a turn torn down by a disconnect is cancelled at every await
            inflight.end_soon(self.services, list(self._pending_keys.values()))
            self._pending_keys.clear()
        self._end.characters = self._tally.total()
        yield self._end

    def used(self) -> ReplyEnd:
        """What the turn has used so far, for the bill of a turn cut before its end: the usage
        the upstream reported, else :func:`~voicefn_chat.billing.abandoned_usage`; the TTS
        characters of the syntheses that finished or had started (:class:`CharacterTally`)."""
        usage = self._end.usage if self._usage_reported else abandoned_usage(self.body["messages"], self._deltas)
        return ReplyEnd("abandoned", usage, self._tally.so_far(), sentences=self._end.sentences)
