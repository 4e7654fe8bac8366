"""to_api_error: DashScope's codes, as the layer's codes; what is retryable."""

from __future__ import annotations

import pytest

from voicefn.dashscope.errors import UpstreamError, to_api_error


@pytest.mark.parametrize("code,status,api_code,api_status", [
    ("InvalidApiKey", 401, "UNAUTHORIZED", 401),
    ("InvalidApiKey", None, "UNAUTHORIZED", 401),  # WS handshake / task-failed: no HTTP status
    ("Throttling", 429, "RATE_LIMITED", 429),
    ("Throttling.AllocationQuota", 429, "RATE_LIMITED", 429),
    ("LimitRequests", None, "RATE_LIMITED", 429),
    ("AccessDenied", 403, "UPSTREAM_ERROR", 502),
    ("Model.AccessDenied", 403, "UPSTREAM_ERROR", 502),
    ("Arrearage", 400, "UPSTREAM_ERROR", 502),
    ("ModelNotFound", 404, "INVALID_MODEL", 400),
    ("RequestTimeOut", 408, "TIMEOUT", 504),
    ("RequestTimeOut", None, "TIMEOUT", 504),
    ("InternalError", 500, "UPSTREAM_ERROR", 502),
    ("InternalError.Algo", None, "UPSTREAM_ERROR", 502),
    ("ModelUnavailable", 503, "UPSTREAM_ERROR", 502),
    ("ConnectionError", None, "UPSTREAM_ERROR", 502),
    ("DataInspectionFailed", 400, "INVALID_PARAMETER", 400),
    ("DataInspectionFailed", None, "INVALID_PARAMETER", 400),
    ("BadRequest.TooLarge", 413, "PAYLOAD_TOO_LARGE", 413),
    ("Unknown", 502, "UPSTREAM_ERROR", 502),
])
def test_mapping(code, status, api_code, api_status):
    api = to_api_error(UpstreamError(code, "upstream says no", http_status=status))
    assert (api.code, api.status) == (api_code, api_status)


def test_unauthorized_message_names_the_dashscope_key():
    api = to_api_error(UpstreamError("InvalidApiKey", "Invalid API-key provided.", http_status=401))
    assert "DashScope API key" in api.message and "missing or invalid" in api.message


def test_access_denied_explains_quota_or_arrears():
    api = to_api_error(UpstreamError("Arrearage", "Access denied, account in arrears",
                                     http_status=400, request_id="r-1"))
    assert "quota" in api.message and "arrears" in api.message and "r-1" in api.message


@pytest.mark.parametrize("message,api_code,param", [
    ("Required parameter(s) missing or invalid", "INVALID_PARAMETER", None),
    ("[tts:]Engine return error code: 418", "INVALID_PARAMETER", None),
    ("voice not found", "INVALID_VOICE", "voice"),
    ("The Voice 'longxx' is invalid", "INVALID_VOICE", "voice"),
    ("voice does not match the model", "MODEL_VOICE_MISMATCH", "voice"),
    ("text length exceeds the limit", "TEXT_TOO_LONG", "text"),
])
def test_invalid_parameter_is_refined_by_message(message, api_code, param):
    api = to_api_error(UpstreamError("InvalidParameter", message, http_status=400))
    assert (api.code, api.param) == (api_code, param)
    assert api.message == message  # the upstream explanation reaches the user


def test_rate_limited_carries_retry_after():
    api = to_api_error(UpstreamError("Throttling.RateQuota", "slow", http_status=429,
                                     retry_after=7.0))
    assert api.retry_after == 7.0


@pytest.mark.parametrize("code,status,retryable", [
    ("Throttling.RateQuota", 429, True),
    ("LimitRequests", None, True),
    ("InternalError", 500, True),
    ("Unknown", 502, True),
    ("ModelUnavailable", None, True),
    ("RequestTimeOut", None, True),
    ("ConnectionError", None, True),
    ("InvalidApiKey", 401, False),
    ("InvalidParameter", 400, False),
    ("AccessDenied", 403, False),
    ("ModelNotFound", 404, False),
])
def test_retryable(code, status, retryable):
    assert UpstreamError(code, "m", http_status=status).retryable is retryable


def test_explicit_retryable_wins():
    assert UpstreamError("InternalError", "m", retryable=False).retryable is False
