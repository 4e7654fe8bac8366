"""FC 3.0 HTTP-trigger events <-> API Gateway v2 events (the shape Mangum understands).

Mangum mistakes FC3's ``"version": "v1"`` event for API Gateway v1 and fails on the missing
``path`` (fc_reference §1.4), so each event is translated first and each result translated back.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode

__all__ = ["is_http_event", "is_oss_event", "fc3_to_apigw_v2", "apigw_v2_to_fc3", "EventError"]

# what Mangum re-decodes: keep reserved path characters literal, encode the rest (incl. "%")
_PATH_SAFE = "/!$&'()*+,;=:@~"
_HOST_PORT = re.compile(r"[^:]+:\d{1,5}")


class EventError(ValueError):
    """The event is not something this entry can serve (answered with a 400 struct)."""


def is_http_event(event: Mapping[str, Any]) -> bool:
    rc = event.get("requestContext")
    return isinstance(rc, Mapping) and isinstance(rc.get("http"), Mapping)


def is_oss_event(event: Mapping[str, Any]) -> bool:
    from voicefn.uploads.event import OssEvent  # the one reader of the OSS event's shape

    return OssEvent.is_oss_event(event)


def _str(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)  # FC joins repeated headers with commas too
    return "" if value is None else str(value)


def _utf8(value: str, what: str) -> str:
    try:
        value.encode("utf-8")  # lone surrogates (from "\\udc80" in the JSON) cannot be sent on
    except UnicodeEncodeError:
        raise EventError(f"{what} is not valid UTF-8") from None
    return value


def _sanitize_for_mangum(headers: dict[str, str]) -> None:
    """Mangum parses these two with int(); a bad value would crash it (a 500 for bad input)."""
    port = headers.get("x-forwarded-port")
    if port is not None and not port.strip().isdigit():
        del headers["x-forwarded-port"]
    host = headers.get("host")
    if host is not None and ":" in host and not _HOST_PORT.fullmatch(host):
        del headers["host"]  # e.g. an IPv6 literal: Mangum then reports server "mangum"


def _query_string(event: Mapping[str, Any]) -> str:
    raw = event.get("rawQueryString")
    if isinstance(raw, str):
        return _utf8(raw.lstrip("?"), "query string")
    params = event.get("queryParameters") or {}
    if not isinstance(params, Mapping):
        raise EventError("queryParameters must be an object")
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        # FC joins a repeated key's values with commas ("a=1&a=2" -> "1,2"), which cannot be told
        # apart from one value containing a comma; the app gets the joined string as one value.
        # A list (should FC ever send one) becomes a repeated key.
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((str(key), "" if item is None else str(item)))
    try:
        return urlencode(pairs, quote_via=quote, safe="")
    except UnicodeEncodeError:
        raise EventError("query parameters are not valid UTF-8") from None


def _path(event: Mapping[str, Any], http: Mapping[str, Any]) -> str:
    decoded = http.get("path")
    if not isinstance(decoded, str) or not decoded:
        raw = event.get("rawPath")
        decoded = unquote(raw) if isinstance(raw, str) and raw else "/"
    if not decoded.startswith("/"):
        decoded = "/" + decoded
    # Mangum unquotes the path it is given: hand it an encoded one so it is decoded exactly once
    try:
        return quote(decoded, safe=_PATH_SAFE)
    except UnicodeEncodeError:
        raise EventError("path is not valid UTF-8") from None


def fc3_to_apigw_v2(event: Mapping[str, Any], request_id: str | None = None) -> dict[str, Any]:
    """Translate an FC3 HTTP event; raises :class:`EventError` when it is malformed."""
    if not is_http_event(event):
        raise EventError("not an FC HTTP event (requestContext.http missing)")
    rc: Mapping[str, Any] = event["requestContext"]
    http: Mapping[str, Any] = rc["http"]
    method = http.get("method")
    if not isinstance(method, str) or not method.isalpha():
        raise EventError("requestContext.http.method is missing or invalid")
    raw_headers = event.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise EventError("headers must be an object")
    headers = {_utf8(str(k).lower(), "header name"): _utf8(_str(v), "header value")
               for k, v in raw_headers.items() if v is not None}
    _sanitize_for_mangum(headers)

    body = event.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise EventError("body must be a string")
    is_b64 = bool(event.get("isBase64Encoded"))
    _utf8(body, "body")
    if is_b64:
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EventError("body is flagged isBase64Encoded but is not valid base64") from None

    rid = rc.get("requestId") or request_id or ""
    if rid and "x-fc-request-id" not in headers:
        headers["x-fc-request-id"] = str(rid)  # the request-id middleware picks it up
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": event.get("rawPath") or http.get("path") or "/",
        "rawQueryString": _query_string(event),
        "headers": headers,
        "requestContext": {
            "accountId": rc.get("accountId", ""),
            "domainName": rc.get("domainName", ""),
            "domainPrefix": rc.get("domainPrefix", ""),
            "requestId": str(rid),
            "stage": "$default",
            "time": rc.get("time", ""),
            "timeEpoch": rc.get("timeEpoch", ""),
            "http": {
                "method": method.upper(),
                "path": _path(event, http),
                "protocol": http.get("protocol") or "HTTP/1.1",
                "sourceIp": http.get("sourceIp") or "",
                "userAgent": http.get("userAgent") or headers.get("user-agent", ""),
            },
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def apigw_v2_to_fc3(result: Mapping[str, Any]) -> dict[str, Any]:
    """Mangum's v2 result -> FC3's ``{statusCode, headers, isBase64Encoded, body}``."""
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    cookies = [str(c) for c in (result.get("cookies") or [])]
    if cookies:
        # FC3's struct maps a header to one string (multi-value support is undocumented);
        # fold them as RFC 9110 allows for lists. Cookie parsers that understand folded
        # Set-Cookie (http.cookiejar, most HTTP clients) split it back.
        headers["set-cookie"] = ", ".join(cookies)
    return {
        "statusCode": int(result.get("statusCode", 200)),
        "headers": headers,
        "isBase64Encoded": bool(result.get("isBase64Encoded", False)),
        "body": result.get("body") or "",
    }
