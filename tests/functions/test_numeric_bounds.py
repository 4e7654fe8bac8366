"""Every numeric query and body field is bounded: huge numbers are a 400, never a 500 (issue 7)."""

from __future__ import annotations

import pytest

from tests.stack import Stack

HUGE = ["9223372036854775808", "-9223372036854775809", "1" + "0" * 40, "1e999", "-1e999"]

TTS = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "Numbers."}
CASES = [
    # (method, path, JSON body template with NUM, or a query string with NUM)
    ("GET", "/api/audio/history?page=NUM", None),
    ("GET", "/api/audio/history?page_size=NUM", None),
    ("POST", "/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "x", '
                                          '"sample_rate": NUM}'),
    ("POST", "/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "x", '
                                          '"volume": NUM}'),
    ("POST", "/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "x", '
                                          '"speech_rate": NUM}'),
    ("POST", "/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "x", '
                                          '"pitch_rate": NUM}'),
    ("POST", "/api/audio/tts/synthesize-long", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", '
                                               '"text": "x", "volume": NUM}'),
    ("POST", "/v1/audio/speech", '{"model": "tts-1", "voice": "alloy", "input": "x", "speed": NUM}'),
    ("POST", "/api/audio/asr/transcribe", '{"model": "qwen3-asr-flash-filetrans", '
                                          '"file_url": "http://93.184.216.34/a.wav", "channel_id": [NUM]}'),
    ("POST", "/api/audio/uploads", '{"purpose": "asr", "filename": "a.wav", "size": NUM}'),
]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("method, path, body", CASES)
def test_huge_numbers_are_refused_with_400(stack: Stack, method: str, path: str, body: str | None,
                                           number: str) -> None:
    with stack.client("huge-numbers") as client:
        if body is None:
            response = client.request(method, path.replace("NUM", number))
        else:
            response = client.request(method, path, content=body.replace("NUM", number).encode(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload.get("code") == 400 or "error" in payload
