"""Which DashScope API key a request runs on: the user's own, else an allowed platform key.

The user's own key is looked up once per ``KEY_TTL_S`` per instance, not on every request
(issue 13): a key set or deleted through this instance takes effect at once, one changed
through another instance (FC runs many) after at most that long.
"""

from __future__ import annotations

import weakref
from typing import Any

from voicefn import clock
from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.ttlcache import TtlCache

SETTINGS_FIELD = "dashscope_key"
KEY_TTL_S = 10.0
KEY_CACHE_ENTRIES = 1024
NO_KEY_MESSAGE = "未配置API密钥,请在用户设置中配置apikey (no DashScope API key configured for this user)"


def _platform_key_allowed(principal: Principal, services: Services) -> bool:
    s = services.settings
    if not s.platform_api_key:
        return False
    allowed = s.platform_key_users
    return "*" in allowed or principal.user_id in allowed or (
        principal.kind == "service" and f"service:{principal.service}" in allowed)


# per state store: the user's own key ("" for none), as last read from that store
_own_keys: weakref.WeakKeyDictionary[Any, TtlCache[str]] = weakref.WeakKeyDictionary()


def _key_cache(services: Services) -> TtlCache[str] | None:
    state = services.state
    try:
        cache = _own_keys.get(state)
        if cache is None:
            cache = _own_keys[state] = TtlCache(max_entries=KEY_CACHE_ENTRIES, ttl_s=KEY_TTL_S)
        return cache
    except TypeError:  # a store that cannot be weakly referenced is simply not cached
        return None


async def _own_key(principal: Principal, services: Services) -> str:
    cache = _key_cache(services)
    if cache is not None and (cached := cache.get(principal.user_id)) is not None:
        return cached
    row = await services.state.get_user_settings(principal.user_id)
    token = (row or {}).get(SETTINGS_FIELD)
    own = services.vault.decrypt(token["ciphertext"], principal.user_id) if token else ""
    if cache is not None:
        cache.put(principal.user_id, own)
    return own


def forget_cached_key(principal: Principal, services: Services) -> None:
    """After this instance changed the user's key: the next request reads it again."""
    cache = _key_cache(services)
    if cache is not None:
        cache.pop(principal.user_id)


async def resolve_api_key(principal: Principal, services: Services) -> str:
    """The key to call DashScope with, or 403 NO_API_KEY."""
    own = await _own_key(principal, services)
    if own:
        return own
    if _platform_key_allowed(principal, services):
        return services.settings.platform_api_key or ""
    raise ApiError("NO_API_KEY", NO_KEY_MESSAGE)


def validate_key_shape(api_key: str) -> str:
    key = api_key.strip()
    if not key.startswith("sk-") or not 8 <= len(key) <= 200 or any(c.isspace() for c in key):
        raise ApiError("INVALID_PARAMETER", "api_key must look like a DashScope key (sk-…)", param="api_key")
    return key


async def store_user_key(principal: Principal, services: Services, api_key: str) -> dict[str, Any]:
    from voicefn.secrets import mask

    key = validate_key_shape(api_key)
    now = clock.utc_now()
    record = {"ciphertext": services.vault.encrypt(key, principal.user_id), "masked": mask(key),
              "updated_at": now}
    await services.state.put_user_settings(principal.user_id, {SETTINGS_FIELD: record})
    forget_cached_key(principal, services)
    return key_status_from(record, principal, services)


async def delete_user_key(principal: Principal, services: Services) -> None:
    await services.state.put_user_settings(principal.user_id, {SETTINGS_FIELD: None})
    forget_cached_key(principal, services)


async def key_status(principal: Principal, services: Services) -> dict[str, Any]:
    row = await services.state.get_user_settings(principal.user_id)
    return key_status_from((row or {}).get(SETTINGS_FIELD), principal, services)


def key_status_from(record: dict[str, Any] | None, principal: Principal,
                    services: Services) -> dict[str, Any]:
    """What a client may see: never the key, only a mask and where calls will be billed."""
    platform = _platform_key_allowed(principal, services)
    return {
        "configured": bool(record),
        "masked_key": record["masked"] if record else None,
        "updated_at": record["updated_at"] if record else None,
        "platform_key_available": platform,
        "effective_source": "user" if record else ("platform" if platform else None),
    }
