"""Fixtures shared by the suites: a whole local voicefn stack on a real socket (see stack.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.stack import Stack, _serving, free_port, isolated_env


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    from voicefn.services import Services
    from voicefn_local.manifest import load_manifest
    from voicefn_local.runtime import build_local_app, local_settings
    from voicefn_local.servers import run_in_thread

    with isolated_env(clear=True):  # the developer's own VOICEFN_*/DASHSCOPE_* must not leak in
        data_dir = Path(tempfile.mkdtemp(prefix="voicefn-test-"))
        port = free_port()
        settings = replace(local_settings("127.0.0.1", port, data_dir, engine="deterministic"),
                           upstream_retry_budget_s=5.0,
                           rate_limits={})  # tests are no flood; tests/voicefn/limits set their own limits
    services = Services(settings)
    app = build_local_app(load_manifest(), services=services)
    handle = run_in_thread(app, port=port)
    running = Stack(base_url=handle.base_url, ws_url=handle.ws_base_url, data_dir=data_dir, app=app)
    _serving.append(running)
    try:
        yield running
    finally:
        _serving.remove(running)
        handle.stop()


@pytest.fixture(autouse=True)
def _stack_is_this_instance(request: pytest.FixtureRequest) -> Iterator[None]:
    """In a test on the stack, code outside its requests (a test calling a job or an FC handler
    directly) finds the stack's Services through get_services(), as one FC instance would."""
    if "stack" not in request.fixturenames:
        yield
        return
    from voicefn.services import reset_services, set_services

    running: Stack = request.getfixturevalue("stack")
    set_services(running.services)
    yield
    reset_services()


@pytest.fixture
def settings_override(stack: Stack) -> Iterator[Callable[..., Any]]:
    """``settings_override(platform_key_users=("x",))``: the stack serves with changed settings
    (fresh adapters on the same data dir) until the test ends."""
    from voicefn.services import set_services

    original = stack.services

    def override(**changes: Any) -> Any:
        services = stack.override_settings(**changes)
        set_services(services)
        return services

    yield override
    stack.use_services(original)
    set_services(original)


@pytest.fixture
def env_override(settings_override: Callable[..., Any]) -> Iterator[dict[str, str]]:
    """Compatibility for tests that call ``apply_env``: the stack's settings are restored after."""
    yield {}


@pytest.fixture(autouse=False)
def no_faults(stack: Stack) -> Iterator[None]:
    stack.clear_faults()
    yield
    stack.clear_faults()
