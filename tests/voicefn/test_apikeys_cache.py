"""The user's own API key is cached per instance for a short while (issue 13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voicefn import apikeys
from voicefn.apikeys import KEY_TTL_S, resolve_api_key, store_user_key, delete_user_key
from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return Services(Settings(data_dir=tmp_path / "data", jwt_secret="s" * 40))


def test_a_key_changed_elsewhere_is_honoured_after_the_cache_lifetime(services: Services) -> None:
    user = Principal("cache-user")
    clock = Clock()

    async def run() -> None:
        await store_user_key(user, services, "sk-first-key-1234")
        cache = apikeys._key_cache(services)
        assert cache is not None
        cache._clock = clock  # this cache's notion of time, so the test need not wait
        assert await resolve_api_key(user, services) == "sk-first-key-1234"
        # another instance revokes the key: it writes the store, our cache does not know
        await services.state.put_user_settings(user.user_id, {apikeys.SETTINGS_FIELD: None})
        assert await resolve_api_key(user, services) == "sk-first-key-1234"  # within the lifetime
        clock.now += KEY_TTL_S
        with pytest.raises(ApiError) as info:
            await resolve_api_key(user, services)
        assert info.value.code == "NO_API_KEY"

    asyncio.run(run())


def test_a_key_changed_through_this_instance_counts_at_once(services: Services) -> None:
    user = Principal("change-user")

    async def run() -> None:
        await store_user_key(user, services, "sk-old-key-1234")
        assert await resolve_api_key(user, services) == "sk-old-key-1234"
        await store_user_key(user, services, "sk-new-key-5678")
        assert await resolve_api_key(user, services) == "sk-new-key-5678"
        await delete_user_key(user, services)
        with pytest.raises(ApiError):
            await resolve_api_key(user, services)

    asyncio.run(run())


def test_the_platform_key_rule_is_read_on_every_request(tmp_path: Path) -> None:
    user = Principal("platform-user")
    base = Settings(data_dir=tmp_path / "data", jwt_secret="s" * 40, platform_api_key="sk-platform-0000")
    allowed = Services(Settings(**{**base.__dict__, "platform_key_users": ("*",)}))
    refused = Services(Settings(**{**base.__dict__, "platform_key_users": ("someone-else",)}), state=allowed.state)

    async def run() -> None:
        assert await resolve_api_key(user, allowed) == "sk-platform-0000"
        with pytest.raises(ApiError):
            await resolve_api_key(user, refused)  # same store, cached "no own key", new settings

    asyncio.run(run())


def test_the_key_cache_is_bounded(services: Services) -> None:
    async def run() -> None:
        for i in range(apikeys.KEY_CACHE_ENTRIES + 20):
            with pytest.raises(ApiError):
                await resolve_api_key(Principal(f"nobody-{i}"), services)
        cache = apikeys._key_cache(services)
        assert cache is not None and len(cache) == apikeys.KEY_CACHE_ENTRIES

    asyncio.run(run())
