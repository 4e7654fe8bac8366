"""A local-runtime Services (SQLite in a temp dir, the in-process invoker) for job runner tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from voicefn.services import Services, get_services, reset_services
from voicefn.settings import reset_settings


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Services]:
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "FC_", "DASHSCOPE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VOICEFN_RUNTIME", "local")
    monkeypatch.setenv("VOICEFN_DATA_DIR", str(tmp_path / "data"))
    # jobs run on the test's loop, not on a session stack's server loop in another thread
    monkeypatch.setattr("voicefn.invoke.inprocess._server_loop", None)
    reset_settings()
    reset_services()
    yield get_services()
    reset_services()
    reset_settings()


@pytest.fixture
def job_name() -> str:
    """A fresh job name per test: declarations are process-wide."""
    return f"test_job_{uuid.uuid4().hex[:8]}"


async def new_task(services: Services, kind: str, **fields: Any) -> str:
    from voicefn.tasks import create_task

    task = await create_task(services.state, owner="u1", kind=kind, request={"n": 1})
    if fields:
        assert await services.state.update_task(task["task_id"], fields)
    return str(task["task_id"])
