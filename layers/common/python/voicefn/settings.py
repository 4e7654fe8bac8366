"""Every setting, read from the environment in one place, and checked as it is read.

No other module reads ``os.environ``: the FC entry (or the local runtime) calls
:func:`load_settings` once, builds one :class:`voicefn.services.Services` from it and hands that to
the app. A value that cannot be right (``VOICEFN_TTS_MAX_CHARS=ten``, ``VOICEFN_STATE_STORE=redis``)
raises :class:`SettingsError` naming the variable and what it accepts, so a misconfigured function
fails at startup instead of on some later request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError", "load_settings", "env_is_set", "get_settings", "reset_settings",
           "RUNTIMES", "OBJECT_STORES", "STATE_STORES", "INVOKERS", "LOG_LEVELS"]

RUNTIMES = ("local", "cloud")
OBJECT_STORES = ("local", "oss")
STATE_STORES = ("sqlite", "tablestore")
INVOKERS = ("inprocess", "fc")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A variable holds a value voicefn cannot use; the message names it and the allowed values."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        super().__init__(f"{variable}={value!r} is not valid: expected {expected}")
        self.variable = variable
        self.value = value
        self.expected = expected


class _Env:
    """Typed, validated reads from one mapping (``os.environ`` unless a test passes its own)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._environ.get(name)
        return value if value else default

    def url(self, name: str, default: str) -> str:
        return (self.text(name, default) or default).rstrip("/")

    def choice(self, name: str, allowed: tuple[str, ...], default: str, *, upper: bool = False) -> str:
        raw = self.text(name)
        if raw is None:
            return default
        value = raw.strip().upper() if upper else raw.strip()
        if value not in allowed:
            raise SettingsError(name, raw, "one of " + ", ".join(allowed))
        return value

    def whole(self, name: str, default: int, *, minimum: int = 0) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(name, raw, f"a whole number >= {minimum}") from None
        if value < minimum:
            raise SettingsError(name, raw, f"a whole number >= {minimum}")
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            raise SettingsError(name, raw, f"a number >= {minimum:g}") from None
        if not value >= minimum or value == float("inf"):  # also refuses nan
            raise SettingsError(name, raw, f"a finite number >= {minimum:g}")
        return value

    def items(self, name: str, default: str = "") -> tuple[str, ...]:
        raw = self.text(name, default) or ""
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    def service_keys(self, name: str) -> dict[str, str]:
        """``VOICEFN_SERVICE_KEYS="billing:sk-abc,crm:sk-def"`` -> {key: service name}."""
        keys: dict[str, str] = {}
        for item in (self.text(name) or "").split(","):
            if not item.strip():
                continue
            service, sep, key = item.strip().partition(":")
            if not (sep and service and key):
                raise SettingsError(name, "<hidden>", "comma-separated name:key pairs")
            keys[key] = service
        return keys


@dataclass(frozen=True)
class Settings:
    # where we run: "local" (voicefn serve, tests) or "cloud" (FC)
    runtime: str = "local"
    data_dir: Path = Path(".voicefn")
    public_base_url: str = "http://127.0.0.1:8000"

    # auth
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    service_keys: dict[str, str] = field(default_factory=dict, repr=False)

    # DashScope
    platform_api_key: str | None = field(default=None, repr=False)
    platform_key_users: tuple[str, ...] = ()
    dashscope_http_url: str = "https://dashscope.aliyuncs.com/api/v1"
    dashscope_ws_url: str = "wss://dashscope.aliyuncs.com/api-ws/v1/inference"
    dashscope_compat_url: str = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    upstream_timeout_s: float = 30.0
    upstream_retries: int = 2
    upstream_retry_budget_s: float = 20.0
    # seed 000's DASHSCOPE_TTS_MODEL: the model behind POST /api/tts
    seed000_tts_model: str = "qwen3-tts-flash"

    # secrets
    master_key: str | None = field(default=None, repr=False)
    callback_secret: str | None = field(default=None, repr=False)
    # the function role's STS credentials, which FC injects as ALIBABA_CLOUD_* (OSS, Tablestore, FC)
    access_key_id: str | None = field(default=None, repr=False)
    access_key_secret: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)

    # adapters
    object_store: str = "local"
    state_store: str = "sqlite"
    invoker: str = "inprocess"
    oss_bucket: str = "voicefn-local"
    oss_endpoint: str | None = None
    oss_public_endpoint: str | None = None
    ots_endpoint: str | None = None
    ots_instance: str | None = None
    fc_account_id: str | None = None
    fc_region: str | None = None
    fc_function_prefix: str = "voicefn-"
    # the web function's port (FC custom runtime: FC_CUSTOM_LISTEN_PORT, 9000 by default)
    listen_port: int = 9000

    # product limits
    cors_origins: tuple[str, ...] = ("*",)
    tts_max_chars: int = 2000
    tts_long_max_chars: int = 200_000
    tts_long_concurrency: int = 4
    stream_queue_chunks: int = 32
    tts_ws_idle_timeout_s: float = 20.0  # a TTS WebSocket client silent this long is closed
    asr_task_deadline_s: int = 6 * 3600
    log_level: str = "INFO"
    # every HTTP request answers (or starts streaming) within this, else 504 TIMEOUT; 0 = none
    request_deadline_s: float = 120.0

    # voice cloning: voices per user; how long a voice may stay DEPLOYING before it ends
    # UNDEPLOYED; how long seed 001's create_voice waits for OK (keep it below the function timeout)
    voice_user_limit: int = 20
    voice_deploy_deadline_s: float = 600.0
    voice_create_wait_s: float = 45.0

    # the embedded DashScope's engines (local runtime only; None = its own default)
    emulator_engine: str | None = None
    emulator_llm_engine: str | None = None  # chat: smollm2, scripted
    emulator_asr_engine: str | None = None

    # chat (issue 9): the LLM is DashScope's compatible mode on the user's own key, unless a
    # deployment names another OpenAI-compatible endpoint (seed 000: ModelScope, seed 004: NewAPI)
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model_map: dict[str, str] = field(default_factory=dict)  # client's name -> upstream's
    llm_default_model: str = "qwen-plus"
    llm_timeout_s: float = 60.0  # to the first byte, and between two chunks of a stream
    chat_tts_enabled: bool = False  # seed 004's tts_enabled when a request leaves it out
    chat_tts_model: str = "cosyvoice-v3-flash"
    chat_tts_voice: str | None = None  # None: the TTS model's default voice
    chat_tts_concurrency: int = 3  # sentences of one reply synthesized at once
    chat_audio_wait_s: float = 60.0  # how long a request waits for a synthesis in flight
    # realtime sockets (issue 10): FC closes a WebSocket at the function's timeout (600 s in
    # s.yaml); the socket tells the client this long after it opened, then closes itself.
    realtime_max_s: float = 590.0
    realtime_asr_model: str = "qwen3-asr-flash"
    realtime_vlm_model: str = "qwen-vl-plus"
    chat_system_prompt: str = ("你是湖南旅游助手，熟悉湖南的景点、美食、文化和交通，回答简洁、友好、实用。"
                               " (You are a Hunan travel assistant.)")

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def local_key_file(self) -> Path:
        return self.data_dir / "master.key"

    def role_credentials(self, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None, str | None]:
        """(key id, secret, STS token): these settings', or those in ``environ`` when given (tests)."""
        if environ is None:
            return self.access_key_id, self.access_key_secret, self.security_token
        return (environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID") or None,
                environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET") or None,
                environ.get("ALIBABA_CLOUD_SECURITY_TOKEN") or None)


def env_is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment sets ``name`` to something non-empty (defaults that yield to it)."""
    return bool((os.environ if environ is None else environ).get(name))


def load_settings(environ: Mapping[str, str] | None = None, *,
                  defaults: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raises :class:`SettingsError` on the first bad value.

    ``defaults`` are variable values used where the environment sets none (the local runtime's
    embedded DashScope URLs, say): the same names and checks, so a default cannot bypass them.
    """
    source = os.environ if environ is None else environ
    if defaults:
        source = {**defaults, **{k: v for k, v in source.items() if v}}
    env = _Env(source)
    runtime = env.choice("VOICEFN_RUNTIME", RUNTIMES, "cloud" if env.text("FC_FUNCTION_NAME") else "local")
    cloud = runtime == "cloud"
    return Settings(
        runtime=runtime,
        data_dir=Path(env.text("VOICEFN_DATA_DIR", ".voicefn") or ".voicefn"),
        public_base_url=env.url("VOICEFN_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        jwt_secret=env.text("VOICEFN_JWT_SECRET"),
        jwt_public_key=env.text("VOICEFN_JWT_PUBLIC_KEY"),
        jwt_issuer=env.text("VOICEFN_JWT_ISSUER"),
        jwt_audience=env.text("VOICEFN_JWT_AUDIENCE"),
        service_keys=env.service_keys("VOICEFN_SERVICE_KEYS"),
        platform_api_key=env.text("DASHSCOPE_API_KEY"),
        platform_key_users=env.items("VOICEFN_PLATFORM_KEY_USERS"),
        dashscope_http_url=env.url("DASHSCOPE_HTTP_BASE_URL", Settings.dashscope_http_url),
        dashscope_ws_url=env.url("DASHSCOPE_WEBSOCKET_BASE_URL", Settings.dashscope_ws_url),
        dashscope_compat_url=env.url("DASHSCOPE_COMPATIBLE_BASE_URL", Settings.dashscope_compat_url),
        upstream_timeout_s=env.number("VOICEFN_UPSTREAM_TIMEOUT_S", 30.0, minimum=0.001),
        upstream_retries=env.whole("VOICEFN_UPSTREAM_RETRIES", 2),
        upstream_retry_budget_s=env.number("VOICEFN_UPSTREAM_RETRY_BUDGET_S", 20.0),
        seed000_tts_model=env.text("DASHSCOPE_TTS_MODEL", Settings.seed000_tts_model) or Settings.seed000_tts_model,
        master_key=env.text("VOICEFN_MASTER_KEY"),
        callback_secret=env.text("VOICEFN_CALLBACK_SECRET"),
        access_key_id=env.text("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        access_key_secret=env.text("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        security_token=env.text("ALIBABA_CLOUD_SECURITY_TOKEN"),
        object_store=env.choice("VOICEFN_OBJECT_STORE", OBJECT_STORES, "oss" if cloud else "local"),
        state_store=env.choice("VOICEFN_STATE_STORE", STATE_STORES, "tablestore" if cloud else "sqlite"),
        invoker=env.choice("VOICEFN_INVOKER", INVOKERS, "fc" if cloud else "inprocess"),
        oss_bucket=env.text("OSS_BUCKET", "voicefn-local") or "voicefn-local",
        oss_endpoint=env.text("OSS_ENDPOINT"),
        oss_public_endpoint=env.text("OSS_PUBLIC_ENDPOINT"),
        ots_endpoint=env.text("OTS_ENDPOINT"),
        ots_instance=env.text("OTS_INSTANCE"),
        fc_account_id=env.text("FC_ACCOUNT_ID"),
        fc_region=env.text("FC_REGION"),
        fc_function_prefix=env.text("VOICEFN_FUNCTION_PREFIX", "voicefn-") or "",
        listen_port=env.whole("FC_CUSTOM_LISTEN_PORT", 9000, minimum=1),
        cors_origins=env.items("VOICEFN_CORS_ORIGINS", "*"),
        tts_max_chars=env.whole("VOICEFN_TTS_MAX_CHARS", 2000, minimum=1),
        tts_long_max_chars=env.whole("VOICEFN_TTS_LONG_MAX_CHARS", 200_000, minimum=1),
        tts_long_concurrency=env.whole("VOICEFN_TTS_LONG_CONCURRENCY", 4, minimum=1),
        stream_queue_chunks=env.whole("VOICEFN_STREAM_QUEUE_CHUNKS", 32, minimum=1),
        tts_ws_idle_timeout_s=env.number("VOICEFN_TTS_WS_IDLE_TIMEOUT_S", 20.0, minimum=0.001),
        asr_task_deadline_s=env.whole("VOICEFN_ASR_TASK_DEADLINE_S", 6 * 3600, minimum=1),
        log_level=env.choice("VOICEFN_LOG_LEVEL", LOG_LEVELS, "INFO", upper=True),
        # names checked by the emulator itself, which owns the list of engines
        emulator_engine=env.text("VOICEFN_FAKE_ENGINE"),
        emulator_llm_engine=env.text("VOICEFN_FAKE_LLM_ENGINE"),
        emulator_asr_engine=env.text("VOICEFN_FAKE_ASR_ENGINE"),
        request_deadline_s=env.number("VOICEFN_REQUEST_DEADLINE_S", 120.0, minimum=0),
        voice_user_limit=env.whole("VOICEFN_VOICE_USER_LIMIT", 20, minimum=0),
        voice_deploy_deadline_s=env.number("VOICEFN_VOICE_DEPLOY_DEADLINE_S", 600.0, minimum=1.0),
        voice_create_wait_s=env.number("VOICEFN_VOICE_CREATE_WAIT_S", 45.0, minimum=0.0),
        **_chat_settings(env),
    )


def _chat_settings(env: _Env) -> dict[str, Any]:
    """The chat function's settings (issue 9), read like the others."""
    model_map: dict[str, str] = {}
    for item in env.items("VOICEFN_LLM_MODEL_MAP"):
        name, sep, upstream = item.partition("=")
        if not (sep and name.strip() and upstream.strip()):
            raise SettingsError("VOICEFN_LLM_MODEL_MAP", item, "comma-separated name=upstream-model pairs")
        model_map[name.strip()] = upstream.strip()
    base_url = env.text("VOICEFN_LLM_BASE_URL")
    return {
        "llm_base_url": base_url.rstrip("/") if base_url else None,
        "llm_api_key": env.text("VOICEFN_LLM_API_KEY"),
        "llm_model_map": model_map,
        "llm_default_model": env.text("VOICEFN_LLM_DEFAULT_MODEL", Settings.llm_default_model),
        "llm_timeout_s": env.number("VOICEFN_LLM_TIMEOUT_S", 60.0, minimum=0.001),
        "chat_tts_enabled": env.choice("VOICEFN_CHAT_TTS_ENABLED", ("true", "false", "1", "0"),
                                       "false") in ("true", "1"),
        "chat_tts_model": env.text("VOICEFN_CHAT_TTS_MODEL", Settings.chat_tts_model),
        "chat_tts_voice": env.text("VOICEFN_CHAT_TTS_VOICE"),
        "chat_tts_concurrency": env.whole("VOICEFN_CHAT_TTS_CONCURRENCY", 3, minimum=1),
        "chat_audio_wait_s": env.number("VOICEFN_CHAT_AUDIO_WAIT_S", 60.0, minimum=0.001),
        "chat_system_prompt": env.text("VOICEFN_CHAT_SYSTEM_PROMPT", Settings.chat_system_prompt),
        "realtime_max_s": env.number("VOICEFN_REALTIME_MAX_S", 590.0, minimum=0.001),
        "realtime_asr_model": env.text("VOICEFN_REALTIME_ASR_MODEL", Settings.realtime_asr_model),
        "realtime_vlm_model": env.text("VOICEFN_REALTIME_VLM_MODEL", Settings.realtime_vlm_model),
    }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The environment's settings, read once per process (FC instance)."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests that change the environment)."""
    get_settings.cache_clear()
