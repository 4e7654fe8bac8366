"""The `voicefn` command, run in-process through main([...])."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voicefn_local.cli import main
from voicefn_local.runtime import LocalApp


@pytest.fixture
def clean_env() -> Iterator[None]:
    from voicefn.services import reset_services
    from voicefn.settings import reset_settings

    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "DASHSCOPE_", "FC_")):
            del os.environ[name]
    reset_settings()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    reset_services()


def _token(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["token", *args]) == 0
    return capsys.readouterr().out.strip()


def _verify(token: str, data_dir: Path) -> dict[str, Any]:
    from voicefn.auth.jwt import verify_token
    from voicefn.settings import get_settings, reset_settings

    os.environ["VOICEFN_DATA_DIR"] = str(data_dir)
    reset_settings()
    return verify_token(token, get_settings())


def test_token_verifies_against_the_data_dir_secret(clean_env: None, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(capsys, "--user", "u1", "--data-dir", str(tmp_path / "d"))
    claims = _verify(token, tmp_path / "d")
    assert claims["sub"] == "u1" and claims["exp"] - claims["iat"] == 86400


def test_token_ttl_and_a_foreign_data_dir(clean_env: None, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from voicefn.errors import ApiError

    token = _token(capsys, "--user", "u2", "--ttl", "60", "--data-dir", str(tmp_path / "a"))
    assert _verify(token, tmp_path / "a")["exp"] - _verify(token, tmp_path / "a")["iat"] == 60
    with pytest.raises(ApiError):  # another data dir has another secret
        _verify(token, tmp_path / "b")


def test_token_uses_voicefn_data_dir_by_default(clean_env: None, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["VOICEFN_DATA_DIR"] = str(tmp_path / "env")
    token = _token(capsys, "--user", "u3")
    assert _verify(token, tmp_path / "env")["sub"] == "u3"


def test_token_refuses_a_non_positive_ttl(clean_env: None, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--user", "u", "--ttl", "0", "--data-dir", str(tmp_path)]) == 2
    assert "--ttl" in capsys.readouterr().err


def test_serve_configures_and_runs_uvicorn(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8765", "--data-dir", str(tmp_path / "d"),
                 "--engine", "deterministic"]) == 0
    assert isinstance(ran["app"], LocalApp) and set(ran["app"].manifest.functions) >= {"tts", "account"}
    assert (ran["host"], ran["port"], ran["lifespan"]) == ("0.0.0.0", 8765, "on")
    assert ran["ws"] == "websockets-sansio"
    settings = ran["app"].services.settings
    assert settings.emulator_engine == "deterministic" and settings.data_dir == (tmp_path / "d").resolve()
    assert "VOICEFN_DATA_DIR" not in os.environ and "VOICEFN_FAKE_ENGINE" not in os.environ
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8765" in out and "http://127.0.0.1:8765/docs" in out
    assert "voicefn token --user demo" in out


def test_explicit_flags_beat_the_environment(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app))
    os.environ.update(VOICEFN_FAKE_ENGINE="espeak", VOICEFN_DATA_DIR=str(tmp_path / "env"))
    main(["serve", "--engine", "deterministic", "--data-dir", str(tmp_path / "flag")])
    settings = ran["app"].services.settings
    assert settings.emulator_engine == "deterministic" and settings.data_dir == (tmp_path / "flag").resolve()


def test_serve_refuses_a_bad_setting(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("served with a bad setting"))
    os.environ["VOICEFN_TTS_MAX_CHARS"] = "lots"
    assert main(["serve", "--data-dir", str(tmp_path / "d")]) == 1
    assert "VOICEFN_TTS_MAX_CHARS='lots'" in capsys.readouterr().err


def test_token_and_serve_use_the_same_data_dir_from_anywhere(clean_env: None, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from voicefn.auth.jwt import verify_token
    from voicefn_local import manifest

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "s.yaml").write_text(manifest.default_s_yaml_path().read_text())
    monkeypatch.setattr(manifest, "default_s_yaml_path", lambda: repo / "s.yaml")
    expected = repo.resolve() / ".voicefn"
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the repository
    main(["serve"])
    served = ran["app"].services.settings
    assert served.data_dir == expected
    capsys.readouterr()
    token = _token(capsys, "--user", "anywhere")
    assert verify_token(token, served)["sub"] == "anywhere"  # the server accepts it
    main(["token", "--user", "again"])
    assert f"data dir {expected}" in capsys.readouterr().err  # said which one, off stdout
    assert not (elsewhere / ".voicefn").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["nope"], ["token"], ["serve", "--engine", "wavenet"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
