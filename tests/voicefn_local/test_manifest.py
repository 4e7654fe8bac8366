"""s.yaml as the local runtime's route and trigger table."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicefn_local.manifest import ManifestError, load_manifest, parse_manifest, resolve_expressions

ROOT = Path(__file__).resolve().parents[2]

# A small s.yaml in the same shape as the real one, with the OSS triggers later functions will use.
SAMPLE = """
edition: 3.0.0
name: sample
vars:
  region: ${env('REGION', 'cn-shanghai')}
  bucket: ${env('BUCKET', 'audio-bucket')}
  env: {A: one}
resources:
  web:
    component: fc3
    props:
      region: ${vars.region}
      functionName: app-web
      runtime: custom.debian11
      code: ./dist/web.zip
      environmentVariables:
        ACCOUNT: ${config('AccountID')}
        LAYER: acs:fc:${vars.region}:${config('AccountID')}:layers/x/versions/${env('LAYER_VERSION', '1')}
      triggers:
        - {triggerName: http, triggerType: http, triggerConfig: {authType: anonymous, methods: [GET, POST]}}
  asr:
    component: fc3
    props:
      region: ${vars.region}
      functionName: app-asr
      runtime: python3.12
      handler: index.handler
      code: ./functions/asr
      triggers:
        - triggerName: oss-asr
          triggerType: oss
          sourceArn: acs:oss:${vars.region}:${config('AccountID')}:${vars.bucket}
          triggerConfig:
            events: [oss:ObjectCreated:PutObject, oss:ObjectCreated:PostObject]
            filter: {key: {prefix: uploads/asr/, suffix: .wav}}
  voice:
    component: fc3
    props:
      region: ${vars.region}
      functionName: app-voice
      runtime: custom-container
      code: ./dist/voice.zip
      triggers:
        - triggerName: oss-voice
          triggerType: oss
          sourceArn: acs:oss:${vars.region}:${config('AccountID')}:${vars.bucket}
          triggerConfig:
            events: ['oss:ObjectCreated:*']
            filter: {key: {prefix: uploads/voice/, suffix: ''}}
  domain:
    component: fc3-domain
    props:
      region: ${vars.region}
      domainName: auto
      protocol: HTTP
      routeConfig:
        routes:
          - {path: /a/*, functionName: app-web, methods: [GET]}
          - {path: /a/b/*, functionName: app-asr}
          - {path: /a/b/exact, functionName: app-voice}
          - {path: /v1/speech, functionName: app-web, methods: [POST]}
"""


def sample(env: dict[str, str] | None = None):
    return parse_manifest(SAMPLE, ROOT, env=env or {})


def test_functions_are_typed_from_their_resources() -> None:
    m = sample()
    web, asr, voice = m.functions["web"], m.functions["asr"], m.functions["voice"]
    assert (web.name, web.kind, web.runtime) == ("app-web", "web", "custom.debian11")
    assert web.code_dir == ROOT / "functions" / "web"  # ./dist/web.zip is built from functions/web
    assert web.app_factory == "voicefn_web.app:create_app"
    assert web.http_methods == ("GET", "POST")
    assert (asr.kind, asr.code_dir, asr.package) == ("event", ROOT / "functions" / "asr", "voicefn_asr")
    assert voice.kind == "web"  # a custom container is a web server too
    assert m.function("app-asr") is asr and m.function("asr") is asr
    with pytest.raises(KeyError):
        m.function("nope")


def test_expressions_resolve_vars_and_env_and_leave_the_rest() -> None:
    m = sample({"REGION": "cn-beijing", "LAYER_VERSION": "7"})
    env = m.functions["web"].environment
    assert env["LAYER"] == "acs:fc:cn-beijing:${config('AccountID')}:layers/x/versions/7"
    assert env["ACCOUNT"] == "${config('AccountID')}"
    assert m.functions["asr"].oss_triggers[0].bucket == "audio-bucket"
    assert sample({"BUCKET": "other"}).functions["asr"].oss_triggers[0].bucket == "other"


def test_resolve_expressions_forms() -> None:
    variables = {"a": "x", "nested": {"b": 2}, "env": {"K": "V"}}
    env = {"SET": "yes", "EMPTY": ""}
    assert resolve_expressions("${vars.a}-${vars.nested.b}", variables, env) == "x-2"
    assert resolve_expressions("${vars.env}", variables, env) == {"K": "V"}  # a lone expression keeps its type
    assert resolve_expressions("${env('SET', 'no')}", variables, env) == "yes"
    assert resolve_expressions('${env("EMPTY", "dflt")}', variables, env) == "dflt"
    assert resolve_expressions("${env('UNSET')}", variables, env) == ""
    assert resolve_expressions("${vars.missing}", variables, env) == "${vars.missing}"
    assert resolve_expressions(["${vars.a}", 3, None], variables, env) == ["x", 3, None]


def test_match_route_exact_prefix_and_longest() -> None:
    m = sample()
    assert m.match_route("/a/x").key == "web"
    assert m.match_route("/a/").key == "web"
    assert m.match_route("/a") is None            # /a/* matches below /a/ only, like FC
    assert m.match_route("/a/b/c/d").key == "asr"  # the longer prefix wins
    assert m.match_route("/a/b/exact").key == "voice"
    assert m.match_route("/a/b/exactly").key == "asr"
    assert m.match_route("/v1/speech").key == "web"
    assert m.match_route("/v1/speech/x") is None
    assert m.match_route("/elsewhere") is None


def test_routes_carry_methods() -> None:
    m = sample()
    route = m.match("/v1/speech")
    assert route is not None and route.allows("post") and not route.allows("GET")
    assert m.match("/a/b/c").allows("DELETE")  # no methods listed: all


def test_oss_triggers_for_filters_prefix_suffix_and_event() -> None:
    m = sample()
    keys = lambda specs: [s.key for s in specs]  # noqa: E731
    assert keys(m.oss_triggers_for("uploads/asr/u1/t.wav", "ObjectCreated:PutObject")) == ["asr"]
    assert keys(m.oss_triggers_for("uploads/asr/u1/t.wav", "oss:ObjectCreated:PostObject")) == ["asr"]
    assert keys(m.oss_triggers_for("uploads/asr/u1/t.wav", "ObjectCreated:CopyObject")) == []
    assert keys(m.oss_triggers_for("uploads/asr/u1/t.mp3", "ObjectCreated:PutObject")) == []
    assert keys(m.oss_triggers_for("other/asr/t.wav", "ObjectCreated:PutObject")) == []
    # a wildcard event and an empty suffix
    assert keys(m.oss_triggers_for("uploads/voice/u/s.m4a", "ObjectCreated:CompleteMultipartUpload")) == ["voice"]
    assert keys(m.oss_triggers_for("uploads/voice/u/s.m4a", "ObjectRemoved:DeleteObject")) == []


def test_a_route_to_an_undeclared_function_is_an_error() -> None:
    broken = SAMPLE.replace("functionName: app-voice}", "functionName: app-missing}")
    with pytest.raises(ManifestError, match="app-missing"):
        parse_manifest(broken, ROOT, env={})


def test_the_repository_s_yaml() -> None:
    m = load_manifest(ROOT / "s.yaml", env={})
    tts, account = m.functions["tts"], m.functions["account"]
    assert (tts.kind, tts.app_factory) == ("web", "voicefn_tts.app:create_app")
    assert tts.code_dir == ROOT / "functions" / "tts"
    assert (account.kind, account.app_factory) == ("event", "voicefn_account.app:create_app")
    expected = {
        "/api/audio/tts/synthesize": "tts", "/api/audio/tts/stream": "tts", "/api/tts": "tts",
        "/api/tts/audio/abc": "tts", "/v1/audio/speech": "tts", "/v1/audio/models": "tts",
        "/api/audio/history": "account", "/api/audio/settings/api-key": "account", "/health": "account",
    }
    assert {path: m.match_route(path).key for path in expected} == expected
    chat = m.functions["chat"]
    assert (chat.kind, chat.app_factory) == ("web", "voicefn_chat.app:create_app")
    for path in ("/v1/chat/completions", "/v1/chat/audio/x.mp3", "/v1/models", "/api/ai-chat", "/cache/stats",
                 "/cache/clear", "/"):
        assert m.match_route(path).key == "chat", path
    assert m.match_route("/v1/unknown").key == "account"  # the catch-all: a 404 in OpenAI's format
    assert chat.environment["VOICEFN_RUNTIME"] == "cloud"  # the shared settings, merged in
    assert m.match_route("/nope") is None


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "s.yaml")
