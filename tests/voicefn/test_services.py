"""Services: one instance's adapters, built once; tests hand in their own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from voicefn.services import Services, get_services, reset_services, set_services, using_services
from voicefn.settings import Settings
from voicefn.storage.local_objects import LocalObjectStore
from voicefn.web.app import build_app
from voicefn.web.deps import PrincipalDep, ServicesDep, services_dep
from voicefn.web.routing import plain_router


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", jwt_secret="s" * 40)


def test_adapters_are_built_once_and_given_ones_are_kept(settings: Settings, tmp_path: Path) -> None:
    services = Services(settings)
    assert services.state is services.state and services.objects is services.objects
    mine = LocalObjectStore.from_settings(Settings(data_dir=tmp_path / "other"))
    given = Services(settings, objects=mine)
    assert given.objects is mine and "objects" in repr(given)


def test_get_services_is_the_bound_then_the_instance_one(settings: Settings) -> None:
    instance, other = Services(settings), Services(settings)
    set_services(instance)
    try:
        assert get_services() is instance
        with using_services(other):
            assert get_services() is other

            async def in_a_task() -> Services:
                return get_services()

            assert asyncio.run(in_a_task()) is other  # tasks started here inherit the binding
        assert get_services() is instance
    finally:
        reset_services()


def _app(services: Services):
    router = plain_router()

    @router.get("/api/audio/whoami")
    async def whoami(principal: PrincipalDep, services: ServicesDep) -> dict[str, str]:
        return {"user": principal.user_id, "data_dir": str(services.settings.data_dir)}

    return build_app(title="t", routers=[router], services=services)


async def test_routes_get_the_app_services_and_tests_can_override_them(settings: Settings,
                                                                       tmp_path: Path) -> None:
    from voicefn.auth.jwt import issue_token

    app = _app(Services(settings))
    assert app.state.services.settings is settings
    headers = {"Authorization": f"Bearer {issue_token('u1', settings.jwt_secret or '')}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        got = (await client.get("/api/audio/whoami", headers=headers)).json()
        assert got == {"user": "u1", "data_dir": str(settings.data_dir)}
        swapped = Settings(data_dir=tmp_path / "swapped", jwt_secret=settings.jwt_secret)
        app.dependency_overrides[services_dep] = lambda: Services(swapped)
        got = (await client.get("/api/audio/whoami", headers=headers)).json()
        assert got["data_dir"] == str(tmp_path / "swapped")
        # the principal is checked against the overriding Services' settings
        other = Settings(data_dir=tmp_path / "x", jwt_secret="t" * 40)
        app.dependency_overrides[services_dep] = lambda: Services(other)
        assert (await client.get("/api/audio/whoami", headers=headers)).status_code == 401
