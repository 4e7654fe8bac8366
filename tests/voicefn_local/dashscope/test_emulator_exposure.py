"""The embedded DashScope shares `voicefn serve`'s port (issue 7): its admin routes need the local
admin token, and under `voicefn serve` it fetches only the local object store's files."""

from __future__ import annotations

import httpx
import pytest

from tests.stack import Stack, admin_headers
from tests.voicefn_local.dashscope.ds_helpers import admin
from voicefn_local.cli import exposure_warning

KEY = {"Authorization": "Bearer sk-exposure-test"}
MULTIMODAL = "/api/v1/services/aigc/multimodal-generation/generation"


def asr_call(url: str) -> dict:
    return {"model": "qwen3-asr-flash", "parameters": {},
            "input": {"messages": [{"role": "user", "content": [{"audio": url}]}]}}


@pytest.mark.parametrize("path", ["/_admin/stats", "/_admin/faults", "/_admin/asr-scripts"])
def test_admin_routes_need_the_token(emulator, path: str) -> None:
    url = f"{emulator.base_url}{path}"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"X-Voicefn-Admin-Token": "guess"}).status_code == 401
    assert httpx.get(url, headers={"X-Voicefn-Admin-Token": ""}).status_code == 401
    assert httpx.get(url, headers=admin(emulator)).status_code == 200


def test_the_served_emulators_token_is_in_the_data_dir(stack: Stack) -> None:
    url = f"{stack.base_url}/dashscope/_admin/faults"
    assert httpx.post(url, json=[{"fault": {"kind": "error"}}]).status_code == 401
    assert httpx.get(url, headers=admin_headers(stack.data_dir)).status_code == 200
    token = (stack.data_dir / "dashscope" / "admin.token")
    assert token.stat().st_mode & 0o077 == 0          # readable by its owner only


@pytest.mark.parametrize("target", ["/health", "/dashscope/_admin/stats", "/_objects/../health"])
def test_the_served_emulator_fetches_nothing_but_the_object_store(stack: Stack, target: str) -> None:
    response = httpx.post(f"{stack.base_url}/dashscope{MULTIMODAL}", headers=KEY,
                          json=asr_call(f"{stack.base_url}{target}"))
    assert response.status_code == 400, response.text
    assert "local object store" in response.json()["message"]


@pytest.mark.usefixtures("no_faults")
def test_the_served_emulator_still_reads_signed_objects(stack: Stack) -> None:
    with stack.client("exposure-user") as client:
        url = client.post("/api/audio/tts/synthesize", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "Objects are fine.",
            "format": "wav", "sample_rate": 16000}).json()["data"]["audio_url"]
    response = httpx.post(f"{stack.base_url}/dashscope{MULTIMODAL}", headers=KEY, json=asr_call(url))
    assert response.status_code == 200, response.text


def test_serve_warns_loudly_off_loopback() -> None:
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    warning = exposure_warning("0.0.0.0")
    assert warning is not None and "WARNING" in warning and "0.0.0.0" in warning
