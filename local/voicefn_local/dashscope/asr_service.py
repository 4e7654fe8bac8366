"""Everything ASR one emulator instance holds (``state.asr``): its engine, the deterministic
engine's scripts, the transcription tasks and the runner that works them off."""

from __future__ import annotations

import asyncio
import threading

from voicefn_local.dashscope.asr_audio import DecodedAudio
from voicefn_local.dashscope.config import EmulatorConfig
from voicefn_local.dashscope.stats import Stats
from voicefn_local.dashscope.task_store import TaskStore
from voicefn_local.dashscope.transcription_runner import TranscriptionRunner
from voicefn_local.engines.asr_base import AsrEngine, Transcript
from voicefn_local.engines.asr_deterministic import AsrScripts
from voicefn_local.engines.asr_engines import get_asr_engine, new_asr_engine


def _engine(name: str, scripts: AsrScripts) -> AsrEngine:
    # Whisper is shared by the process (its model is slow to load); the deterministic
    # engine is per emulator, so each emulator has its own scripts.
    if name == "deterministic":
        return new_asr_engine(name, scripts=scripts)
    return get_asr_engine(name)


class AsrService:
    def __init__(self, config: EmulatorConfig, stats: Stats) -> None:
        self.config = config
        self.stats = stats
        self.scripts = AsrScripts()
        self.engine = _engine(config.asr_engine or "whisper", self.scripts)
        self.tasks = TaskStore(config.data_dir)
        self.runner = TranscriptionRunner(self)

    async def transcribe(self, audio: DecodedAudio, language: str | None) -> Transcript:
        """Run the engine in a worker thread (the event loop stays free) and count the call.

        If the caller is cancelled (its request ended, the server is stopping) the engine is told
        to stop too: a thread cannot be killed, and a thread still decoding would keep the
        process alive at exit."""
        self.stats.incr("asr_engine_calls")
        cancel = threading.Event()
        try:
            transcript = await asyncio.to_thread(self.engine.transcribe, audio.pcm,
                                                 audio.sample_rate, language=language,
                                                 cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise
        if transcript.notice:
            self.stats.incr("asr_not_recognized")
        return transcript
