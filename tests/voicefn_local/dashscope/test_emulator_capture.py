"""The emulator is spoken to exactly as the real SDK speaks: what it receives from SDK 2.0.2 equals
the reference capture (reference/dashscope_sdk_capture.jsonl), and replaying the capture works."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from dashscope import MultiModalConversation
from dashscope.audio.http_tts import HttpSpeechSynthesizer
from dashscope.audio.qwen_tts import SpeechSynthesizer as QwenSynthesizer
from dashscope.audio.tts_v2 import AudioFormat, ResultCallback, SpeechSynthesizer
from dashscope.common.error import RequestFailure

from tests.voicefn_local.dashscope.ds_helpers import WsSession, event_kind
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread

CAPTURE = Path(__file__).resolve().parents[2] / "data/reference/dashscope_sdk_capture.jsonl"
TTS_PATHS = ("/api/v1/services/audio/tts/SpeechSynthesizer",
             "/api/v1/services/aigc/multimodal-generation/generation")
# Headers whose value is fixed by the SDK (not by the machine, session or body length).
STABLE_HEADERS = ("accept", "content-type", "x-dashscope-sse", "x-accel-buffering",
                  "x-dashscope-sdk-client", "authorization")

pytestmark = pytest.mark.skipif(not CAPTURE.exists(), reason="reference capture not present")


def _capture() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CAPTURE.read_text().splitlines() if line.strip()]


def _without_task_id(message: dict[str, Any]) -> str:
    message = json.loads(json.dumps(message))
    message["header"].pop("task_id", None)
    return json.dumps(message, sort_keys=True, ensure_ascii=False)


def _stable(headers: dict[str, str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return {k: lowered[k] for k in STABLE_HEADERS if k in lowered}


class Recorder:
    """ASGI middleware keeping what reaches the emulator: WS text frames and TTS HTTP requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ws_texts: list[dict[str, Any]] = []
        self.ws_opens: list[dict[str, str]] = []
        self.http: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = {k.decode(): v.decode() for k, v in scope.get("headers", [])}
        if scope["type"] == "websocket":
            self.ws_opens.append(headers)

            async def recording_receive() -> Any:
                message = await receive()
                if message["type"] == "websocket.receive" and message.get("text"):
                    with self._lock:
                        self.ws_texts.append(json.loads(message["text"]))
                return message

            return await self.app(scope, recording_receive, send)
        if scope["type"] == "http" and scope["path"] in TTS_PATHS:
            chunks: list[bytes] = []

            async def body_receive() -> Any:
                message = await receive()
                if message["type"] == "http.request":
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        with self._lock:
                            self.http.append({"path": scope["path"], "headers": headers,
                                              "body": json.loads(b"".join(chunks))})
                return message

            return await self.app(scope, body_receive, send)
        return await self.app(scope, receive, send)


@pytest.fixture
def recorded(point_sdk) -> Any:  # type: ignore[no-untyped-def]
    recorder = Recorder(create_dashscope_app(EmulatorConfig(engine="deterministic")))
    with run_in_thread(recorder) as server:
        point_sdk(server)
        yield recorder


class _Callback(ResultCallback):
    pass


def _drive_the_sdk_like_the_capture() -> None:
    """The calls that produced the capture (reference §1, §5)."""
    SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang",
                      format=AudioFormat.PCM_22050HZ_MONO_16BIT,
                      instruction="请用广东话表达。").call("你好，世界。")
    streaming = SpeechSynthesizer(model="cosyvoice-v3-plus", voice="longanyang", callback=_Callback())
    streaming.streaming_call("第一句。")
    streaming.streaming_call("第二句。")
    streaming.streaming_complete()
    with pytest.raises(RequestFailure):
        SpeechSynthesizer(model="cosyvoice-v2", voice="fail").call("你好")
    with pytest.raises(RequestFailure):
        SpeechSynthesizer(model="cosyvoice-v3-flash", voice="fail",
                          callback=_Callback()).streaming_call("你好")
    SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("一。")
    assert MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="Cherry",
                                       language_type="Chinese").status_code == 200
    assert list(QwenSynthesizer.call(model="qwen3-tts-flash", text="你好", voice="Cherry",
                                     stream=True))[-1].status_code == 200
    assert HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="你好",
                                      voice="longanyang").status_code == 200
    assert list(HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="你好",
                                           voice="longanyang", stream=True))[-1].audio_url


def test_ws_messages_received_equal_the_capture(recorded: Recorder) -> None:
    _drive_the_sdk_like_the_capture()
    captured = {_without_task_id(e["data"]) for e in _capture() if e["kind"] == "ws-text"}
    received = {_without_task_id(m) for m in recorded.ws_texts}
    assert received == captured
    # every task's messages share one task_id (a 32-hex uuid4), as the SDK sends it
    assert all(len(m["header"]["task_id"]) == 32 for m in recorded.ws_texts)
    captured_open = next(e for e in _capture() if e["kind"] == "ws-open")
    assert all(_stable(h) == _stable(captured_open["headers"]) for h in recorded.ws_opens)
    assert all(h["user-agent"].startswith("dashscope/2.0.2;") for h in recorded.ws_opens)


def test_tts_http_requests_received_equal_the_capture(recorded: Recorder) -> None:
    _drive_the_sdk_like_the_capture()

    def key(entry: dict[str, Any]) -> str:
        return json.dumps([entry["path"], entry["body"], _stable(entry["headers"])], sort_keys=True,
                          ensure_ascii=False)

    captured = {key(e) for e in _capture()
                if e["kind"] == "http" and e["path"] in TTS_PATHS
                and "messages" not in (e.get("body") or {}).get("input", {})}  # ASR/VL aren't TTS
    received = {key(e) for e in recorded.http}
    assert received == captured


async def test_replaying_the_captured_sessions_works(emulator: ServerHandle) -> None:
    """Send each captured WS session verbatim; tasks succeed, and the voice 'fail' fails."""
    sessions: list[list[dict[str, Any]]] = []
    for entry in _capture():
        if entry["kind"] == "ws-open":
            sessions.append([])
        elif entry["kind"] == "ws-text":
            sessions[-1].append(entry["data"])
    assert sessions
    for messages in sessions:
        async with WsSession(emulator) as session:
            for message in messages:
                await session.send(message)
            voice = messages[0]["payload"]["parameters"]["voice"]
            last = (await session.until("task-failed" if voice == "fail" else "task-finished"))[-1]
            assert last["header"]["task_id"] == messages[0]["header"]["task_id"]
            if voice != "fail":
                assert event_kind(last) == "task-finished"
                assert last["payload"]["usage"]["characters"] > 0
