"""JSON-lines logging: fields, request id, idempotent setup, and redaction of secrets and audio."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from voicefn.logging import (JsonFormatter, bind_request_id, configure_logging, get_logger, get_request_id, redact,
                             request_id_var, reset_request_id)

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MDAwMDAwMDB9."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMDEyMzQ1Njc4OQ")
DASHSCOPE_KEY = "sk-0123456789abcdef0123456789abcdef"
AUDIO_B64 = base64.b64encode(bytes(range(256)) * 8).decode()


@pytest.fixture
def lines(capsys):
    configure_logging("DEBUG")

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.strip()]
    yield read
    configure_logging("INFO")


def test_line_shape_and_extras(lines) -> None:
    token = bind_request_id("req-123")
    try:
        get_logger("voicefn.test").info("synthesized %d chars", 42, extra={"model": "cosyvoice-v2", "bill": "0.0021"})
    finally:
        reset_request_id(token)
    (line,) = lines()
    assert line["level"] == "INFO" and line["logger"] == "voicefn.test"
    assert line["message"] == "synthesized 42 chars"
    assert line["request_id"] == "req-123"
    assert line["model"] == "cosyvoice-v2" and line["bill"] == "0.0021"
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_request_id_contextvar_helpers() -> None:
    assert get_request_id() is None
    outer = bind_request_id("a")
    inner = bind_request_id("b")
    assert request_id_var.get() == "b"
    reset_request_id(inner)
    assert get_request_id() == "a"
    reset_request_id(outer)
    assert get_request_id() is None


def test_configure_is_idempotent(lines) -> None:
    configure_logging("INFO")
    configure_logging("WARNING")
    root = logging.getLogger()
    assert len([h for h in root.handlers if getattr(h, "_voicefn", False)]) == 1
    assert root.level == logging.WARNING
    get_logger("x").info("hidden")
    get_logger("x").warning("shown")
    assert [line["message"] for line in lines()] == ["shown"]


def test_configure_replaces_plain_console_handlers() -> None:
    import sys

    root = logging.getLogger()
    stray = logging.StreamHandler(sys.stderr)
    root.addHandler(stray)
    try:
        configure_logging("INFO")
        assert stray not in root.handlers
    finally:
        root.removeHandler(stray)


def test_redacts_message(lines) -> None:
    log = get_logger("voicefn.test")
    log.info("auth header Authorization: Bearer %s", JWT)
    log.info("raw jwt %s in text", JWT)
    log.info("dashscope key %s used", DASHSCOPE_KEY)
    log.info("upstream said api_key=abc123 password: hunter2 token=t0k3n")
    log.info("payload %s", json.dumps({"audio": AUDIO_B64, "format": "mp3"}))
    log.info("data url data:audio/wav;base64,%s", AUDIO_B64[:100])
    text = json.dumps(lines())
    for secret in (JWT, JWT.split(".")[1], DASHSCOPE_KEY, "abc123", "hunter2", "t0k3n", AUDIO_B64[:100]):
        assert secret not in text, secret
    assert "mp3" in text and "<base64" in text and "sk-***" in text


def test_redacts_extra_fields(lines) -> None:
    get_logger("voicefn.test").info("request", extra={
        "headers": {"Authorization": f"Bearer {JWT}", "X-Api-Key": "k-1", "content-type": "application/json"},
        "api_key": DASHSCOPE_KEY, "password": "hunter2", "secret": "s", "token": "t",
        "access_token": "at", "body": {"audio_base64": AUDIO_B64, "text": "你好"},
        "raw": b"\x00\x01audio", "note": f"key {DASHSCOPE_KEY}", "input_tokens": 12,
    })
    (line,) = lines()
    assert line["headers"]["Authorization"] == "***" and line["headers"]["X-Api-Key"] == "***"
    assert line["headers"]["content-type"] == "application/json"
    for key in ("api_key", "password", "secret", "token", "access_token"):
        assert line[key] == "***", key
    assert line["body"]["text"] == "你好" and AUDIO_B64 not in json.dumps(line)
    assert line["raw"] == "<7 bytes>"
    assert line["note"] == "key sk-***"
    assert line["input_tokens"] == 12  # counts are not secrets


def test_redacts_tracebacks(lines) -> None:
    try:
        raise ValueError(f"bad key {DASHSCOPE_KEY} with Bearer {JWT}")
    except ValueError:
        get_logger("voicefn.test").exception("failed")
    (line,) = lines()
    assert "Traceback" in line["exc"] and "ValueError" in line["exc"]
    assert DASHSCOPE_KEY not in line["exc"] and JWT not in line["exc"]


def test_core_keys_cannot_be_overwritten_by_extras(lines) -> None:
    get_logger("voicefn.test").info("m", extra={"request_id": "forged", "level": "x"})
    (line,) = lines()
    assert line["request_id"] is None and line["extra_request_id"] == "forged"
    assert line["level"] == "INFO" and line["extra_level"] == "x"


def test_redact_keeps_ordinary_values() -> None:
    value = {"voice_id": "cosyvoice-v2-myvoice-abc", "key": "uploads/asr/u1/t1.wav",
             "url": "https://b.oss-cn-hangzhou.aliyuncs.com/audio/tts/x.mp3", "n": 3, "ok": True, "none": None}
    assert redact(value) == value
    signed = "https://b.oss.aliyuncs.com/a.mp3?OSSAccessKeyId=STS.x&Expires=1&Signature=abc%2F&security-token=CAIS"
    assert "abc%2F" not in redact(signed) and "CAIS" not in redact(signed) and "Expires=1" in redact(signed)


def test_bad_format_args_do_not_lose_the_line() -> None:
    record = logging.LogRecord("voicefn.test", logging.INFO, __file__, 1, "%d items", ("nan",), None)
    line = json.loads(JsonFormatter().format(record))
    assert "items" in line["message"] and line["level"] == "INFO"
