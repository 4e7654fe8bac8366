"""Helpers for the ASR emulator tests (no tests here): audio, a file server, task polling, WER."""

from __future__ import annotations

import base64
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx

from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone
from voicefn_local.servers import ServerHandle

KEY = {"Authorization": "Bearer sk-test"}
ASYNC = {**KEY, "X-DashScope-Async": "enable"}
MULTIMODAL = "/api/v1/services/aigc/multimodal-generation/generation"
TRANSCRIPTION = "/api/v1/services/audio/asr/transcription"


def tone_pcm(seconds: float, rate: int = 16000, freq: float = 440.0) -> bytes:
    return tone(seconds, rate, freq)


def wav(pcm: bytes, rate: int = 16000) -> bytes:
    return encode_pcm(pcm, "wav", rate)


def data_uri(data: bytes, mime: str = "audio/wav") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def asr_body(audio: str, model: str = "qwen3-asr-flash", **options: Any) -> dict[str, Any]:
    """A sync ASR request exactly as SDK 2.0.2 sends it (reference capture)."""
    params: dict[str, Any] = {"asr_options": options, "result_format": "message"} if options else {}
    return {"model": model, "parameters": params,
            "input": {"messages": [{"role": "user", "content": [{"audio": audio}]}]}}


def set_scripts(server: ServerHandle, scripts: dict[str, str]) -> None:
    from voicefn_local.dashscope.admin_token import admin_headers

    response = httpx.post(f"{server.base_url}/_admin/asr-scripts", json=scripts,
                          headers=admin_headers(server.app.state.emulator.config.admin_token))
    assert response.status_code == 200, response.text


def get_task(server: ServerHandle, task_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/api/v1/tasks/{task_id}", headers=KEY)
    assert response.status_code == 200, response.text
    return response.json()


def wait_task(server: ServerHandle, task_id: str, statuses: tuple[str, ...] = ("SUCCEEDED", "FAILED"),
              timeout: float = 20.0) -> dict[str, Any]:
    """Poll (every 20 ms, faster than the SDK's 1 s) until the task is in one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        body = get_task(server, task_id)
        if body["output"]["task_status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"task still {body['output']['task_status']}"
        time.sleep(0.02)


def submit(server: ServerHandle, body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    response = httpx.post(f"{server.base_url}{TRANSCRIPTION}", json=body, headers=headers or ASYNC)
    assert response.status_code == 200, response.text
    return response.json()["output"]["task_id"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words, divided by the reference's length."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


class FileServer:
    """Serves bytes at ``/{name}`` on loopback (the "public URLs" transcription tasks fetch);
    outlives the emulators of a test, so a restarted emulator can still fetch."""

    def __init__(self) -> None:
        files: dict[str, bytes] = {}
        self.files = files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                data = files.get(self.path.lstrip("/"))
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def put(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return self.url(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FileServer":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
