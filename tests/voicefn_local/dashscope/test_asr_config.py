"""Which ASR engine and data directory an emulator gets, from its config and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.asr_deterministic import DeterministicAsrEngine

ENV = ("VOICEFN_FAKE_ENGINE", "VOICEFN_FAKE_ASR_ENGINE", "VOICEFN_DATA_DIR")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env) -> None:
    config = EmulatorConfig()
    assert (config.engine, config.asr_engine, config.data_dir) == ("espeak", "whisper", None)
    assert EmulatorConfig(engine="deterministic").asr_engine == "deterministic"
    assert EmulatorConfig(engine="deterministic", asr_engine="whisper").asr_engine == "whisper"


def test_environment(clean_env, tmp_path) -> None:
    clean_env.setenv("VOICEFN_FAKE_ENGINE", "deterministic")
    clean_env.setenv("VOICEFN_DATA_DIR", str(tmp_path))
    config = EmulatorConfig()
    assert config.asr_engine == "deterministic"  # the whole stack deterministic
    assert Path(config.data_dir) == tmp_path / "dashscope"
    clean_env.setenv("VOICEFN_FAKE_ASR_ENGINE", "whisper")
    assert EmulatorConfig().asr_engine == "whisper"


def test_each_emulator_has_its_own_scripts(clean_env) -> None:
    one = create_dashscope_app(EmulatorConfig(engine="deterministic")).state.emulator.asr
    two = create_dashscope_app(EmulatorConfig(engine="deterministic")).state.emulator.asr
    assert isinstance(one.engine, DeterministicAsrEngine) and one.scripts is not two.scripts
    assert not one.tasks.persistent


def test_unknown_engine(clean_env) -> None:
    with pytest.raises(ValueError, match="unknown ASR engine"):
        create_dashscope_app(EmulatorConfig(engine="deterministic", asr_engine="wav2vec"))
