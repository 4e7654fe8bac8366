"""A second local stack for the chat tests that need real speech: the espeak engine speaks and
Whisper (the emulator's ASR engine) listens; the chat engine stays scripted (exact replies)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from tests.stack import Stack, free_port, isolated_env


@pytest.fixture(scope="module")
def speech_stack() -> Iterator[Stack]:
    from voicefn.services import Services
    from voicefn_local.manifest import load_manifest
    from voicefn_local.runtime import build_local_app, local_settings
    from voicefn_local.servers import run_in_thread

    with isolated_env(clear=True):
        data_dir = Path(tempfile.mkdtemp(prefix="voicefn-chat-speech-"))
        port = free_port()
        settings = replace(local_settings("127.0.0.1", port, data_dir, engine="espeak"),
                           emulator_llm_engine="scripted", emulator_asr_engine="whisper")
    app = build_local_app(load_manifest(), services=Services(settings))
    handle = run_in_thread(app, port=port)
    try:
        yield Stack(base_url=handle.base_url, ws_url=handle.ws_base_url, data_dir=data_dir, app=app)
    finally:
        handle.stop()
