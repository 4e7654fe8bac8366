"""Deploying a cloned voice in the background: fetch and analyse its sample, then let the
configured delay pass, so clients see ``DEPLOYING`` first and must poll ``query_voice``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from voicefn_local.dashscope.cloned_voices import ClonedVoice, ClonedVoiceStore
from voicefn_local.dashscope.config import EmulatorConfig
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.voice_samples import SampleRejected, profile_from_url
from voicefn_local.engines.base import TtsEngine

log = logging.getLogger(__name__)


class VoiceDeployer:
    def __init__(self, config: EmulatorConfig, store: ClonedVoiceStore, engine: TtsEngine) -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, voice: ClonedVoice, fault: Fault | None = None) -> None:
        """Deploy ``voice`` (its current generation) on the running loop."""
        if fault is not None and fault.kind == "stuck":
            return  # stays DEPLOYING until deleted or updated
        task = asyncio.get_running_loop().create_task(self._deploy(voice, fault))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deploy(self, voice: ClonedVoice, fault: Fault | None) -> None:
        started = time.time()
        profile, reason = None, None
        try:
            if fault is not None and fault.kind == "task_failed":
                raise SampleRejected("injected task_failed fault")
            profile = await profile_from_url(voice.url, voice.language,
                                             timeout_s=self.config.fetch_timeout_s,
                                             allowed=self.config.fetch_only)
            prepare = getattr(self.engine, "prepare_clone", None)  # an engine's one-off setup
            if prepare is not None:
                await asyncio.to_thread(prepare, profile)
        except SampleRejected as exc:
            reason = str(exc)
        except Exception:  # a bug must still end the voice, never leave it DEPLOYING
            log.exception("deploying voice %s failed", voice.voice_id)
            reason = "internal error while analysing the sample"
        self.store.finish(voice.voice_id, voice.generation,
                          ready_at=started + self.config.voice_deploy_delay_s,
                          profile=profile, reason=reason)

    async def startup(self) -> None:
        """Voices a previous run left DEPLOYING are deployed again."""
        for voice in self.store.pending():
            self.start(voice)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
