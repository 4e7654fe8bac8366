"""FC Invoker (cloud): asynchronous invocation through the FC 3.0 SDK (``alibabacloud_fc20230330``).

FC persists the request in its queue, answers 202, and runs the function at least once, retrying
failures (fc_reference §2.3). The idempotency key goes out as ``X-Fc-Async-Task-Id``; what FC does
with a duplicate id is not settled (fc_reference §7), so handlers still dedupe through the
StateStore. The SDK is imported on first use and the client built once per instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
from typing import Any

from voicefn.invoke.base import MAX_PAYLOAD_BYTES

_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def async_task_id(idempotency_key: str) -> str:
    """FC async task ids are short and plain; longer or richer keys (``bucket/key/etag``) are
    hashed so the same key always gives the same id."""
    if _TASK_ID.match(idempotency_key):
        return idempotency_key
    return "k-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:60]


class FcInvokeError(RuntimeError):
    """FC did not accept the asynchronous invocation."""


class FcInvoker:
    """Invoker that queues jobs on FC by asynchronous invocation of another function."""

    keeps_jobs_across_restarts = True  # FC persists the queue and retries on its own

    def __init__(self, account_id: str, region: str, *, access_key_id: str, access_key_secret: str,
                 security_token: str | None = None, qualifier: str = "LATEST",
                 endpoint: str | None = None, protocol: str | None = None,
                 function_prefix: str = "") -> None:
        self.account_id = account_id
        # logical names ("tts") are deployed with a prefix ("voicefn-tts", s.yaml functionName)
        self.function_prefix = function_prefix
        self.region = region
        self.qualifier = qualifier
        # the data-plane endpoint for invocations (fc_reference §2.4)
        self.endpoint = endpoint or f"{account_id}.{region}.fc.aliyuncs.com"
        self._protocol = protocol
        self._credentials = (access_key_id, access_key_secret, security_token)
        self._client: Any = None

    def __repr__(self) -> str:
        return f"FcInvoker(endpoint={self.endpoint!r}, qualifier={self.qualifier!r})"

    @classmethod
    def from_settings(cls, settings: Any, environ: dict[str, str] | None = None) -> "FcInvoker":
        key_id, secret, token = settings.role_credentials(environ)  # read by the settings module
        account = settings.fc_account_id or (environ or {}).get("FC_ACCOUNT_ID")
        region = settings.fc_region or (environ or {}).get("FC_REGION")
        if not (key_id and secret and account and region):
            raise RuntimeError("FC invocation needs FC_ACCOUNT_ID, FC_REGION and the function role's "
                               "ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET")
        return cls(account, region, access_key_id=key_id, access_key_secret=secret,
                   security_token=token,
                   function_prefix=getattr(settings, "fc_function_prefix", ""))

    @property
    def client(self) -> Any:
        if self._client is None:
            from alibabacloud_fc20230330.client import Client
            from alibabacloud_tea_openapi import models as open_api_models

            key_id, secret, token = self._credentials
            config = open_api_models.Config(access_key_id=key_id, access_key_secret=secret,
                                            security_token=token, endpoint=self.endpoint,
                                            region_id=self.region)
            if self._protocol:
                config.protocol = self._protocol
            self._client = Client(config)
        return self._client

    def build_request(self, payload: dict[str, Any], idempotency_key: str | None = None) -> tuple[Any, Any]:
        """The SDK's (InvokeFunctionRequest, InvokeFunctionHeaders) for an async invocation."""
        from alibabacloud_fc20230330 import models as fc_models

        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"async payload of {len(body)} bytes exceeds FC's 128 KB limit; pass object keys")
        request = fc_models.InvokeFunctionRequest(qualifier=self.qualifier, body=io.BytesIO(body))
        headers = fc_models.InvokeFunctionHeaders(
            x_fc_invocation_type="Async", x_fc_log_type="None",
            x_fc_async_task_id=async_task_id(idempotency_key) if idempotency_key else None)
        return request, headers

    def _invoke_sync(self, function: str, payload: dict[str, Any], idempotency_key: str | None) -> str:
        from alibabacloud_tea_util import models as util_models

        request, headers = self.build_request(payload, idempotency_key)
        try:
            response = self.client.invoke_function_with_options(self.function_prefix + function, request, headers,
                                                                util_models.RuntimeOptions())
        except Exception as exc:  # the SDK's TeaException family; keep only what is safe to log
            code = getattr(exc, "code", None) or type(exc).__name__
            status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
            raise FcInvokeError(f"FC refused the async invocation of {function}: {code} ({status})") from exc
        status = getattr(response, "status_code", None)
        if status not in (200, 202):
            raise FcInvokeError(f"FC answered {status} to the async invocation of {function}")
        response_headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return response_headers.get("x-fc-request-id") or (async_task_id(idempotency_key) if idempotency_key else "")

    async def invoke_async(self, function: str, payload: dict[str, Any],
                           idempotency_key: str | None = None) -> str:
        return await asyncio.to_thread(self._invoke_sync, function, payload, idempotency_key)
