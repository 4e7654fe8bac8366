"""s.yaml: valid for the fc3 / fc3-domain components, and consistent with the code it deploys."""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from voicefn_local.manifest import FunctionSpec, Manifest, load_manifest, resolve_expressions

ROOT = Path(__file__).resolve().parents[1]
# The fc3 component's props schema (devsapp/fc3 src/schema.json at 4ca1c1b, MIT licence), vendored.
FC3_SCHEMA = ROOT / "tests" / "data" / "fc3" / "schema.json"
SAMPLE_ACCOUNT_ID = "1234567890123456"

# The props the fc3-domain component requires and checks, from devsapp/fc3-domain src/schema.json
# (not vendored in reference/): enough to catch a misspelt key, method or protocol.
FC3_DOMAIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["region", "domainName", "protocol", "routeConfig"],
    "properties": {
        "region": {"type": "string", "pattern": "^[a-z]+-[a-z0-9-]+$"},
        "domainName": {"type": "string"},
        "protocol": {"enum": ["HTTP", "HTTPS", "HTTP,HTTPS"]},
        "routeConfig": {
            "type": "object", "required": ["routes"],
            "properties": {"routes": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["functionName", "path"],
                "properties": {
                    "functionName": {"type": "string"}, "path": {"type": "string", "pattern": "^/"},
                    "qualifier": {"type": "string"},
                    "methods": {"type": "array", "items": {
                        "enum": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]}},
                }}}},
        },
    },
}

# Paths a function serves that are not meant for the custom domain.
FC_INTERNAL_PATHS = {"/invoke"}             # FC posts async invocations of a web function here
DOCS_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/docs/assets/{name}"}
SHARED_META_PATHS = {"/health"}             # every app has it; the domain sends it to one of them


def _sample(value: Any) -> Any:
    """Resolve vars/env with their defaults, then give config('AccountID') a plausible value."""
    if isinstance(value, dict):
        return {k: _sample(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sample(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\$\{\s*config\(\s*['\"]AccountID['\"]\s*\)\s*\}", SAMPLE_ACCOUNT_ID, value)
    return value


@pytest.fixture(scope="module")
def fc3_schema() -> dict[str, Any]:
    return json.loads(FC3_SCHEMA.read_text())


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "s.yaml").read_text())
    assert doc["edition"] == "3.0.0"
    variables = _sample(resolve_expressions(doc["vars"], {}, {}))
    resolved = _sample(resolve_expressions(doc["resources"], variables, {}))
    leftovers = re.findall(r"\$\{[^}]*\}", json.dumps(resolved))
    assert not leftovers, f"unresolvable expressions in s.yaml: {leftovers}"
    return resolved


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(ROOT / "s.yaml", env={})


def _fc3(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["props"] for k, r in resources.items() if r["component"] == "fc3"}


def _errors(schema: dict[str, Any], props: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(props)]


def test_every_fc3_resource_matches_the_component_schema(resources: dict[str, Any],
                                                        fc3_schema: dict[str, Any]) -> None:
    functions = _fc3(resources)
    assert set(functions) == {"tts", "account", "asr", "voice", "chat"}
    for key, props in functions.items():
        assert _errors(fc3_schema, props) == [], key


def test_the_schema_conditionals_are_enforced(resources: dict[str, Any], fc3_schema: dict[str, Any]) -> None:
    """if/then/else: custom runtimes need `code`, built-in runtimes need `code` and `handler`."""
    tts = copy.deepcopy(resources["tts"]["props"])
    assert "handler" not in tts  # a custom runtime needs none...
    del tts["code"]
    assert any("'code' is a required property" in e for e in _errors(fc3_schema, tts))
    account = copy.deepcopy(resources["account"]["props"])
    del account["handler"]
    assert any("'handler' is a required property" in e for e in _errors(fc3_schema, account))


def test_the_domain_matches_the_fc3_domain_schema(resources: dict[str, Any]) -> None:
    domains = [r["props"] for r in resources.values() if r["component"] == "fc3-domain"]
    assert len(domains) == 1
    assert _errors(FC3_DOMAIN_SCHEMA, domains[0]) == []
    assert domains[0]["region"] == resources["tts"]["props"]["region"]


def test_domain_routes_name_declared_functions_and_their_methods(resources: dict[str, Any]) -> None:
    functions = {p["functionName"]: p for p in _fc3(resources).values()}
    domain = next(r["props"] for r in resources.values() if r["component"] == "fc3-domain")
    for route in domain["routeConfig"]["routes"]:
        assert route["functionName"] in functions, route
        http = [t for t in functions[route["functionName"]]["triggers"] if t["triggerType"] == "http"]
        # the trigger and the domain route say the same thing about what the function accepts
        assert set(route.get("methods", [])) <= set(http[0]["triggerConfig"]["methods"]), route


def test_functions_share_the_layer_and_environment(resources: dict[str, Any]) -> None:
    functions = _fc3(resources)
    layers = {tuple(p["layers"]) for p in functions.values()}
    assert len(layers) == 1
    (arn,) = layers.pop()
    region = functions["tts"]["region"]
    assert re.fullmatch(rf"acs:fc:{region}:{SAMPLE_ACCOUNT_ID}:layers/voicefn-common/versions/\d+", arn)
    for props in functions.values():
        env = props["environmentVariables"]
        assert env["PYTHONPATH"].split(":")[:2] == ["/opt/python", "/code"]
        assert env["VOICEFN_RUNTIME"] == "cloud"
        # `python3` must be FC's 3.12 (the layer's wheels are cp312), not Debian's own python3
        assert env["PATH"].split(":")[0] == "/var/fc/lang/python3.12/bin"
        assert env["OSS_BUCKET"] and env["OTS_ENDPOINT"].startswith("https://")


def test_web_function_runs_the_layer_server_on_port_9000(resources: dict[str, Any], manifest: Manifest) -> None:
    props, spec = resources["tts"]["props"], manifest.functions["tts"]
    assert spec.kind == "web" and props["runtime"] == "custom.debian11"
    config = props["customRuntimeConfig"]
    assert config["port"] == 9000
    assert config["command"] == ["python3", "-m", "voicefn.web.server"]
    assert config["args"] == [spec.app_factory]
    assert importlib.util.find_spec("voicefn.web.server") is not None
    http = props["triggers"][0]["triggerConfig"]
    assert http["authType"] == "anonymous" and "OPTIONS" in http["methods"]


def _assigns_handler(index: Path) -> bool:
    tree = ast.parse(index.read_text())
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "handler" for t in node.targets)
               for node in tree.body)


@pytest.mark.parametrize("key", ["tts", "account", "asr", "voice"])
def test_code_points_at_what_voicefn_package_builds(key: str, resources: dict[str, Any], manifest: Manifest) -> None:
    spec, props = manifest.functions[key], resources[key]["props"]
    assert props["code"] == f"./dist/{spec.code_dir.name}.zip"
    assert _assigns_handler(spec.code_dir / "index.py"), key
    if spec.kind == "event":
        assert props["handler"] == "index.handler" and props["runtime"].startswith("python3.")
    if not (spec.code_dir / spec.package / "__init__.py").is_file():
        pytest.skip(f"{spec.package} does not exist yet")


def test_asr_is_an_event_function_triggered_by_asr_uploads(resources: dict[str, Any], manifest: Manifest) -> None:
    props, spec = resources["asr"]["props"], manifest.functions["asr"]
    assert (spec.kind, spec.app_factory, spec.name) == ("event", "voicefn_asr.app:create_app", "voicefn-asr")
    assert props["environmentVariables"] == resources["account"]["props"]["environmentVariables"]
    assert (props["memorySize"], props["timeout"]) == (1024, 600)
    assert props["asyncInvokeConfig"] == {"maxAsyncRetryAttempts": 3, "maxAsyncEventAgeInSeconds": 86400}
    (oss,) = [t for t in props["triggers"] if t["triggerType"] == "oss"]
    # FC3 syntax: the bucket is in sourceArn (FC2's triggerConfig.bucketName is not accepted)
    region, bucket = props["region"], props["environmentVariables"]["OSS_BUCKET"]
    assert oss["sourceArn"] == f"acs:oss:{region}:{SAMPLE_ACCOUNT_ID}:{bucket}"
    assert "bucketName" not in oss["triggerConfig"]
    assert oss["triggerConfig"]["filter"] == {"key": {"prefix": "uploads/asr/", "suffix": ""}}
    assert set(oss["triggerConfig"]["events"]) == {"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject",
                                                   "oss:ObjectCreated:CompleteMultipartUpload"}
    # what the local runtime reads from it: uploads of tickets reach asr, other keys and events do not
    for event in ("ObjectCreated:PutObject", "ObjectCreated:PostObject", "ObjectCreated:CompleteMultipartUpload"):
        assert [s.key for s in manifest.oss_triggers_for("uploads/asr/u1/" + "0" * 32 + ".wav", event)] == ["asr"]
    assert manifest.oss_triggers_for("uploads/asr/u1/t.wav", "ObjectCreated:CopyObject") == []
    assert [s.key for s in manifest.oss_triggers_for("uploads/voice/u1/t.wav", "ObjectCreated:PutObject")] == ["voice"]
    assert manifest.oss_triggers_for("audio/tts/20250101/x.mp3", "ObjectCreated:PutObject") == []
    routes = {path: manifest.match_route(path).key for path in
              ("/api/audio/asr/recognize", "/api/audio/asr/task/abc", "/v1/audio/transcriptions",
               "/api/audio/uploads", "/api/audio/uploads/abc")}
    assert routes == {"/api/audio/asr/recognize": "asr", "/api/audio/asr/task/abc": "asr",
                      "/v1/audio/transcriptions": "asr", "/api/audio/uploads": "account",
                      "/api/audio/uploads/abc": "account"}


def test_voice_is_an_event_function_triggered_by_voice_uploads(resources: dict[str, Any],
                                                                manifest: Manifest) -> None:
    props, spec = resources["voice"]["props"], manifest.functions["voice"]
    assert (spec.kind, spec.app_factory, spec.name) == ("event", "voicefn_voice.app:create_app", "voicefn-voice")
    assert props["environmentVariables"] == resources["account"]["props"]["environmentVariables"]
    assert props["asyncInvokeConfig"] == {"maxAsyncRetryAttempts": 3, "maxAsyncEventAgeInSeconds": 86400}
    (oss,) = [t for t in props["triggers"] if t["triggerType"] == "oss"]
    region, bucket = props["region"], props["environmentVariables"]["OSS_BUCKET"]
    assert oss["sourceArn"] == f"acs:oss:{region}:{SAMPLE_ACCOUNT_ID}:{bucket}"
    assert oss["triggerConfig"]["filter"] == {"key": {"prefix": "uploads/voice/", "suffix": ""}}
    for event in ("ObjectCreated:PutObject", "ObjectCreated:PostObject", "ObjectCreated:CompleteMultipartUpload"):
        assert [s.key for s in manifest.oss_triggers_for("uploads/voice/u1/" + "0" * 32 + ".mp3", event)] == ["voice"]
    assert manifest.oss_triggers_for("audio/voice/20250101/x.wav", "ObjectCreated:PutObject") == []
    routes = {path: manifest.match_route(path).key for path in
              ("/api/audio/voice/create", "/api/audio/voice/system", "/api/audio/voice/list",
               "/api/audio/voice/cosyvoice-v2-abc-0123", "/api/voice/create_voice", "/api/voice/get_voices")}
    assert set(routes.values()) == {"voice"}, routes


def _oss_trigger_config_errors(fc3_schema: dict[str, Any], config: dict[str, Any]) -> list[str]:
    # ITrigger.triggerConfig is anyOf(..., IOtsConfig = {"type": "object"}, ...): any object passes
    # the props schema, so an OSS trigger's config is checked against IOssTriggerConfig itself
    schema = {"$ref": "#/definitions/IOssTriggerConfig", "definitions": fc3_schema["definitions"]}
    return _errors(schema, config)


def test_the_oss_trigger_config_matches_the_schema_s_oss_definition(resources: dict[str, Any],
                                                                   fc3_schema: dict[str, Any]) -> None:
    triggers = [t for p in _fc3(resources).values() for t in p.get("triggers", []) if t["triggerType"] == "oss"]
    assert triggers
    for trigger in triggers:
        assert _oss_trigger_config_errors(fc3_schema, trigger["triggerConfig"]) == [], trigger["triggerName"]
    config = triggers[0]["triggerConfig"]
    # the schema requires both filter keys (an empty suffix is a valid string) and knows the events
    no_suffix = copy.deepcopy(config)
    del no_suffix["filter"]["key"]["suffix"]
    assert any("'suffix' is a required property" in e for e in _oss_trigger_config_errors(fc3_schema, no_suffix))
    bad_event = {**config, "events": [*config["events"], "oss:ObjectCreated:Upload"]}
    assert _oss_trigger_config_errors(fc3_schema, bad_event)
    fc2_style = {"events": config["events"], "bucketName": "b", "filter": {"Key": {"Prefix": "uploads/asr/"}}}
    assert _oss_trigger_config_errors(fc3_schema, fc2_style)
    assert _errors(fc3_schema, {**resources["asr"]["props"], "asyncInvokeConfig": {"maxAsyncRetryAttempts": 9}})


def _function_routes(app: Any) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, through FastAPI 0.165's lazily included routers."""
    from fastapi.routing import APIWebSocketRoute, iter_route_contexts
    from starlette.routing import WebSocketRoute

    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, (APIWebSocketRoute, WebSocketRoute)):
            yield context.path, {"GET"}  # the upgrade request
        elif context.path is not None:
            yield context.path, set(context.methods or ()) - {"HEAD"}


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[None]:
    from voicefn.services import reset_services
    from voicefn.settings import reset_settings

    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "DASHSCOPE_", "FC_", "OSS_", "OTS_")):
            del os.environ[name]
    os.environ.update(VOICEFN_RUNTIME="local", VOICEFN_DATA_DIR=str(tmp_path))
    reset_settings()
    reset_services()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    reset_services()


@pytest.mark.parametrize("key", ["tts", "account", "asr", "voice"])
def test_every_route_of_the_function_app_is_reachable(key: str, manifest: Manifest, local_env: None) -> None:
    spec: FunctionSpec = manifest.functions[key]
    module = spec.app_factory.split(":")[0]
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the function's package is not installed yet (pyproject's package list)
        found = False
    if not found:
        pytest.skip(f"{module} does not exist yet or is not importable")
    app = importlib.import_module(module).create_app()
    checked = 0
    for path, methods in _function_routes(app):
        if path in DOCS_PATHS | FC_INTERNAL_PATHS:
            continue
        route = manifest.match(path)
        if path in SHARED_META_PATHS and (route is None or route.function is not spec):
            continue
        assert route is not None and route.function is spec, f"{key}: {path} is not routed to it"
        refused = {m for m in methods if not route.allows(m)}
        assert not refused, f"{key}: {path} serves {sorted(refused)} but {route.pattern} does not route them"
        checked += 1
    assert checked > 0
