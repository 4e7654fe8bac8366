"""WS /api/audio/tts/stream (seed 003 §1.4)."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from tests.stack import Stack
from voicefn.audio.probe import audio_info
from voicefn.billing import billable_characters


def ws_url(stack: Stack, user: str, **params: str) -> str:
    query = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "format": "mp3", "token": stack.token(user)}
    query.update(params)
    return f"{stack.ws_url}/api/audio/tts/stream?" + "&".join(f"{k}={v}" for k, v in query.items())


@pytest.mark.usefixtures("no_faults")
def test_text_in_pieces_audio_back_and_a_complete_message(stack: Stack) -> None:
    pieces = ["你好，", "这是双向", "流式合成。", "Second sentence", " in English."]
    audio = b""
    with connect(ws_url(stack, "ws-user"), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        for piece in pieces:
            ws.send(json.dumps({"type": "text", "content": piece}))
        ws.send(json.dumps({"type": "end"}))
        while True:
            message = ws.recv(timeout=30)
            if isinstance(message, bytes):
                audio += message
                continue
            final = json.loads(message)
            break
    text = "".join(pieces)
    assert final["type"] == "complete"
    assert final["characters"] == billable_characters(text)
    info = audio_info(audio)
    assert info.format == "mp3"
    assert final["duration"] == pytest.approx(info.duration, abs=0.1)
    assert stack.fetch(final["audio_url"]) == audio


def test_bad_connection_parameters_get_an_error_message(stack: Stack) -> None:
    with connect(ws_url(stack, "ws-user", voice="nobody"), open_timeout=10) as ws:
        error = json.loads(ws.recv(timeout=10))
    assert error == {"type": "error", "code": "INVALID_VOICE", "message": error["message"]}


def test_unauthenticated_socket_is_refused_with_an_error(stack: Stack) -> None:
    url = f"{stack.ws_url}/api/audio/tts/stream?model=cosyvoice-v3-flash&voice=longanyang"
    with connect(url, open_timeout=10) as ws:
        error = json.loads(ws.recv(timeout=10))
    assert error["type"] == "error" and error["code"] == "UNAUTHORIZED"


@pytest.mark.usefixtures("no_faults")
def test_garbage_messages_get_an_error_not_a_crash(stack: Stack) -> None:
    with connect(ws_url(stack, "ws-user"), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send("not json")
        error = json.loads(ws.recv(timeout=10))
    assert error["type"] == "error" and error["code"] == "INVALID_PARAMETER"


def test_a_client_that_sends_nothing_is_closed_with_an_error_event(stack: Stack, env_override) -> None:
    import time

    from tests.stack import apply_env

    apply_env({"VOICEFN_TTS_WS_IDLE_TIMEOUT_S": "0.5"})
    with connect(ws_url(stack, "idle-user"), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send(json.dumps({"type": "text", "content": "说了一半"}))
        started = time.monotonic()
        error = json.loads(ws.recv(timeout=10))
        waited = time.monotonic() - started
    assert error["type"] == "error" and error["code"] == "TIMEOUT", error
    assert 0.4 < waited < 5


@pytest.mark.parametrize("message", [
    "[" * 100_000 + "]" * 100_000,                                   # the attack from issue 7
    json.dumps({"type": "text", "content": [[[[[[[[[["deep"]]]]]]]]]]}),  # small, but nested
    json.dumps({"type": "text", "content": "x" * 70_000}),             # over the message size
])
def test_oversized_or_deeply_nested_messages_get_the_routes_error_event(stack: Stack, message: str) -> None:
    with connect(ws_url(stack, "ws-user"), open_timeout=10, max_size=None) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send(message)
        error = json.loads(ws.recv(timeout=10))
        with pytest.raises(Exception):  # then the server closes (1008), not 1011
            ws.recv(timeout=10)
        close_code = ws.close_code
    assert error["type"] == "error" and error["code"] == "INVALID_PARAMETER", error
    assert close_code == 1008
