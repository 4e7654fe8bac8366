"""Every setting, read from the environment in one place.

Functions never read ``os.environ`` themselves: they call :func:`get_settings`, which is cached
per process (one FC instance), and tests call :func:`reset_settings` after changing the env.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


def _env_list(name: str, default: str = "") -> tuple[str, ...]:
    raw = _env(name, default) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _service_keys(raw: str | None) -> dict[str, str]:
    """``VOICEFN_SERVICE_KEYS="billing:sk-abc,crm:sk-def"`` -> {key: service name}."""
    keys: dict[str, str] = {}
    for item in (raw or "").split(","):
        name, sep, key = item.strip().partition(":")
        if sep and name and key:
            keys[key] = name
    return keys


@dataclass(frozen=True)
class Settings:
    # where we run: "local" (voicefn serve, tests) or "cloud" (FC)
    runtime: str = "local"
    data_dir: Path = Path(".voicefn")
    public_base_url: str = "http://127.0.0.1:8000"

    # auth
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    service_keys: dict[str, str] = field(default_factory=dict)

    # DashScope
    platform_api_key: str | None = None
    platform_key_users: tuple[str, ...] = ()
    dashscope_http_url: str = "https://dashscope.aliyuncs.com/api/v1"
    dashscope_ws_url: str = "wss://dashscope.aliyuncs.com/api-ws/v1/inference"
    dashscope_compat_url: str = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    upstream_timeout_s: float = 30.0
    upstream_retries: int = 2
    upstream_retry_budget_s: float = 20.0

    # secrets
    master_key: str | None = None
    callback_secret: str | None = None

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

    # product limits
    cors_origins: tuple[str, ...] = ("*",)
    tts_max_chars: int = 2000
    tts_long_max_chars: int = 200_000
    tts_long_concurrency: int = 4
    stream_queue_chunks: int = 32
    tts_ws_idle_timeout_s: float = 20.0  # a TTS WebSocket client silent this long is closed
    asr_task_deadline_s: int = 6 * 3600
    log_level: str = "INFO"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def local_key_file(self) -> Path:
        return self.data_dir / "master.key"


def load_settings() -> Settings:
    runtime = _env("VOICEFN_RUNTIME") or ("cloud" if _env("FC_FUNCTION_NAME") else "local")
    cloud = runtime == "cloud"
    return Settings(
        runtime=runtime,
        data_dir=Path(_env("VOICEFN_DATA_DIR", ".voicefn") or ".voicefn"),
        public_base_url=(_env("VOICEFN_PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
        jwt_secret=_env("VOICEFN_JWT_SECRET"),
        jwt_public_key=_env("VOICEFN_JWT_PUBLIC_KEY"),
        jwt_issuer=_env("VOICEFN_JWT_ISSUER"),
        jwt_audience=_env("VOICEFN_JWT_AUDIENCE"),
        service_keys=_service_keys(_env("VOICEFN_SERVICE_KEYS")),
        platform_api_key=_env("DASHSCOPE_API_KEY"),
        platform_key_users=_env_list("VOICEFN_PLATFORM_KEY_USERS"),
        dashscope_http_url=(_env("DASHSCOPE_HTTP_BASE_URL", Settings.dashscope_http_url) or "").rstrip("/"),
        dashscope_ws_url=(_env("DASHSCOPE_WEBSOCKET_BASE_URL", Settings.dashscope_ws_url) or "").rstrip("/"),
        dashscope_compat_url=(_env("DASHSCOPE_COMPATIBLE_BASE_URL", Settings.dashscope_compat_url) or "").rstrip("/"),
        upstream_timeout_s=_env_float("VOICEFN_UPSTREAM_TIMEOUT_S", 30.0),
        upstream_retries=_env_int("VOICEFN_UPSTREAM_RETRIES", 2),
        upstream_retry_budget_s=_env_float("VOICEFN_UPSTREAM_RETRY_BUDGET_S", 20.0),
        master_key=_env("VOICEFN_MASTER_KEY"),
        callback_secret=_env("VOICEFN_CALLBACK_SECRET"),
        object_store=_env("VOICEFN_OBJECT_STORE", "oss" if cloud else "local") or "local",
        state_store=_env("VOICEFN_STATE_STORE", "tablestore" if cloud else "sqlite") or "sqlite",
        invoker=_env("VOICEFN_INVOKER", "fc" if cloud else "inprocess") or "inprocess",
        oss_bucket=_env("OSS_BUCKET", "voicefn-local") or "voicefn-local",
        oss_endpoint=_env("OSS_ENDPOINT"),
        oss_public_endpoint=_env("OSS_PUBLIC_ENDPOINT"),
        ots_endpoint=_env("OTS_ENDPOINT"),
        ots_instance=_env("OTS_INSTANCE"),
        fc_account_id=_env("FC_ACCOUNT_ID"),
        fc_region=_env("FC_REGION"),
        fc_function_prefix=_env("VOICEFN_FUNCTION_PREFIX", "voicefn-") or "",
        cors_origins=_env_list("VOICEFN_CORS_ORIGINS", "*"),
        tts_max_chars=_env_int("VOICEFN_TTS_MAX_CHARS", 2000),
        tts_long_max_chars=_env_int("VOICEFN_TTS_LONG_MAX_CHARS", 200_000),
        tts_long_concurrency=_env_int("VOICEFN_TTS_LONG_CONCURRENCY", 4),
        stream_queue_chunks=_env_int("VOICEFN_STREAM_QUEUE_CHUNKS", 32),
        tts_ws_idle_timeout_s=_env_float("VOICEFN_TTS_WS_IDLE_TIMEOUT_S", 20.0),
        asr_task_deadline_s=_env_int("VOICEFN_ASR_TASK_DEADLINE_S", 6 * 3600),
        log_level=_env("VOICEFN_LOG_LEVEL", "INFO") or "INFO",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
