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
DOCS_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
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
    assert set(functions) == {"tts", "account"}
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


def test_code_points_at_what_voicefn_package_builds(resources: dict[str, Any], manifest: Manifest) -> None:
    for key, spec in manifest.functions.items():
        props = resources[key]["props"]
        assert props["code"] == f"./dist/{spec.code_dir.name}.zip"
        assert (spec.code_dir / spec.package / "__init__.py").is_file()
        assert _assigns_handler(spec.code_dir / "index.py"), key
        if spec.kind == "event":
            assert props["handler"] == "index.handler" and props["runtime"].startswith("python3.")


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


@pytest.mark.parametrize("key", ["tts", "account"])
def test_every_route_of_the_function_app_is_reachable(key: str, manifest: Manifest, local_env: None) -> None:
    spec: FunctionSpec = manifest.functions[key]
    module = spec.app_factory.split(":")[0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
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
