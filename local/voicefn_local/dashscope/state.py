"""Everything one emulator instance holds, shared by its routes (``app.state.emulator``)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from voicefn_local.dashscope.asr_service import AsrService
from voicefn_local.dashscope.call_times import CallTimes
from voicefn_local.dashscope.catalog import VoiceDirectory
from voicefn_local.dashscope.chat_service import ChatService
from voicefn_local.dashscope.cloned_voices import ClonedVoiceStore
from voicefn_local.dashscope.config import EmulatorConfig
from voicefn_local.dashscope.faults import FaultTable
from voicefn_local.dashscope.files import FileStore
from voicefn_local.dashscope.multimodal import MultimodalRegistry
from voicefn_local.dashscope.stats import Stats
from voicefn_local.dashscope.synthesis import EngineRunner
from voicefn_local.dashscope.voice_deploy import VoiceDeployer
from voicefn_local.engines import get_engine


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.stats = Stats()
        self.faults = FaultTable(config.faults)
        self.files = FileStore(ttl_s=config.file_ttl_s, max_bytes=config.max_file_bytes)
        self.voices = VoiceDirectory()
        self.multimodal = MultimodalRegistry()
        self.engine = get_engine(config.engine)
        self.runner = EngineRunner(self.engine, self.stats)
        self.asr = AsrService(config, self.stats)  # ASR engine, scripts, transcription tasks
        self.compat_chat = MultimodalRegistry()     # model families of compatible-mode chat
        # Cloned voices (voice enrollment) and the background work that deploys them.
        self.cloned_voices = ClonedVoiceStore(config.voice_quota, config.data_dir)
        self.voice_deployer = VoiceDeployer(config, self.cloned_voices, self.engine)
        self.call_times = CallTimes()  # when each API was busy answering (benchmarks)
        # chat engine, scripts, calls
        self.chat = ChatService(config.llm_engine or "scripted", self.stats, self.call_times)

    def file_url(self, conn: HTTPConnection, name: str) -> str:
        """Absolute URL of a result file, on the base URL the caller used (or the configured one)."""
        base = self.config.public_base_url or str(conn.base_url)
        return f"{base.rstrip('/')}/files/{name}"


def get_state(conn: HTTPConnection) -> EmulatorState:
    return conn.app.state.emulator  # type: ignore[no-any-return]
