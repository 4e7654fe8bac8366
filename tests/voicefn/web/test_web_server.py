"""The web-function entry, and the middleware stack under a real uvicorn server on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from voicefn.auth.jwt import issue_token
from voicefn.web import server as web_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(app_factory) -> Iterator[tuple[str, object]]:
    app = app_factory(max_body_bytes=4096)
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_config=None, access_log=False,
                            ws="websockets-sansio", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{config.port}", app
    finally:
        server.should_exit = True
        thread.join(10)


def test_first_chunk_arrives_before_the_generator_finishes(live) -> None:
    addr, app = live
    release = threading.Event()
    app.state.stream_gate = lambda: release
    with httpx.Client(timeout=10) as client:
        with client.stream("GET", f"http://{addr}/api/audio/stream") as resp:
            assert resp.status_code == 200 and resp.headers["x-request-id"]
            assert resp.headers.get("transfer-encoding") == "chunked"
            chunks = resp.iter_raw()
            assert next(chunks) == b"first"      # the generator is still blocked on `release`
            assert not release.is_set()
            release.set()
            assert b"".join(chunks) == b"second"


def test_chunked_upload_over_limit_is_413(live) -> None:
    addr, _ = live

    def body():
        for _ in range(16):
            yield b"x" * 1024

    with httpx.Client(timeout=10) as client:
        resp = client.post(f"http://{addr}/api/audio/stream-read", content=body())
        assert resp.status_code == 413 and resp.json()["error"] == "PAYLOAD_TOO_LARGE"
        resp = client.post(f"http://{addr}/api/audio/echo", content=b"y" * 100)
        assert resp.status_code == 200 and resp.json()["data"]["size"] == 100


def test_websocket_query_token_on_real_server(live, env) -> None:
    addr, _ = live
    token = issue_token("ws-live", env.jwt_secret)
    with connect(f"ws://{addr}/api/audio/ws?token={token}") as ws:
        assert json.loads(ws.recv(timeout=5)) == {"user_id": "ws-live", "kind": "user"}
    with pytest.raises(InvalidStatus) as info:
        with connect(f"ws://{addr}/api/audio/ws"):
            pass
    assert info.value.response.status_code == 401
    assert json.loads(info.value.response.body)["error"] == "UNAUTHORIZED"


def test_serve_uses_fc_port_and_settings(monkeypatch) -> None:
    captured: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(app=app, **kw))
    monkeypatch.setenv("FC_CUSTOM_LISTEN_PORT", "9123")
    web_server.main(["voicefn_tts.app:create_app"])
    assert captured["app"] == "voicefn_tts.app:create_app"
    assert captured["factory"] is True and captured["host"] == "0.0.0.0" and captured["port"] == 9123
    assert captured["proxy_headers"] is True and captured["access_log"] is False
    assert captured["ws"].startswith("websockets")
    monkeypatch.delenv("FC_CUSTOM_LISTEN_PORT")
    assert web_server.listen_port() == 9000


def test_python_m_entry_serves_a_factory(tmp_path: Path, env) -> None:
    (tmp_path / "fnapp.py").write_text(
        "from voicefn.web.app import build_app\n\ndef create_app():\n    return build_app(title='fn')\n")
    port = _free_port()
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
                 "FC_CUSTOM_LISTEN_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "voicefn.web.server", "fnapp:create_app", "--host", "127.0.0.1"],
                            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/health", headers={"x-fc-request-id": "fc-live-1"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert resp.json()["status"] == "ok" and resp.headers["x-request-id"] == "fc-live-1"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(r.get("request_id") == "fc-live-1" and r["logger"] == "voicefn.access" for r in records), out
