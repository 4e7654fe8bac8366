"""Settings are read from the environment once and checked as they are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicefn.settings import Settings, SettingsError, load_settings


def test_defaults_for_local_and_cloud() -> None:
    local = load_settings({})
    assert (local.runtime, local.object_store, local.state_store, local.invoker) == (
        "local", "local", "sqlite", "inprocess")
    cloud = load_settings({"FC_FUNCTION_NAME": "voicefn-tts"})
    assert (cloud.runtime, cloud.object_store, cloud.state_store, cloud.invoker) == (
        "cloud", "oss", "tablestore", "fc")
    assert local.listen_port == 9000 and local.seed000_tts_model == "qwen3-tts-flash"


def test_values_are_parsed() -> None:
    s = load_settings({"VOICEFN_TTS_MAX_CHARS": " 500 ", "VOICEFN_UPSTREAM_TIMEOUT_S": "2.5",
                       "VOICEFN_CORS_ORIGINS": "https://a.example, https://b.example",
                       "VOICEFN_SERVICE_KEYS": "billing:sk-1,crm:sk-2", "FC_CUSTOM_LISTEN_PORT": "9123",
                       "VOICEFN_LOG_LEVEL": "debug", "DASHSCOPE_TTS_MODEL": "qwen-tts",
                       "VOICEFN_DATA_DIR": "/tmp/x", "DASHSCOPE_HTTP_BASE_URL": "http://h/api/v1/"})
    assert s.tts_max_chars == 500 and s.upstream_timeout_s == 2.5 and s.listen_port == 9123
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.service_keys == {"sk-1": "billing", "sk-2": "crm"}
    assert s.log_level == "DEBUG" and s.seed000_tts_model == "qwen-tts"
    assert s.data_dir == Path("/tmp/x") and s.dashscope_http_url == "http://h/api/v1"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("VOICEFN_TTS_MAX_CHARS", "ten", "a whole number >= 1"),
    ("VOICEFN_TTS_MAX_CHARS", "0", "a whole number >= 1"),
    ("VOICEFN_UPSTREAM_RETRIES", "-1", "a whole number >= 0"),
    ("VOICEFN_UPSTREAM_TIMEOUT_S", "soon", "a number >= 0.001"),
    ("VOICEFN_UPSTREAM_RETRY_BUDGET_S", "nan", "a finite number >= 0"),
    ("FC_CUSTOM_LISTEN_PORT", "http", "a whole number >= 1"),
    ("VOICEFN_STATE_STORE", "redis", "one of sqlite, tablestore"),
    ("VOICEFN_OBJECT_STORE", "s3", "one of local, oss"),
    ("VOICEFN_INVOKER", "lambda", "one of inprocess, fc"),
    ("VOICEFN_RUNTIME", "k8s", "one of local, cloud"),
    ("VOICEFN_LOG_LEVEL", "loud", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_a_bad_value_names_the_variable_and_what_it_accepts(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    assert info.value.variable == name and info.value.value == value
    assert str(info.value) == f"{name}={value!r} is not valid: expected {expected}"


def test_a_malformed_service_key_list_is_refused_without_echoing_keys() -> None:
    with pytest.raises(SettingsError, match="VOICEFN_SERVICE_KEYS") as info:
        load_settings({"VOICEFN_SERVICE_KEYS": "billing:sk-secret,sk-lonely"})
    assert "sk-secret" not in str(info.value)


def test_defaults_yield_to_the_environment() -> None:
    s = load_settings({"VOICEFN_PUBLIC_BASE_URL": "https://mine"},
                      defaults={"VOICEFN_PUBLIC_BASE_URL": "http://127.0.0.1:1", "VOICEFN_PLATFORM_KEY_USERS": "*"})
    assert s.public_base_url == "https://mine" and s.platform_key_users == ("*",)
    with pytest.raises(SettingsError, match="VOICEFN_TTS_MAX_CHARS"):  # defaults are checked too
        load_settings({}, defaults={"VOICEFN_TTS_MAX_CHARS": "many"})


def test_role_credentials_come_from_settings_and_stay_out_of_repr() -> None:
    s = load_settings({"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-VALUE",
                       "ALIBABA_CLOUD_SECURITY_TOKEN": "tok", "VOICEFN_JWT_SECRET": "JWT-SECRET"})
    assert s.role_credentials() == ("STS.id", "SECRET-VALUE", "tok")
    assert "SECRET-VALUE" not in repr(s) and "JWT-SECRET" not in repr(s)
    assert Settings().role_credentials({"ALIBABA_CLOUD_ACCESS_KEY_ID": "a",
                                        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"}) == ("a", "b", None)


def test_chat_settings() -> None:
    default = load_settings({})
    assert (default.llm_base_url, default.llm_default_model, default.chat_tts_enabled) == (None, "qwen-plus", False)
    assert "湖南" in default.chat_system_prompt
    s = load_settings({"VOICEFN_LLM_BASE_URL": "http://127.0.0.1:8080/v1/", "VOICEFN_LLM_API_KEY": "secret-llm-key-123",
                       "VOICEFN_LLM_MODEL_MAP": "qwen-plus=Qwen/Qwen3-235B-A22B-Instruct-2507, gpt-4o=qwen-max",
                       "VOICEFN_CHAT_TTS_ENABLED": "true", "VOICEFN_CHAT_TTS_CONCURRENCY": "5"})
    assert s.llm_base_url == "http://127.0.0.1:8080/v1"
    assert s.llm_model_map == {"qwen-plus": "Qwen/Qwen3-235B-A22B-Instruct-2507", "gpt-4o": "qwen-max"}
    assert s.chat_tts_enabled and s.chat_tts_concurrency == 5
    assert s.llm_api_key == "secret-llm-key-123" and "secret-llm-key-123" not in repr(s)
    for bad in ({"VOICEFN_LLM_MODEL_MAP": "qwen-plus"}, {"VOICEFN_CHAT_TTS_ENABLED": "maybe"},
                {"VOICEFN_CHAT_TTS_CONCURRENCY": "0"}):
        with pytest.raises(SettingsError):
            load_settings(bad)
