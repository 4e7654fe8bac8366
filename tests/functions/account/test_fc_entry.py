"""The account function as FC runs it: index.handler with FC3 HTTP events (reference sample)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.stack import Stack, function_handler

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "tests" / "voicefn" / "web" / "fc3_events" / "event-http.json"


def load_handler():
    return function_handler("account")


def event(method: str, path: str, headers: dict[str, str] | None = None, query: dict | None = None) -> bytes:
    sample = json.loads(SAMPLE.read_text())
    sample["rawPath"] = path
    sample["requestContext"]["http"].update({"method": method, "path": path})
    sample["headers"] = {"Accept": "application/json", **(headers or {})}
    sample["queryParameters"] = query or {}
    sample["body"] = ""
    return json.dumps(sample).encode()  # FC hands the event over as bytes


def body_of(response: dict) -> dict:
    raw = response["body"]
    return json.loads(base64.b64decode(raw) if response.get("isBase64Encoded") else raw)


def test_health_through_the_fc_event_entry(stack: Stack) -> None:
    response = load_handler()(event("GET", "/health"), None)
    assert response["statusCode"] == 200 and body_of(response)["status"] == "ok"


@pytest.mark.usefixtures("no_faults")
def test_history_through_the_fc_event_entry(stack: Stack) -> None:
    with stack.client("fc-user") as client:
        client.post("/api/audio/tts/synthesize",
                    json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "函数计算入口。"})
    handler = load_handler()
    ok = handler(event("GET", "/api/audio/history", stack.headers("fc-user"), {"type": "tts"}), None)
    denied = handler(event("GET", "/api/audio/history"), None)
    assert ok["statusCode"] == 200
    data = body_of(ok)["data"]
    assert data["total"] == 1 and data["items"][0]["type"] == "tts"
    assert denied["statusCode"] == 401 and body_of(denied)["error"] == "UNAUTHORIZED"
