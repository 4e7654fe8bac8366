"""Synthesis for the HTTP TTS APIs (CosyVoice HTTP, Qwen TTS): whole, or as SSE audio chunks."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from voicefn.billing import billable_characters
from voicefn.text.split import split_sentences

from voicefn_local.dashscope.calls import algo_failure
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.responses import DROP
from voicefn_local.dashscope.sse import sse_error, sse_result
from voicefn_local.dashscope.state import EmulatorState
from voicefn_local.dashscope.synthesis import VoiceParams, pcm_frames

# chunk_body(index, sentence, pcm_base64, characters_so_far) -> the SSE chunk's JSON
ChunkBody = Callable[[int, str, str, int], dict[str, Any]]
# final_body(all_pcm, characters) -> the last chunk's / the response's JSON
FinalBody = Callable[[bytes, int], Awaitable[dict[str, Any]]]


class AudioJob:
    """One HTTP synthesis request: its sentences, voice, rate and fault."""

    def __init__(self, state: EmulatorState, text: str, voice: VoiceParams, sample_rate: int,
                 fault: Fault | None) -> None:
        self.state = state
        self.sentences = [s for s in split_sentences(text) if s.strip()]
        self.voice = voice
        self.sample_rate = sample_rate
        self.fault = fault
        self.characters = 0

    async def _sentence_pcm(self, sentence: str) -> bytes:
        pcm = await self.state.runner.pcm(sentence, self.voice, self.sample_rate)
        chars = billable_characters(sentence)
        self.characters += chars
        self.state.stats.incr("characters", chars)
        return pcm

    async def _pace(self) -> None:
        if self.fault is not None and self.fault.kind == "slow_frames":
            await asyncio.sleep(self.fault.frame_delay_s)

    async def whole_pcm(self) -> bytes:
        """All the audio (``slow_frames`` delays each sentence, there being no frames)."""
        parts = []
        for sentence in self.sentences:
            await self._pace()
            parts.append(await self._sentence_pcm(sentence))
        return b"".join(parts)

    async def sse(self, request_id: str, chunk_body: ChunkBody,
                  final_body: FinalBody) -> AsyncIterator[Any]:
        """SSE chunks of base64 PCM, then the final chunk; ``drop``/``task_failed`` strike after
        the first chunk."""
        seq = 0
        parts: list[bytes] = []
        for index, sentence in enumerate(self.sentences):
            pcm = await self._sentence_pcm(sentence)
            parts.append(pcm)
            for frame in pcm_frames(pcm, self.sample_rate, self.state.config.frame_ms):
                await self._pace()
                seq += 1
                encoded = base64.b64encode(frame).decode()
                yield sse_result(seq, chunk_body(index, sentence, encoded, self.characters))
                if seq == 1 and self.fault is not None:
                    if self.fault.kind == "drop":
                        yield DROP
                        return
                    if self.fault.kind == "task_failed":
                        yield sse_error(seq + 1, algo_failure(), request_id)
                        return
        yield sse_result(seq + 1, await final_body(b"".join(parts), self.characters))
