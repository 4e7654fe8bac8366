"""How an emulator instance behaves: engine, accepted keys, faults, framing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicefn_local.dashscope.auth import KeyPolicy
from voicefn_local.dashscope.faults import FaultRule

ENGINE_ENV = "VOICEFN_FAKE_ENGINE"
ASR_ENGINE_ENV = "VOICEFN_FAKE_ASR_ENGINE"
LLM_ENGINE_ENV = "VOICEFN_FAKE_LLM_ENGINE"
DATA_DIR_ENV = "VOICEFN_DATA_DIR"


# defaults come from voicefn's settings (the one module that reads the environment)
def _default_engine() -> str:
    from voicefn.settings import load_settings

    return load_settings().emulator_engine or "espeak"


def _default_asr_engine() -> str | None:
    from voicefn.settings import load_settings

    return load_settings().emulator_asr_engine


def _default_llm_engine() -> str | None:
    from voicefn.settings import load_settings

    return load_settings().emulator_llm_engine


def _default_data_dir() -> Path | None:
    from voicefn.settings import env_is_set, load_settings

    return load_settings().data_dir.expanduser() / "dashscope" if env_is_set(DATA_DIR_ENV) else None


@dataclass
class EmulatorConfig:
    # TTS engine: "espeak" (real speech) or "deterministic" (exact-duration tone for tests).
    engine: str = field(default_factory=_default_engine)
    # Accepted API keys: None = any "sk-..." except "sk-invalid"; a collection = exactly those;
    # a callable = your own rule.
    api_keys: KeyPolicy = None
    # Initial fault rules, as FaultRule or {"match": {...}, "fault": {...}} dicts.
    faults: list[FaultRule | dict[str, Any]] = field(default_factory=list)
    # Base of the result-file URLs; None = the base URL each request came in on.
    public_base_url: str | None = None
    # Audio per WebSocket binary frame / SSE chunk, in milliseconds (DashScope sends ~100-200).
    frame_ms: int = 160
    # Result files: how long they live and how many bytes are kept at most.
    file_ttl_s: int = 86400
    max_file_bytes: int = 256 * 1024 * 1024
    # ASR engine: "whisper" (real English recognition, Whisper tiny.en) or "deterministic"
    # (scripted, exact times). None = $VOICEFN_FAKE_ASR_ENGINE, else "deterministic" when the TTS
    # engine is, else "whisper".
    asr_engine: str | None = field(default_factory=_default_asr_engine)
    # Where transcription tasks and their result files are kept, so they survive a restart;
    # default $VOICEFN_DATA_DIR/dashscope; None = in memory only.
    data_dir: str | os.PathLike[str] | None = field(default_factory=_default_data_dir)
    # Audio fetched or inlined for ASR: bytes per sync request item (DashScope: 10 MB), seconds
    # per sync request (5 min), bytes per transcription file, and the fetch timeout.
    max_asr_audio_bytes: int = 10 * 1024 * 1024
    max_asr_sync_seconds: float = 300.0
    max_transcription_file_bytes: int = 512 * 1024 * 1024
    fetch_timeout_s: float = 30.0
    # Transcription tasks: how many run at once (the rest wait PENDING), and how long a task and
    # its result file are kept (then queries answer UNKNOWN, as DashScope does after 24 h).
    max_running_tasks: int = 2
    task_ttl_s: int = 86400
    # The token ``/_admin/*`` requires (header X-Voicefn-Admin-Token). None = the one in
    # data_dir/admin.token (created if missing), or a random one when there is no data dir.
    admin_token: str | None = None
    # URL prefixes the ASR APIs may fetch audio from; None = any http(s) URL (a standalone test
    # fake). `voicefn serve` allows only its local object store (the emulator shares its port).
    fetch_only: tuple[str, ...] | None = None
    # Voice enrollment (cloning): voices per account (API key; DashScope: 1000 per main account),
    # and how long a voice stays DEPLOYING at least, in seconds (tests use 0).
    voice_quota: int = 1000
    voice_deploy_delay_s: float = 0.5
    # Chat engine of compatible-mode chat: "smollm2" (SmolLM2-135M-Instruct run by llama.cpp) or
    # "scripted" (set replies at set speeds, see voicefn_local.engines.llm_scripted). None =
    # $VOICEFN_FAKE_LLM_ENGINE, else "scripted" when the TTS engine is deterministic, else
    # "smollm2" when its wheels are installed, else "scripted".
    llm_engine: str | None = field(default_factory=_default_llm_engine)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "EmulatorConfig":
        """The emulator of a local voicefn: its engines and, under its data dir, its files."""
        options: dict[str, Any] = {"engine": settings.emulator_engine or "espeak",
                                   "asr_engine": settings.emulator_asr_engine,
                                   "llm_engine": settings.emulator_llm_engine,
                                   "data_dir": Path(settings.data_dir).expanduser() / "dashscope"}
        options.update(overrides)
        return cls(**options)

    def __post_init__(self) -> None:
        if self.admin_token is None:
            import secrets

            from voicefn_local.dashscope.admin_token import load_admin_token

            self.admin_token = (load_admin_token(self.data_dir) if self.data_dir is not None
                                else secrets.token_urlsafe(32))
        if self.asr_engine is None:
            self.asr_engine = "deterministic" if self.engine == "deterministic" else "whisper"
        if self.llm_engine is None:
            from voicefn_local.engines.llm_engines import default_llm_engine

            self.llm_engine = "scripted" if self.engine == "deterministic" else default_llm_engine()
        from voicefn_local.engines.llm_engines import check_llm_engine

        check_llm_engine(self.llm_engine)
