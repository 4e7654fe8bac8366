"""Unknown paths, /health and 429s, as clients of each seed see them (issue 7)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.stack import Stack


@pytest.mark.parametrize("path, fmt", [
    ("/api/audio/nope", "envelope"), ("/api/audio/tts/nope", "envelope"), ("/api/audio/voice/x/y", "envelope"),
    ("/v1/nope", "openai"), ("/v1/audio/nope", "openai"),
    ("/api/tts/nope/x", "seed000"),
])
def test_unknown_paths_answer_in_their_familys_format(stack: Stack, path: str, fmt: str) -> None:
    with stack.client("unknown-paths") as client:
        response = client.get(path)
    assert response.status_code == 404
    body = response.json()
    assert "detail" not in body
    if fmt == "envelope":
        assert body["code"] == 404 and body["error"] == "NOT_FOUND" and body["data"] is None
    elif fmt == "openai":
        assert body["error"]["type"] == "not_found_error" and body["error"]["code"] == "not_found"
    else:
        assert body["error"] == "NOT_FOUND" and body["message"]


def test_a_method_the_gateway_does_not_route_answers_in_format(stack: Stack) -> None:
    with stack.client("unrouted-method") as client:
        response = client.delete("/api/audio/tts/models")
    assert response.status_code == 405 and response.json()["error"] == "METHOD_NOT_ALLOWED"


def test_health_keeps_status_ok_and_adds_a_timestamp(stack: Stack) -> None:
    body = httpx.get(f"{stack.base_url}/health").json()
    assert body["status"] == "ok"
    assert datetime.fromisoformat(body["timestamp"]).utcoffset().total_seconds() == 0


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("path, body", [
    ("/api/audio/tts/synthesize", {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "throttled"}),
    ("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "throttled"}),
])
def test_a_429_carries_retry_after(stack: Stack, path: str, body: dict) -> None:
    stack.set_faults([{"match": {"text_contains": "throttled"}, "fault": {"kind": "throttle"}}])
    with stack.client("throttled-user") as client:
        response = client.post(path, json=body)
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("path, body, code", [
    # an output format we do not offer: INVALID_PARAMETER naming the field, on every route
    ("/api/audio/tts/synthesize", {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "x",
                                   "format": "aac"}, "INVALID_PARAMETER"),
    ("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "x", "response_format": "aac"},
     "invalid_parameter"),
    # an input that is not audio we accept: INVALID_AUDIO (seed 003), uploads included
    ("/api/audio/uploads", {"purpose": "asr", "filename": "a.mp4", "size": 1000, "content_type": "video/mp4"},
     "INVALID_AUDIO"),
    ("/api/audio/asr/recognize", {"model": "qwen3-asr-flash", "audio_base64": "aGVsbG8="}, "INVALID_AUDIO"),
])
def test_one_error_code_per_case(stack: Stack, path: str, body: dict, code: str) -> None:
    with stack.client("error-codes") as client:
        response = client.post(path, json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    got = payload["error"]["code"] if path.startswith("/v1/") else payload["error"]
    assert got == code
