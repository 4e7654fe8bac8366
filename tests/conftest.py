"""Fixtures shared by the suites: a whole local voicefn stack on a real socket (see stack.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.stack import Stack, free_port, isolated_env


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    from voicefn_local.manifest import load_manifest
    from voicefn_local.runtime import build_local_app, configure_local_env
    from voicefn_local.servers import run_in_thread

    with isolated_env(clear=True):
        data_dir = Path(tempfile.mkdtemp(prefix="voicefn-test-"))
        port = free_port()
        os.environ["VOICEFN_UPSTREAM_RETRY_BUDGET_S"] = "5"
        configure_local_env("127.0.0.1", port, data_dir, engine="deterministic")
        handle = run_in_thread(build_local_app(load_manifest()), port=port)
        try:
            yield Stack(base_url=handle.base_url, ws_url=handle.ws_base_url, data_dir=data_dir)
        finally:
            handle.stop()


@pytest.fixture
def env_override(stack: Stack) -> Iterator[dict[str, str]]:
    """Change settings for one test (e.g. no platform key); restored afterwards."""
    with isolated_env():
        yield {}  # the test calls apply_env


@pytest.fixture(autouse=False)
def no_faults(stack: Stack) -> Iterator[None]:
    stack.clear_faults()
    yield
    stack.clear_faults()
