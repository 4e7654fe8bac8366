"""Every error is rendered in its route's format with the right status, and never as a bare 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def test_health_needs_no_auth(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/health" in spec["paths"] and "/api/audio/x" in spec["paths"]


def test_success_envelope(client: TestClient) -> None:
    resp = client.post("/api/audio/x", json={"text": "hi"})
    assert resp.json() == {"code": 200, "message": "success", "data": {"text": "hi", "count": 1}}


@pytest.mark.parametrize("code,status", [("VOICE_NOT_FOUND", 404), ("NO_API_KEY", 403),
                                         ("UPSTREAM_ERROR", 502), ("TEXT_TOO_LONG", 400)])
def test_api_error_in_envelope_format(client: TestClient, code: str, status: int) -> None:
    resp = client.get(f"/api/audio/raise/{code}")
    assert resp.status_code == status
    assert resp.json() == {"code": status, "message": f"raised {code}", "error": code, "data": None}


def test_api_error_in_openai_format(client: TestClient) -> None:
    resp = client.get("/v1/raise/UNAUTHORIZED")
    assert resp.status_code == 401
    assert resp.json() == {"error": {"message": "raised UNAUTHORIZED", "type": "authentication_error",
                                     "param": None, "code": "unauthorized"}}


def test_api_error_in_seed000_format(client: TestClient) -> None:
    resp = client.get("/api/tts/raise/TEXT_TOO_LONG")
    assert resp.status_code == 400
    assert resp.json() == {"error": "TEXT_TOO_LONG", "message": "raised TEXT_TOO_LONG", "code": "TextTooLong"}


def test_retry_after_header(client: TestClient) -> None:
    resp = client.get("/v1/raise/RATE_LIMITED")
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "3"  # 2.5 s rounded up
    assert resp.json()["error"]["type"] == "rate_limit_error"


def test_validation_error_names_the_field(client: TestClient) -> None:
    resp = client.post("/api/audio/x", json={"text": "hi", "count": "many"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == 400 and body["error"] == "INVALID_PARAMETER"
    assert "count" in body["message"] and "integer" in body["message"]

    resp = client.post("/v1/x", json={"count": 2})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["param"] == "text" and err["code"] == "invalid_parameter"
    assert err["type"] == "invalid_request_error"
    assert "missing" in err["message"] and "text" in err["message"]

    resp = client.post("/api/tts", json={"text": ""})
    assert resp.status_code == 400
    assert resp.json()["code"] == "InvalidParameter" and "text" in resp.json()["message"]


def test_query_validation_error(client: TestClient) -> None:
    resp = client.get("/api/audio/x", params={"page": "two"})
    assert resp.status_code == 400
    assert "query parameter 'page'" in resp.json()["message"]


def test_malformed_json_is_invalid_parameter(client: TestClient) -> None:
    for path in ("/api/audio/x", "/v1/x", "/api/tts"):
        resp = client.post(path, content=b'{"text": "hi",', headers={"content-type": "application/json"})
        assert resp.status_code == 400, path
        assert "not valid JSON" in json.dumps(resp.json())
    resp = client.post("/v1/x", content=b"{", headers={"content-type": "application/json"})
    assert resp.json()["error"]["param"] == "body"


@pytest.mark.parametrize("body,ctype", [
    (b"\xff\xfe\x00garbage", "application/json"),   # not UTF-8
    (b'"just a string"', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"null", "application/json"),
    (b'{"text": {"nested": [1, {"x": null}]}, "count": 1e400}', "application/json"),
    (b'{"text": "' + b"a" * 10000 + b'", "count": "99999999999999999999999999x"}', "application/json"),
    (b"text=hi", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
    (b"hello", "text/plain"),
])
def test_bad_input_never_500(client: TestClient, body: bytes, ctype: str) -> None:
    for path in ("/api/audio/x", "/v1/x", "/api/tts"):
        resp = client.post(path, content=body, headers={"content-type": ctype})
        assert 400 <= resp.status_code < 500, (path, body[:40], resp.status_code, resp.text)
        assert resp.headers["content-type"].startswith("application/json")


def test_unhandled_exception_is_a_500_with_request_id(client: TestClient, capsys) -> None:
    resp = client.get("/api/audio/boom", headers={"X-Request-Id": "req-boom-1"})
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"] == "INTERNAL_ERROR" and body["code"] == 500
    assert "req-boom-1" in body["message"]
    assert "Traceback" not in resp.text and "kaboom" not in resp.text and "sk-" not in resp.text
    assert resp.headers["x-request-id"] == "req-boom-1"

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    error = next(line for line in lines if line["message"] == "unhandled error")
    assert error["request_id"] == "req-boom-1" and error["level"] == "ERROR"
    assert "Traceback" in error["exc"] and "kaboom" in error["exc"]
    assert "sk-abcdefghijklmnop" not in json.dumps(error)


def test_unhandled_exception_formats(client: TestClient) -> None:
    v1 = client.get("/v1/boom").json()
    assert v1["error"]["type"] == "server_error" and v1["error"]["code"] == "internal_error"
    seed = client.get("/api/tts/boom").json()
    assert seed["error"] == "INTERNAL_ERROR" and seed["code"] == "InternalError"


def test_not_found_in_each_format(client: TestClient) -> None:
    resp = client.get("/api/audio/nope")
    assert resp.status_code == 404
    assert resp.json() == {"code": 404, "message": "not found: /api/audio/nope", "error": "NOT_FOUND", "data": None}
    resp = client.get("/v1/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "not_found_error" and resp.json()["error"]["code"] == "not_found"
    resp = client.get("/api/tts/nope/deeper")
    assert resp.status_code == 404 and resp.json()["error"] == "NOT_FOUND"


def test_method_not_allowed_in_each_format(client: TestClient) -> None:
    resp = client.delete("/api/audio/x")
    assert resp.status_code == 405
    assert resp.json()["error"] == "METHOD_NOT_ALLOWED" and resp.json()["code"] == 405
    assert "POST" in resp.headers["allow"]  # Starlette lists the first matching route's methods
    resp = client.get("/v1/x")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed"
    resp = client.get("/api/tts")
    assert resp.status_code == 405 and resp.json()["error"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("status,code,http", [(429, "RATE_LIMITED", 429), (500, "UPSTREAM_ERROR", 502),
                                              (408, "TIMEOUT", 504)])
def test_escaped_dashscope_errors_are_not_500(client: TestClient, status: int, code: str, http: int) -> None:
    resp = client.get(f"/api/audio/upstream/{status}")
    assert resp.status_code == http and resp.json()["error"] == code
    resp = client.get(f"/v1/upstream/{status}")
    openai_code = {"RATE_LIMITED": "rate_limit_exceeded"}.get(code, code.lower())  # OpenAI's own code
    assert resp.status_code == http and resp.json()["error"]["code"] == openai_code
