"""Signed job payloads for async invocations.

A web function's ``POST /invoke`` is reachable through its HTTP trigger, so a job is only run if
its payload carries an HMAC made with the instance's master key: nobody outside can forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from voicefn.errors import ApiError
from voicefn.services import Services


def _digest(services: Services, body: dict[str, Any]) -> str:
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(services.derived_secret("job-signing"), blob, hashlib.sha256).hexdigest()


def sign_job(services: Services, job: str, **fields: Any) -> dict[str, Any]:
    body = {"job": job, **fields}
    return {**body, "sig": _digest(services, body)}


def verify_job(services: Services, payload: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in payload.items() if k != "sig"}
    if not isinstance(payload.get("sig"), str) or not hmac.compare_digest(payload["sig"], _digest(services, body)):
        raise ApiError("FORBIDDEN", "job signature invalid")
    return body
