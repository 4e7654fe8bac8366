"""FcInvoker: the requests it makes. FC is not reachable here, so the real FC 3.0 SDK is pointed
at a loopback HTTP server that records what arrives (method, path, headers, body) and answers 202
as FC does for an async invocation."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from voicefn.invoke.base import Invoker
from voicefn.invoke.fc import FcInvokeError, FcInvoker, async_task_id
from voicefn.settings import Settings


class _Recorder:
    def __init__(self, status: int = 202, answer: bytes = b"") -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append({"path": self.path, "body": sent,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(status)
                self.send_header("x-fc-request-id", "1-fc-request")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    rec = _Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _invoker(recorder: _Recorder, **kwargs: Any) -> FcInvoker:
    return FcInvoker("1234567890", "cn-hangzhou", access_key_id="STS.key", access_key_secret="SECRET-VALUE",
                     security_token="sts-token", endpoint=recorder.endpoint, protocol="http", **kwargs)


async def test_async_invocation_request(recorder: _Recorder) -> None:
    invoker = _invoker(recorder)
    assert isinstance(invoker, Invoker)
    request_id = await invoker.invoke_async("asr-worker", {"bucket": "b", "key": "uploads/asr/语音.wav"},
                                            idempotency_key="task_123")
    assert request_id == "1-fc-request"
    [sent] = recorder.requests
    assert sent["path"] == "/2023-03-30/functions/asr-worker/invocations?qualifier=LATEST"
    assert sent["headers"]["x-fc-invocation-type"] == "Async"
    assert sent["headers"]["x-fc-async-task-id"] == "task_123"
    assert sent["headers"]["x-acs-security-token"] == "sts-token"  # role credentials carry their token
    assert sent["headers"]["authorization"].startswith("ACS3-HMAC-SHA256 Credential=STS.key,")
    assert "SECRET-VALUE" not in json.dumps(sent["headers"])
    assert json.loads(sent["body"]) == {"bucket": "b", "key": "uploads/asr/语音.wav"}


async def test_no_task_id_without_a_key_and_hashed_ids_for_rich_keys(recorder: _Recorder) -> None:
    invoker = _invoker(recorder, qualifier="prod")
    await invoker.invoke_async("voice-worker", {"a": 1})
    await invoker.invoke_async("voice-worker", {"a": 1}, idempotency_key="bucket/uploads/voice/a.wav/ETAG")
    first, second = recorder.requests
    assert "x-fc-async-task-id" not in first["headers"]
    assert first["path"].endswith("?qualifier=prod")
    task_id = second["headers"]["x-fc-async-task-id"]
    assert task_id == async_task_id("bucket/uploads/voice/a.wav/ETAG")
    assert task_id != async_task_id("bucket/uploads/voice/b.wav/ETAG")
    assert len(task_id) <= 64 and task_id.replace("-", "").replace("_", "").isalnum()


def test_request_objects() -> None:
    invoker = FcInvoker("1", "cn-shanghai", access_key_id="k", access_key_secret="s")
    assert invoker.endpoint == "1.cn-shanghai.fc.aliyuncs.com"
    request, headers = invoker.build_request({"x": "y"}, "abc")
    assert request.qualifier == "LATEST" and json.loads(request.body.read()) == {"x": "y"}
    assert headers.x_fc_invocation_type == "Async" and headers.x_fc_async_task_id == "abc"
    with pytest.raises(ValueError, match="128 KB"):
        invoker.build_request({"audio": "x" * (130 * 1024)})


async def test_a_refused_invocation_raises() -> None:
    # what FC answers for a function that does not exist
    rec = _Recorder(status=404, answer=b'{"Code":"FunctionNotFound","Message":"function not found","RequestId":"r1"}')
    try:
        invoker = _invoker(rec)
        with pytest.raises(FcInvokeError, match="FunctionNotFound"):
            await invoker.invoke_async("asr-worker", {})
    finally:
        rec.server.shutdown()
        rec.server.server_close()


def test_from_settings() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "k", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-VALUE",
           "ALIBABA_CLOUD_SECURITY_TOKEN": "t"}
    invoker = FcInvoker.from_settings(Settings(runtime="cloud", fc_account_id="42", fc_region="cn-beijing"), env)
    assert invoker.endpoint == "42.cn-beijing.fc.aliyuncs.com"
    assert "SECRET-VALUE" not in repr(invoker)
    with pytest.raises(RuntimeError):
        FcInvoker.from_settings(Settings(runtime="cloud"), env)
