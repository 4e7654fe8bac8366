"""One classifier for every job kind: retryable (throttling, 5xx, dropped connection, timeout)
versus final (4xx, validation)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError
from voicefn.jobs import classify


@pytest.mark.parametrize("exc, code", [
    (UpstreamError("Throttling.RateQuota", "slow down", http_status=429, retry_after=2.0), "RATE_LIMITED"),
    (UpstreamError("InternalError", "boom", http_status=500), "UPSTREAM_ERROR"),
    (UpstreamError("ServiceUnavailable", "later", http_status=503), "UPSTREAM_ERROR"),
    (UpstreamError("ConnectionError", "reset by peer"), "UPSTREAM_ERROR"),
    (UpstreamError("RequestTimeOut", "slow", http_status=408), "TIMEOUT"),
    (ApiError("RATE_LIMITED", "throttled"), "RATE_LIMITED"),
    (ApiError("UPSTREAM_ERROR", "DashScope failed"), "UPSTREAM_ERROR"),
    (ApiError("TIMEOUT", "too slow"), "TIMEOUT"),
    (asyncio.TimeoutError(), "TIMEOUT"),
    (TimeoutError("read"), "TIMEOUT"),
    (ConnectionResetError("dropped"), "UPSTREAM_ERROR"),
    (httpx.ReadTimeout("read timed out"), "TIMEOUT"),
    (httpx.RemoteProtocolError("server disconnected"), "UPSTREAM_ERROR"),
    (RuntimeError("a bug, perhaps transient"), "INTERNAL_ERROR"),
])
def test_retryable_failures(exc: BaseException, code: str) -> None:
    failure = classify(exc)
    assert failure.retryable, failure
    assert failure.code == code and failure.message


@pytest.mark.parametrize("exc, code", [
    (UpstreamError("InvalidApiKey", "bad key", http_status=401), "UNAUTHORIZED"),
    (UpstreamError("InvalidParameter", "voice not found", http_status=400), "INVALID_VOICE"),
    (UpstreamError("BadRequest.TooLarge", "too large", http_status=413), "PAYLOAD_TOO_LARGE"),
    (UpstreamError("DataInspectionFailed", "inappropriate content"), "INVALID_PARAMETER"),
    (ApiError("INVALID_PARAMETER", "text is required"), "INVALID_PARAMETER"),
    (ApiError("NO_API_KEY", "no key"), "NO_API_KEY"),
    (ValueError("bad row"), "INVALID_PARAMETER"),
])
def test_final_failures(exc: BaseException, code: str) -> None:
    failure = classify(exc)
    assert not failure.retryable, failure
    assert failure.code == code


def test_dashscope_decides_even_after_conversion_to_an_api_error() -> None:
    """AccessDenied is a 403 upstream that clients see as UPSTREAM_ERROR (502): still final."""
    denied = UpstreamError("AccessDenied", "no access to this model", http_status=403)
    try:
        raise to_api_error(denied) from denied
    except ApiError as converted:
        assert converted.status == 502
        failure = classify(converted)
    assert not failure.retryable and failure.code == "UPSTREAM_ERROR" and "no access" in failure.message
    throttled = UpstreamError("Throttling", "quota", http_status=429, retry_after=3.0)
    try:
        raise to_api_error(throttled) from throttled
    except ApiError as converted:
        assert classify(converted).retryable and classify(converted).retry_after == 3.0


def test_pydantic_validation_is_final() -> None:
    class Model(BaseModel):
        n: int

    with pytest.raises(ValidationError) as caught:
        Model(n="x")  # type: ignore[arg-type]
    assert not classify(caught.value).retryable


def test_throttling_keeps_the_upstreams_retry_after() -> None:
    assert classify(UpstreamError("Throttling.RateQuota", "x", http_status=429, retry_after=2.5)).retry_after == 2.5
