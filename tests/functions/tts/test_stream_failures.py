"""A stream that fails upstream after its first bytes ends so that the client can tell
(issue 7): the chunked body is cut (no final chunk: httpx raises, curl exits non-zero), the
OpenAI SSE stream ends with an error event, and the TTS WebSocket sends an error event."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from websockets.sync.client import connect

from tests.functions.tts.test_stream_ws import ws_url
from tests.stack import Stack

TEXT = "".join(f"这是第{i}句用来测试中途失败的文本。" for i in range(20))
BODY = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": TEXT, "format": "pcm",
        "sample_rate": 16000, "stream": True}


@pytest.fixture
def upstream_fails_after_first_audio(stack: Stack, request: pytest.FixtureRequest):
    kind = getattr(request, "param", "drop")
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": {"kind": kind}}])
    yield kind
    stack.clear_faults()


@pytest.mark.parametrize("upstream_fails_after_first_audio", ["drop", "task_failed"], indirect=True)
def test_httpx_sees_a_broken_body_not_a_short_complete_one(stack: Stack,
                                                           upstream_fails_after_first_audio: str) -> None:
    received = 0
    with stack.client("broken-stream") as client:
        with client.stream("POST", "/api/audio/tts/synthesize", json=BODY) as response:
            assert response.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in response.iter_raw():
                    received += len(chunk)
    assert 0 < received < 0.2 * 2 * len(TEXT) * 2 * 16000  # some audio came, not all of it
    history = stack.client("broken-stream").get("/api/audio/history").json()["data"]
    assert history["total"] == 0  # not delivered, not billed


@pytest.mark.usefixtures("upstream_fails_after_first_audio")
def test_curl_exits_with_an_error_on_a_failed_stream(stack: Stack, tmp_path) -> None:
    out = tmp_path / "audio.pcm"
    result = subprocess.run(
        ["curl", "-sS", "-o", str(out), "-X", "POST", f"{stack.base_url}/api/audio/tts/synthesize",
         "-H", f"Authorization: Bearer {stack.token('curl-user')}", "-H", "Content-Type: application/json",
         "--data-binary", json.dumps(BODY), "--max-time", "60"],
        capture_output=True, text=True, timeout=90)
    assert result.returncode != 0, result.stderr  # 18: transfer closed with outstanding data
    assert out.exists() and out.stat().st_size > 0


@pytest.mark.usefixtures("upstream_fails_after_first_audio")
def test_openai_audio_stream_is_cut_too(stack: Stack) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": "Streaming audio that fails. " * 20,
            "response_format": "pcm"}
    with stack.client("broken-openai") as client:
        with client.stream("POST", "/v1/audio/speech", json=body) as response:
            assert response.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in response.iter_raw():
                    pass


@pytest.mark.parametrize("upstream_fails_after_first_audio", ["task_failed"], indirect=True)
def test_openai_sse_stream_ends_with_an_error_event(stack: Stack, upstream_fails_after_first_audio: str) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": "Streaming audio that fails. " * 20,
            "response_format": "pcm", "stream_format": "sse"}
    with stack.client("broken-sse") as client:
        with client.stream("POST", "/v1/audio/speech", json=body) as response:
            assert response.status_code == 200
            events = [json.loads(line[len("data: "):]) for line in response.iter_lines()
                      if line.startswith("data: ")]
    assert events[0]["type"] == "speech.audio.delta"
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "upstream_error" and events[-1]["error"]["message"]
    assert not any(e["type"] == "speech.audio.done" for e in events)


@pytest.mark.parametrize("upstream_fails_after_first_audio", ["drop", "task_failed"], indirect=True)
def test_the_websocket_gets_an_error_event(stack: Stack, upstream_fails_after_first_audio: str) -> None:
    audio = 0
    with connect(ws_url(stack, "broken-ws", format="pcm"), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send(json.dumps({"type": "text", "content": TEXT}))
        ws.send(json.dumps({"type": "end"}))
        while True:
            message = ws.recv(timeout=30)
            if isinstance(message, bytes):
                audio += len(message)
                continue
            final = json.loads(message)
            break
    assert final["type"] == "error" and final["code"] == "UPSTREAM_ERROR", final
    if upstream_fails_after_first_audio == "task_failed":
        assert audio > 0  # the error came after audio had been relayed
    # (a drop while we are still sending text resets the TCP connection, and the kernel may
    # discard the audio frame not yet read: then nothing was delivered and the upstream is
    # retried first, which is right; the error event comes either way)
