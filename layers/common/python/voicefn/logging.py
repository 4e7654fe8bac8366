"""JSON-lines logging on stdout, with the request id on every line and secrets masked.

FC collects stdout per request; one JSON object per line keeps the lines machine-readable.
Every line passes through :func:`redact`, so a token, key or audio blob that slips into a
message or an ``extra=`` field never reaches the log store.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from typing import Any, TextIO

__all__ = [
    "request_id_var", "bind_request_id", "reset_request_id", "get_request_id",
    "configure_logging", "get_logger", "redact", "JsonFormatter",
]

# Set per request (web middleware) or per invocation (FC event entry).
request_id_var: ContextVar[str | None] = ContextVar("voicefn_request_id", default=None)


def bind_request_id(rid: str | None) -> Token[str | None]:
    return request_id_var.set(rid)


def reset_request_id(token: Token[str | None]) -> None:
    request_id_var.reset(token)


def get_request_id() -> str | None:
    return request_id_var.get()


# ---------------------------------------------------------------------------------------------
# redaction

MASK = "***"
_BASE64_MIN = 200  # shorter runs are ids and hashes; audio is far longer

_SENSITIVE_NAMES = frozenset({
    "authorization", "proxy_authorization", "api_key", "apikey", "x_api_key", "password",
    "passwd", "secret", "token", "access_token", "refresh_token", "id_token", "jwt",
    "client_secret", "access_key_secret", "security_token", "cookie", "set_cookie",
    "master_key", "private_key", "dashscope_api_key", "signature",
})
_SENSITIVE_SUFFIXES = ("_token", "_secret", "_password", "_api_key", "_apikey", "_signature")

_SENSITIVE_WORDS = (r"authorization|api[_-]?key|apikey|password|passwd|secret|access[_-]?token|"
                    r"refresh[_-]?token|id[_-]?token|security[_-]?token|token|signature")
_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    # data URLs carrying audio/images: keep the media type, drop the payload
    (re.compile(r"(data:[\w.+-]+/[\w.+-]+(?:;[\w=.-]+)*;base64,)[A-Za-z0-9+/=_-]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # JWT: base64url JSON header ("eyJ") and two more parts (the last may be empty: alg none)
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # DashScope / OpenAI style keys
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), "sk-" + MASK),
    # key=value / "key": "value" pairs whose name says secret
    (re.compile(r"(?i)(\b[\w-]*?(?:" + _SENSITIVE_WORDS + r")[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\*\*\*)(?:bearer\s+)?[^\s\"',;&}]+"), r"\1" + MASK),
    # long base64 runs: audio
    (re.compile(r"[A-Za-z0-9+/_-]{%d,}={0,2}" % _BASE64_MIN),
     lambda m: f"<base64 {len(m.group(0))} chars>"),
)


def _sensitive_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    return k in _SENSITIVE_NAMES or k.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """Mask secrets in strings, and whole values under secret-sounding keys, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"  # raw bytes are audio or worse: never log them
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _depth > 8:
        return "<nested>"
    if isinstance(value, dict):
        return {str(k): (MASK if _sensitive_key(str(k)) and v not in (None, "") else redact(v, _depth + 1))
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v, _depth + 1) for v in value]
    return redact_text(str(value))


# ---------------------------------------------------------------------------------------------
# formatting

# attributes every LogRecord has; anything else came from ``extra=``
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName"}
_CORE_KEYS = ("time", "level", "logger", "message", "request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(message),
            "request_id": request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRS or key.startswith("_"):
                continue
            name = f"extra_{key}" if key in _CORE_KEYS else key
            out[name] = MASK if _sensitive_key(key) and value not in (None, "") else redact(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["exc"] = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.exc_text:
            out["exc"] = redact_text(record.exc_text)
        if record.stack_info:
            out["stack"] = redact_text(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (FC, uvicorn and pytest swap it)."""

    _voicefn = True

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _is_console_handler(handler: logging.Handler) -> bool:
    # plain console handlers (FC's runtime, basicConfig) would print every line twice;
    # subclasses (pytest's capture handlers, files) are left alone.
    return type(handler) is logging.StreamHandler and getattr(handler, "stream", None) in (
        sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON handler on the root logger once; later calls only change the level."""
    root = logging.getLogger()
    numeric = logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    for handler in [h for h in root.handlers if _is_console_handler(h)]:
        root.removeHandler(handler)
    if not any(getattr(h, "_voicefn", False) for h in root.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(numeric)
    # uvicorn's own loggers propagate to root so they come out as JSON too
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
