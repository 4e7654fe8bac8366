"""current_principal on HTTP and WebSocket routes (header or ?token= on WebSockets)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from voicefn.auth.jwt import issue_token

from voicefn.settings import Settings

# the values the `env` fixture (conftest.py) puts in the environment
JWT_SECRET = "test-secret-for-hs256-0123456789abcdef"
SERVICE_KEY = "svc-key-0123456789"


@pytest.fixture
def client(app, env: Settings) -> TestClient:
    assert env.jwt_secret == JWT_SECRET and env.service_keys == {SERVICE_KEY: "billing"}
    return TestClient(app)


def test_http_bearer_jwt(client: TestClient) -> None:
    resp = client.get("/api/audio/me", headers={"Authorization": f"Bearer {issue_token('u1', JWT_SECRET)}"})
    assert resp.status_code == 200
    assert resp.json()["data"] == {"user_id": "u1", "kind": "user", "service": None}


def test_http_service_key_acting_user(client: TestClient) -> None:
    resp = client.get("/api/audio/me", headers={"Authorization": f"Bearer {SERVICE_KEY}",
                                                 "X-Voicefn-User": "wx:openid-123"})
    assert resp.json()["data"] == {"user_id": "wx:openid-123", "kind": "service", "service": "billing"}
    resp = client.get("/api/audio/me", headers={"Authorization": f"Bearer {SERVICE_KEY}",
                                                 "X-Voicefn-User": "bad user"})
    assert resp.status_code == 400 and resp.json()["error"] == "INVALID_PARAMETER"


def test_http_missing_or_bad_token(client: TestClient) -> None:
    resp = client.get("/api/audio/me")
    assert resp.status_code == 401
    assert resp.json()["error"] == "UNAUTHORIZED" and "Authorization" in resp.json()["message"]
    resp = client.get("/api/audio/me", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    expired = issue_token("u1", JWT_SECRET, ttl_s=-3600)
    resp = client.get("/api/audio/me", headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401 and "expired" in resp.json()["message"]


def test_http_query_token_is_not_accepted(client: TestClient) -> None:
    # ?token= is only for WebSockets (it ends up in proxies' access logs)
    resp = client.get("/api/audio/me", params={"token": issue_token("u1", JWT_SECRET)})
    assert resp.status_code == 401


def test_websocket_token_via_query(client: TestClient) -> None:
    token = issue_token("ws-user", JWT_SECRET)
    with client.websocket_connect(f"/api/audio/ws?token={token}") as ws:
        assert ws.receive_json() == {"user_id": "ws-user", "kind": "user"}


def test_websocket_token_via_header(client: TestClient) -> None:
    with client.websocket_connect("/api/audio/ws", headers={"Authorization": f"Bearer {SERVICE_KEY}"}) as ws:
        assert ws.receive_json() == {"user_id": "service:billing", "kind": "service"}


def test_websocket_without_token_is_denied_with_route_format(client: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/api/audio/ws"):
            pass
    assert info.value.status_code == 401
    assert info.value.json()["error"] == "UNAUTHORIZED"
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/api/audio/ws?token=garbage"):
            pass
    assert info.value.status_code == 401


def test_websocket_unhandled_error_sends_error_frame_and_1011(client: TestClient) -> None:
    with client.websocket_connect("/v1/ws-boom", headers={"x-request-id": "ws-boom-1"}) as ws:
        frame = ws.receive_json()
        assert frame["error"]["code"] == "internal_error" and "ws-boom-1" in frame["error"]["message"]
        assert ws.receive() == {"type": "websocket.close", "code": 1011, "reason": "internal error"}
