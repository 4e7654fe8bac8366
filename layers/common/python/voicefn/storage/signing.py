"""HMAC-signed URLs and PostObject policies for the local object store.

The local dev server plays OSS, so its URLs and upload forms have OSS's shape (``expires`` +
``signature`` query, PostObject form fields ``key``/``policy``/``OSSAccessKeyId``/``Signature``)
but are signed with HMAC-SHA256 under a local secret. Pure functions: no filesystem, no clock
unless passed in, so they are easy to test and to reuse from the object server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

LOCAL_ACCESS_KEY_ID = "voicefn-local"


class ObjectAccessError(Exception):
    """A request for an object was refused. ``code``/``status`` are what OSS would answer."""

    code = "AccessDenied"
    status = 403

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class UrlSignatureError(ObjectAccessError):
    """Missing, malformed, tampered or expired signed-URL parameters."""

    code = "SignatureDoesNotMatch"
    status = 403


class PostPolicyError(ObjectAccessError):
    """A PostObject form that its policy does not allow (or a bad policy/signature)."""

    code = "InvalidPolicyDocument"
    status = 400


# -- signed URLs --------------------------------------------------------------------------------

def url_signature(secret: bytes, method: str, bucket: str, key: str, expires: int,
                  content_type: str | None = None, max_size: int | None = None) -> str:
    """Hex HMAC-SHA256 over method, bucket, key, expiry and content type (as OSS v1 binds them),
    and, for an upload URL that bounds its body, the largest size allowed."""
    parts = [method.upper(), bucket, key, str(int(expires)), content_type or ""]
    if max_size is not None:
        parts.append(f"max-size={int(max_size)}")
    message = "\n".join(parts)
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def check_url_signature(secret: bytes, method: str, bucket: str, key: str, expires: str | int | None,
                        signature: str | None, content_type: str | None = None,
                        now: float | None = None, max_size: str | int | None = None) -> None:
    """Raise :class:`UrlSignatureError` unless ``signature`` is valid and not expired
    (``max_size``: the URL's ``max_size`` parameter, signed with the rest when present)."""
    if expires is None or signature is None or expires == "" or signature == "":
        raise UrlSignatureError("missing expires or signature", code="AccessDenied")
    try:
        expires_at = int(expires)
        size_limit = None if max_size is None or max_size == "" else int(max_size)
    except (TypeError, ValueError):
        raise UrlSignatureError("malformed expires or max_size", code="AccessDenied") from None
    expected = url_signature(secret, method, bucket, key, expires_at, content_type, size_limit)
    # compare before checking expiry so a tampered expiry reads as a bad signature
    if not hmac.compare_digest(expected, str(signature).lower()):
        raise UrlSignatureError("the request signature we calculated does not match the signature you provided")
    if expires_at < (time.time() if now is None else now):
        raise UrlSignatureError("request has expired", code="AccessDenied")


def query_params(url: str) -> dict[str, str]:
    """A URL's query as a dict (the first value of each name; blank values kept)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        out.setdefault(name, value)
    return out


def oss_v1_url_signature(secret: str, method: str, bucket: str, key: str, expires: str,
                         security_token: str | None = None) -> str:
    """OSS's v1 signed-URL signature (what oss2's ``Bucket.sign_url`` puts in ``Signature``):
    base64 HMAC-SHA1 of ``METHOD\n\n\n{Expires}\n/{bucket}/{key}``, the STS token being a
    signed sub-resource."""
    resource = f"/{bucket}/{key}"
    if security_token:
        resource += f"?security-token={security_token}"
    message = "\n".join([method.upper(), "", "", str(expires), resource])
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def oss_v1_signature_valid(expected: str, signature: str | None, expires: str | None,
                           now: float | None = None) -> bool:
    """``signature`` matches and ``expires`` (unix seconds) has not passed."""
    if not signature or not expires or not expires.isdigit():
        return False
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return False
    return int(expires) >= (time.time() if now is None else now)


# -- PostObject policies ------------------------------------------------------------------------

def iso_expiration(unix_s: int) -> str:
    """OSS policy ``expiration`` format: ``2025-01-01T12:00:00.000Z``."""
    return datetime.fromtimestamp(unix_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def build_policy(bucket: str, key: str, expires_at: int, max_size: int,
                 content_type: str | None = None) -> dict[str, Any]:
    """The policy document both adapters sign: exact key, size range, optional content type."""
    conditions: list[Any] = [
        {"bucket": bucket},
        ["eq", "$key", key],
        ["content-length-range", 0, int(max_size)],
    ]
    if content_type:
        conditions.append(["eq", "$Content-Type", content_type])
    return {"expiration": iso_expiration(expires_at), "conditions": conditions}


def encode_policy(policy: Mapping[str, Any]) -> str:
    return base64.b64encode(json.dumps(policy, separators=(",", ":")).encode("utf-8")).decode("ascii")


def policy_signature(secret: bytes, policy_b64: str) -> str:
    """Local stand-in for OSS's HMAC-SHA1: hex HMAC-SHA256 of the base64 policy."""
    return hmac.new(secret, policy_b64.encode("ascii"), hashlib.sha256).hexdigest()


def _lower_keys(fields: Mapping[str, str]) -> dict[str, str]:
    # OSS form field names are case-insensitive
    return {name.lower(): value for name, value in fields.items()}


def _parse_expiration(value: Any) -> float:
    if not isinstance(value, str):
        raise PostPolicyError("policy has no expiration")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    raise PostPolicyError(f"policy expiration {value!r} is not ISO-8601 UTC")


def _form_value(form: Mapping[str, str], name: str) -> str | None:
    return form.get(name.lstrip("$").lower())


def _check_condition(cond: Any, form: Mapping[str, str], bucket: str, file_size: int) -> None:
    if isinstance(cond, dict):
        for name, expected in cond.items():
            actual = bucket if name.lower() == "bucket" else _form_value(form, name)
            if actual != expected:
                raise PostPolicyError(f"policy condition failed: {name} must be {expected!r}",
                                      code="AccessDenied", status=403)
        return
    if not isinstance(cond, list) or not cond:
        raise PostPolicyError(f"malformed policy condition {cond!r}")
    op = str(cond[0]).lower()
    if op == "content-length-range" and len(cond) == 3:
        low, high = int(cond[1]), int(cond[2])
        if file_size > high:
            raise PostPolicyError(f"file of {file_size} bytes exceeds the limit of {high}",
                                  code="EntityTooLarge")
        if file_size < low:
            raise PostPolicyError(f"file of {file_size} bytes is below the minimum of {low}",
                                  code="EntityTooSmall")
        return
    if len(cond) != 3 or not isinstance(cond[1], str):
        raise PostPolicyError(f"malformed policy condition {cond!r}")
    name = cond[1]
    actual = bucket if name.lstrip("$").lower() == "bucket" else _form_value(form, name)
    expected = cond[2]
    if op == "eq":
        ok = actual == expected
    elif op == "starts-with":
        ok = actual is not None and actual.startswith(str(expected))
    elif op == "in":
        ok = actual in list(expected)
    elif op == "not-in":
        ok = actual not in list(expected)
    else:
        raise PostPolicyError(f"unsupported policy condition {op!r}")
    if not ok:
        raise PostPolicyError(f"policy condition failed: {cond!r}", code="AccessDenied", status=403)


def check_post_form(secret: bytes, bucket: str, fields: Mapping[str, str], file_size: int,
                    content_type: str | None = None, now: float | None = None) -> str:
    """Verify a PostObject form against its signed policy; return the object key.

    ``fields`` are the form fields sent before the file; ``content_type`` is the file part's own
    Content-Type, used when the form has no ``Content-Type`` field (as OSS does).
    """
    form = _lower_keys(fields)
    key = form.get("key")
    policy_b64 = form.get("policy")
    signature = form.get("signature")
    if not key:
        raise PostPolicyError("form has no key field", code="InvalidArgument")
    if not policy_b64 or not signature:
        raise PostPolicyError("form has no policy or Signature", code="AccessDenied", status=403)
    if form.get("ossaccesskeyid") not in (None, LOCAL_ACCESS_KEY_ID):
        raise PostPolicyError("unknown OSSAccessKeyId", code="InvalidAccessKeyId", status=403)
    if not hmac.compare_digest(policy_signature(secret, policy_b64), signature.lower()):
        raise PostPolicyError("the policy signature does not match", code="SignatureDoesNotMatch",
                              status=403)
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (ValueError, TypeError):
        raise PostPolicyError("policy is not base64 JSON") from None
    if not isinstance(policy, dict):
        raise PostPolicyError("policy is not a JSON object")
    if _parse_expiration(policy.get("expiration")) < (time.time() if now is None else now):
        raise PostPolicyError("policy has expired", code="AccessDenied", status=403)
    if "content-type" not in form and content_type:
        form["content-type"] = content_type
    for cond in policy.get("conditions") or []:
        _check_condition(cond, form, bucket, file_size)
    return key
