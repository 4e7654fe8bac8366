"""API-key checks: which Bearer keys the emulator accepts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from voicefn_local.dashscope.errors import invalid_api_key, missing_api_key

KeyPolicy = Callable[[str], bool] | Collection[str] | None


def default_key_policy(key: str) -> bool:
    """Any ``sk-...`` key is valid except ``sk-invalid`` (the key tests use to get a 401)."""
    return key.startswith("sk-") and key != "sk-invalid"


def bearer_key(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_is_valid(policy: KeyPolicy, key: str) -> bool:
    if policy is None:
        return default_key_policy(key)
    if callable(policy):
        return bool(policy(key))
    return key in policy


def check_key(policy: KeyPolicy, headers: Mapping[str, str]) -> str:
    """The caller's key, or :class:`DashScopeError` ``InvalidApiKey`` (401)."""
    key = bearer_key(headers)
    if key is None:
        raise missing_api_key()
    if not key_is_valid(policy, key):
        raise invalid_api_key()
    return key
