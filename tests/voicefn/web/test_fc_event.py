"""The FC 3.0 event entry, driven by the reference sample events."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from voicefn.web.fc3_http import fc3_to_apigw_v2
from voicefn.web.fc_event import NoOssHandlerError, make_event_handler

# copies of reference/fc3/event-http.json and event-oss.json (the devsapp/fc3 sample events)
REF = Path(__file__).parent / "fc3_events"
HTTP_EVENT = json.loads((REF / "event-http.json").read_text())
OSS_EVENT_RAW = (REF / "event-oss.json").read_bytes()


def http_event(method: str, path: str, *, body: str = "", b64: bool = False,
               query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The sample HTTP-trigger event, pointed at another route."""
    ev = copy.deepcopy(HTTP_EVENT)
    ev["rawPath"] = path
    ev["requestContext"]["http"]["method"] = method
    ev["requestContext"]["http"]["path"] = path
    ev["body"] = body
    ev["isBase64Encoded"] = b64
    ev["queryParameters"] = query or {}
    if headers is not None:
        ev["headers"] = {**ev["headers"], **headers}
    return ev


def ctx(request_id: str = "fc-req-1") -> SimpleNamespace:
    return SimpleNamespace(request_id=request_id, function=SimpleNamespace(name="voice-tts"))


@pytest.fixture
def built() -> list[Any]:
    return []


@pytest.fixture
def handler(app_factory, built):
    def factory():
        built.append(1)
        return app_factory()
    h = make_event_handler(factory)
    yield h
    h.close()


def _json(out: dict[str, Any]) -> Any:
    assert out["isBase64Encoded"] is False
    return json.loads(out["body"])


def test_health_from_raw_bytes_event(handler, built) -> None:
    out = handler(json.dumps(http_event("GET", "/health")).encode(), ctx("fc-health-1"))
    assert set(out) == {"statusCode", "headers", "isBase64Encoded", "body"}
    assert out["statusCode"] == 200 and _json(out)["status"] == "ok"
    # the sample's requestId is "": the context's request id is used and echoed
    assert out["headers"]["x-request-id"] == "fc-health-1"
    # str and dict events too; the app is built once
    assert handler(json.dumps(http_event("GET", "/health")), ctx())["statusCode"] == 200
    assert handler(http_event("GET", "/health"), ctx())["statusCode"] == 200
    assert built == [1]


def test_request_id_from_request_context(handler) -> None:
    ev = http_event("GET", "/health")
    ev["requestContext"]["requestId"] = "1-64f6cd87-rc"
    assert handler(ev, ctx("other"))["headers"]["x-request-id"] == "1-64f6cd87-rc"


def test_json_post_route(handler) -> None:
    ev = http_event("POST", "/api/audio/x", body=json.dumps({"text": "你好", "count": 2}),
                    headers={"Content-Type": "application/json"})
    out = handler(ev, ctx())
    assert out["statusCode"] == 200
    assert _json(out) == {"code": 200, "message": "success", "data": {"text": "你好", "count": 2}}
    assert out["headers"]["content-type"] == "application/json"


def test_validation_error_through_event(handler) -> None:
    ev = http_event("POST", "/v1/x", body="{}", headers={"Content-Type": "application/json"})
    out = handler(ev, ctx())
    assert out["statusCode"] == 400 and _json(out)["error"]["param"] == "text"


def test_binary_response_is_base64(handler) -> None:
    out = handler(http_event("GET", "/api/audio/binary"), ctx())
    assert out["statusCode"] == 200 and out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == bytes(range(256))
    assert out["headers"]["content-type"] == "audio/mpeg"


def test_query_string(handler) -> None:
    out = handler(http_event("GET", "/api/audio/query",
                             query={"page": "2", "tags": "a,b", "q": "李 x&y=z%", "empty": ""}), ctx())
    assert _json(out)["data"] == {"page": ["2"], "tags": ["a,b"], "q": ["李 x&y=z%"], "empty": [""]}


def test_decoded_path_is_decoded_once(handler) -> None:
    for name in ("hello world", "100%", "李雷", "a%2Fb"):
        ev = http_event("GET", f"/api/audio/path/{name}")
        out = handler(ev, ctx())
        assert out["statusCode"] == 200 and _json(out)["data"] == {"name": name}, name


def test_base64_request_body(handler) -> None:
    raw = bytes(range(256)) * 4
    ev = http_event("POST", "/api/audio/echo", body=base64.b64encode(raw).decode(), b64=True,
                    headers={"Content-Type": "application/octet-stream"})
    out = handler(ev, ctx())
    assert _json(out)["data"] == {"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def test_sample_event_as_is_is_a_404(handler) -> None:
    # the sample hits FC's invoke API path, which no voicefn route serves
    out = handler(json.dumps(HTTP_EVENT).encode(), ctx())
    assert out["statusCode"] == 404
    assert _json(out)["error"] == "NOT_FOUND"


def test_not_found_in_route_format(handler) -> None:
    assert _json(handler(http_event("GET", "/v1/missing"), ctx()))["error"]["code"] == "not_found"
    out = handler(http_event("GET", "/api/audio/missing"), ctx())
    assert out["statusCode"] == 404 and _json(out)["code"] == 404


def test_unhandled_error_is_a_500_struct(handler) -> None:
    out = handler(http_event("GET", "/api/tts/boom"), ctx("fc-boom"))
    assert out["statusCode"] == 500
    assert "fc-boom" in _json(out)["message"] and "kaboom" not in out["body"]


def test_multiple_set_cookie_are_folded(handler) -> None:
    out = handler(http_event("GET", "/api/audio/cookies"), ctx())
    cookie = out["headers"]["set-cookie"]
    assert "a=1" in cookie and "b=2" in cookie and ", " in cookie


def test_headers_are_lower_cased_for_the_app() -> None:
    translated = fc3_to_apigw_v2(HTTP_EVENT, "ctx-id")
    assert all(k == k.lower() for k in translated["headers"])
    assert translated["headers"]["x-fc-request-id"] == "ctx-id"
    assert translated["requestContext"]["http"]["method"] == "POST"
    assert translated["version"] == "2.0" and translated["body"] == "haha"


@pytest.mark.parametrize("event", [
    b"not json", b"\xff\xfe", "[1, 2]", "null", b"", {"hello": "world"},
    {"requestContext": {"http": {}}},                                   # no method
    {"requestContext": {"http": {"method": "GET", "path": "/health"}}, "headers": ["x"]},
    {"requestContext": {"http": {"method": "G E T", "path": "/"}}},
    {"requestContext": {"http": {"method": "POST", "path": "/api/audio/echo"}}, "body": 42},
    {"requestContext": {"http": {"method": "POST", "path": "/api/audio/echo"}},
     "body": "***not base64***", "isBase64Encoded": True},
    {"events": [{"eventSource": "acs:mns"}]},
    {"requestContext": {"http": {"method": "GET", "path": "/health"}}, "queryParameters": ["a"]},
    '{"requestContext": {"http": {"method": "POST", "path": "/api/audio/echo"}}, "body": "\\udc80"}',
    '{"requestContext": {"http": {"method": "GET", "path": "/health"}}, "queryParameters": {"q": "\\ud800"}}',
    '{"requestContext": {"http": {"method": "GET", "path": "/\\ud800"}}}',
    '{"requestContext": {"http": {"method": "GET", "path": "/health"}}, "headers": {"x": "\\ud800"}}',
])
def test_malformed_events_get_a_400_struct(handler, event) -> None:
    out = handler(event, ctx())
    assert out["statusCode"] == 400
    assert json.loads(out["body"])["error"] == "INVALID_PARAMETER"


def test_odd_host_headers_do_not_crash_mangum(handler) -> None:
    for headers in ({"Host": "[::1]:8080"}, {"X-Forwarded-Port": "eighty"}, {"Host": "a:b:c"}):
        out = handler(http_event("GET", "/health", headers=headers), ctx())
        assert out["statusCode"] == 200, headers


def test_oss_event_dispatched(app_factory) -> None:
    calls: list[tuple[dict, Any]] = []
    built: list[int] = []

    def on_oss(event: dict, context: Any) -> dict:
        calls.append((event, context))
        return {"processed": [e["oss"]["object"]["key"] for e in event["events"]]}

    h = make_event_handler(lambda: built.append(1) or app_factory(), on_oss_event=on_oss)
    try:
        context = ctx("oss-1")
        assert h(OSS_EVENT_RAW, context) == {"processed": ["image/a.jpg"]}
        assert calls[0][0] == json.loads(OSS_EVENT_RAW) and calls[0][1] is context
        assert built == []  # the web app is not built for OSS events
    finally:
        h.close()


def test_async_oss_handler_reuses_one_loop(app_factory) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def on_oss(event: dict, context: Any) -> str:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return event["events"][0]["oss"]["bucket"]["name"]

    h = make_event_handler(app_factory, on_oss_event=on_oss)
    try:
        assert h(OSS_EVENT_RAW, ctx()) == "testbucket"
        assert h(OSS_EVENT_RAW.decode(), ctx()) == "testbucket"
        assert h(http_event("GET", "/health"), ctx())["statusCode"] == 200
        assert loops[0] is loops[1]
    finally:
        h.close()


def test_oss_event_without_handler_is_a_clear_error(handler) -> None:
    with pytest.raises(NoOssHandlerError, match="no OSS event handler"):
        handler(OSS_EVENT_RAW, ctx())


async def test_handler_called_from_async_code(handler) -> None:
    # the local runtime may call the entry from inside a running loop
    out = handler(http_event("GET", "/health"), ctx())
    assert out["statusCode"] == 200
