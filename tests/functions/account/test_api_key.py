"""The user's own DashScope API key: set, replace, status, delete; encrypted at rest."""

from __future__ import annotations

import pytest

from tests.stack import Stack

def test_set_status_replace_delete(stack: Stack) -> None:
    with stack.client("key-user") as client:
        empty = client.get("/api/audio/settings/api-key").json()["data"]
        set_ = client.put("/api/audio/settings/api-key", json={"api_key": "sk-user-secret-1234"}).json()["data"]
        replaced = client.put("/api/audio/settings/api-key", json={"api_key": "sk-user-secret-9999"}).json()["data"]
        status = client.get("/api/audio/settings/api-key").json()["data"]
        deleted = client.delete("/api/audio/settings/api-key").json()["data"]
        bad = client.put("/api/audio/settings/api-key", json={"api_key": "not a key"})
    assert empty["configured"] is False
    assert set_["configured"] is True and set_["masked_key"].endswith("1234") and "secret" not in set_["masked_key"]
    assert replaced["masked_key"].endswith("9999")
    assert status["effective_source"] == "user"
    assert deleted["configured"] is False
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_PARAMETER"

def test_key_is_encrypted_at_rest(stack: Stack) -> None:
    secret = "sk-at-rest-check-abcdef123456"
    with stack.client("rest-user") as client:
        assert client.put("/api/audio/settings/api-key", json={"api_key": secret}).status_code == 200
    raw = b""
    for path in stack.data_dir.rglob("*"):
        if path.is_file():
            raw += path.read_bytes()
    assert secret.encode() not in raw

@pytest.mark.usefixtures("no_faults")
def test_a_user_key_lets_a_user_synthesize_without_the_platform_key(stack: Stack, settings_override) -> None:
    settings_override(platform_key_users=("nobody",))
    with stack.client("own-key-user") as client:
        refused = client.post("/api/audio/tts/synthesize",
                              json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "自己的密钥。"})
        client.put("/api/audio/settings/api-key", json={"api_key": "sk-own-key-5678"})
        allowed = client.post("/api/audio/tts/synthesize",
                              json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "自己的密钥。"})
    assert refused.status_code == 403 and refused.json()["error"] == "NO_API_KEY"
    assert allowed.status_code == 200, allowed.text

@pytest.mark.usefixtures("no_faults")
def test_an_invalid_user_key_is_unauthorized(stack: Stack) -> None:
    with stack.client("bad-key-user") as client:
        client.put("/api/audio/settings/api-key", json={"api_key": "sk-invalid"})
        response = client.post("/api/audio/tts/synthesize",
                               json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "无效密钥。"})
    assert response.status_code == 401 and response.json()["error"] == "UNAUTHORIZED"
