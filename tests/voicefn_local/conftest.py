"""Fixtures for the dev-only code: the embedded DashScope served on a real loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread

SDK_KEY = "sk-test"


@pytest.fixture
def emulator() -> Iterator[ServerHandle]:
    """A fresh emulator with the deterministic engine (exact durations), its own faults/stats."""
    with run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic", data_dir=None))) as server:
        yield server


@pytest.fixture(scope="module")
def espeak_emulator() -> Iterator[ServerHandle]:
    """An emulator speaking with espeak-ng (real speech), shared by a module's tests."""
    with run_in_thread(create_dashscope_app(EmulatorConfig(engine="espeak", data_dir=None))) as server:
        yield server


@pytest.fixture
def point_sdk() -> Iterator[object]:
    """``point_sdk(server, key=...)`` aims the official dashscope SDK at an emulator (reference §0);
    the SDK's module-level settings are restored afterwards."""
    import dashscope

    saved = (dashscope.api_key, dashscope.base_http_api_url, dashscope.base_websocket_api_url)

    def point(server: ServerHandle, key: str = SDK_KEY) -> None:
        dashscope.api_key = key
        dashscope.base_http_api_url = f"{server.base_url}/api/v1"
        dashscope.base_websocket_api_url = f"{server.ws_base_url}/api-ws/v1/inference"

    yield point
    dashscope.api_key, dashscope.base_http_api_url, dashscope.base_websocket_api_url = saved


@pytest.fixture
def sdk(emulator: ServerHandle, point_sdk) -> object:  # type: ignore[no-untyped-def]
    """The dashscope SDK, pointed at the deterministic emulator."""
    import dashscope

    point_sdk(emulator)
    return dashscope
