"""Local adapters (filesystem objects, SQLite state) in a temp dir, for the upload tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicefn.services import Services, get_services, reset_services
from voicefn.settings import reset_settings


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "OSS_", "OTS_", "FC_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VOICEFN_RUNTIME", "local")
    monkeypatch.setenv("VOICEFN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VOICEFN_PUBLIC_BASE_URL", "http://127.0.0.1:8123")
    reset_settings()
    reset_services()
    yield get_services()
    reset_settings()
    reset_services()
