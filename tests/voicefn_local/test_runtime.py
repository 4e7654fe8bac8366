"""The local runtime: one ASGI app dispatching to every function of s.yaml."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from voicefn_local import docs, runtime
from voicefn_local.manifest import Manifest, load_manifest, parse_manifest
from voicefn.settings import Settings
from voicefn_local.runtime import EMBEDDED_DASHSCOPE_KEY, build_local_app, configure_local_env, local_settings
from voicefn_local.servers import run_in_thread

ALPHA_APP = '''
import asyncio
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import StreamingResponse

EVENTS = []                       # lifespan events, read by the tests
BUILDS = 0
STREAM_GATE = threading.Event()   # set by the test once it has the first chunk


@asynccontextmanager
async def lifespan(app):
    EVENTS.append("startup")
    yield {"greeting": "hello from lifespan"}
    EVENTS.append("shutdown")


def create_app():
    global BUILDS
    BUILDS += 1
    app = FastAPI(title="alpha", lifespan=lifespan)

    @app.get("/alpha/hello")
    async def hello(request: Request):
        return {"fn": "alpha", "greeting": getattr(request.state, "greeting", None),
                "url_path": request.url.path}

    @app.get("/alpha/stream")
    async def stream():
        async def chunks():
            yield b"first;"
            released = await asyncio.to_thread(STREAM_GATE.wait, 10)
            yield b"second" if released else b"never-released"
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.websocket("/alpha/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        await websocket.close()

    @app.get("/internal/only")   # defined, but s.yaml routes nothing here
    async def internal():
        return {}

    return app
'''

BETA_APP = '''
from fastapi import FastAPI
from pydantic import BaseModel


class Thing(BaseModel):
    name: str


def create_app():
    app = FastAPI(title="beta")

    @app.get("/beta/{item}")
    async def get_item(item: str) -> Thing:
        return Thing(name=item)

    @app.get("/exact")
    async def exact():
        return {"fn": "beta"}

    return app
'''

BROKEN_APP = '''
ATTEMPTS = 0


def create_app():
    global ATTEMPTS
    ATTEMPTS += 1
    raise RuntimeError("boom: this function cannot start")
'''

S_YAML = '''
edition: 3.0.0
name: runtime-test
resources:
  alpha:
    component: fc3
    props: {{region: cn-hangzhou, functionName: rt-alpha, runtime: custom.debian11, code: ./dist/{alpha}.zip}}
  beta:
    component: fc3
    props:
      {{region: cn-hangzhou, functionName: rt-beta, runtime: python3.12, handler: index.handler,
        code: ./functions/{beta}}}
  broken:
    component: fc3
    props:
      {{region: cn-hangzhou, functionName: rt-broken, runtime: python3.12, handler: index.handler,
        code: ./dist/{broken}.zip}}
  domain:
    component: fc3-domain
    props:
      region: cn-hangzhou
      domainName: auto
      protocol: HTTP
      routeConfig:
        routes:
          - {{path: /alpha/*, functionName: rt-alpha}}
          - {{path: /beta/*, functionName: rt-beta, methods: [GET, OPTIONS]}}
          - {{path: /exact, functionName: rt-beta}}
          - {{path: /broken/*, functionName: rt-broken}}
'''


class Functions:
    """Three throwaway function packages on disk (unique names: modules are imported once)."""

    def __init__(self, root: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.dirs = {"alpha": f"rt{tag}a", "beta": f"rt{tag}b", "broken": f"rt{tag}x"}
        sources = {"alpha": ALPHA_APP, "beta": BETA_APP, "broken": BROKEN_APP}
        for key, dirname in self.dirs.items():
            package = root / "functions" / dirname / f"voicefn_{dirname}"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("")
            (package / "app.py").write_text(textwrap.dedent(sources[key]))
            sys.path.insert(0, str(package.parent))
        self.manifest: Manifest = parse_manifest(S_YAML.format(**self.dirs), root, env={})

    def module(self, key: str) -> ModuleType:
        return sys.modules[f"voicefn_{self.dirs[key]}.app"]

    def cleanup(self) -> None:
        for dirname in self.dirs.values():
            sys.path[:] = [p for p in sys.path if not p.endswith(dirname)]


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[None]:
    from voicefn.services import reset_services
    from voicefn.settings import reset_settings

    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "DASHSCOPE_", "FC_", "OSS_", "OTS_")):
            del os.environ[name]
    reset_settings()
    reset_services()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()
    reset_services()


@pytest.fixture
def functions(tmp_path: Path, clean_env: None) -> Iterator[Functions]:
    configure_local_env("127.0.0.1", 8123, tmp_path / "data")
    made = Functions(tmp_path)
    yield made
    made.cleanup()


# ---- dispatch ---------------------------------------------------------------------------------

def test_http_goes_to_the_function_s_yaml_routes_it_to(functions: Functions) -> None:
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    assert client.get("/alpha/hello").json()["fn"] == "alpha"
    assert client.get("/beta/spoon").json() == {"name": "spoon"}
    assert client.get("/exact").json() == {"fn": "beta"}
    assert client.get("/health").json()["status"] == "ok"


def test_unrouted_paths_and_methods_are_refused_in_json(functions: Functions) -> None:
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "/nowhere" in missing.json()["message"]  # seed 003 envelope
    # alpha defines /internal/only, but no route of s.yaml reaches it (as in the cloud)
    assert client.get("/internal/only").status_code == 404
    refused = client.post("/beta/spoon", json={})
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, OPTIONS" and "not routed" in refused.json()["message"]


def test_websocket_is_dispatched_and_unrouted_ones_are_closed(functions: Functions) -> None:
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    with client.websocket_connect("/alpha/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "HELLO"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/nowhere/ws"):
        pass


def test_responses_stream_through_the_dispatcher(functions: Functions) -> None:
    # The app holds its second chunk until the client has the first: a buffering dispatcher
    # would deliver nothing before the app's 10 s gate gives up, and the read would time out.
    with run_in_thread(build_local_app(functions.manifest, mount_dashscope=False)) as server:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            with http.stream("GET", "/alpha/stream") as response:
                gate = functions.module("alpha").STREAM_GATE
                chunks = response.iter_raw()
                assert next(chunks) == b"first;"
                gate.set()
                assert b"".join(chunks) == b"second"


def test_function_lifespans_run_once_around_their_first_request(functions: Functions) -> None:
    app = build_local_app(functions.manifest, mount_dashscope=False)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert f"voicefn_{functions.dirs['alpha']}.app" not in sys.modules  # lazily imported
        first = client.get("/alpha/hello").json()
        client.get("/alpha/hello")
        alpha = functions.module("alpha")
        assert first["greeting"] == "hello from lifespan"  # the lifespan's state reaches requests
        assert alpha.EVENTS == ["startup"] and alpha.BUILDS == 1
    assert alpha.EVENTS == ["startup", "shutdown"]
    with TestClient(app) as client:  # a new server run starts it again, without rebuilding it
        client.get("/alpha/hello")
    assert alpha.EVENTS == ["startup", "shutdown", "startup", "shutdown"] and alpha.BUILDS == 1


def test_without_a_server_lifespan_function_lifespans_do_not_run(functions: Functions) -> None:
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))  # no `with`
    assert client.get("/alpha/hello").json()["greeting"] is None
    assert functions.module("alpha").EVENTS == []


def test_a_broken_function_fails_alone_and_is_built_once(functions: Functions) -> None:
    with TestClient(build_local_app(functions.manifest, mount_dashscope=False)) as client:
        for _ in range(2):
            failed = client.get("/broken/anything")
            assert failed.status_code == 500
            assert "boom: this function cannot start" in failed.json()["detail"]
        assert client.get("/alpha/hello").status_code == 200
        assert client.get("/beta/x").status_code == 200
    assert functions.module("broken").ATTEMPTS == 1


# ---- the local-only endpoints -----------------------------------------------------------------

def _echo_app(services: Any = None) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"url_path": request.url.path, "root_path": request.scope.get("root_path")}

    return app


def test_dashscope_is_mounted_under_its_prefix(functions: Functions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_dashscope_app", _echo_app)
    client = TestClient(build_local_app(functions.manifest))
    # routed as /api/v1/echo inside the app; its URLs keep the prefix (starlette Mount semantics)
    assert client.get("/dashscope/api/v1/echo").json() == {"url_path": "/dashscope/api/v1/echo",
                                                           "root_path": "/dashscope"}
    assert client.get("/dashscope/nope").status_code == 404
    without = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    assert without.get("/dashscope/api/v1/echo").status_code == 404


def test_objects_are_served_with_signed_urls(functions: Functions) -> None:
    from voicefn.services import get_services

    store = get_services().objects
    asyncio.run(store.put("audio/hello.txt", b"hi there", "text/plain"))
    url = httpx.URL(store.signed_get_url("audio/hello.txt"))
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    got = client.get(url.raw_path.decode())
    assert got.status_code == 200 and got.content == b"hi there"
    assert client.get(url.path).status_code == 403  # unsigned


def test_docs_merge_the_routed_paths_of_every_function(functions: Functions) -> None:
    client = TestClient(build_local_app(functions.manifest, mount_dashscope=False))
    spec = client.get("/openapi.json").json()
    assert {"/alpha/hello", "/alpha/stream", "/beta/{item}", "/exact"} <= set(spec["paths"])
    assert "/internal/only" not in spec["paths"]
    assert "Thing" in spec["components"]["schemas"]
    assert "boom" in spec["info"]["description"]  # the broken function is named, not hidden
    swagger = client.get("/docs")
    assert swagger.status_code == 200 and "/openapi.json" in swagger.text and "swagger-ui" in swagger.text
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "/openapi.json" in redoc.text and "redoc" in redoc.text


def test_merge_openapi_renames_conflicting_components() -> None:
    def spec(path: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"openapi": "3.1.0", "paths": {path: {"get": {
            "operationId": "read", "responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
            "components": {"schemas": {"Item": {"type": "object", "properties": fields},
                                       "Shared": {"type": "string"}}}}

    merged = docs.merge_openapi({"a": spec("/a", {"x": {"type": "string"}}),
                                 "b": spec("/b", {"y": {"type": "integer"}})},
                                title="t", version="1")
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Item", "Item_b", "Shared"}  # identical ones are shared, not renamed
    ref_b = merged["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref_b == {"$ref": "#/components/schemas/Item_b"} and "y" in schemas["Item_b"]["properties"]
    assert merged["paths"]["/b"]["get"]["operationId"] == "read_b"  # operation ids stay unique
    kept = docs.merge_openapi({"a": spec("/a", {}), "b": spec("/b", {})}, title="t", version="1",
                              keep=lambda fn, path: fn == "a")
    assert set(kept["paths"]) == {"/a"}


# ---- local_settings ---------------------------------------------------------------------------

def test_local_settings_have_local_defaults(clean_env: None, tmp_path: Path) -> None:
    before = dict(os.environ)
    settings = local_settings("0.0.0.0", 8123, tmp_path / "d", engine="deterministic")
    assert dict(os.environ) == before  # nothing written to the environment
    assert settings.runtime == "local"
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.public_base_url == "http://127.0.0.1:8123"  # a wildcard bind, reached on loopback
    assert settings.dashscope_http_url == "http://127.0.0.1:8123/dashscope/api/v1"
    assert settings.dashscope_ws_url == "ws://127.0.0.1:8123/dashscope/api-ws/v1/inference"
    assert settings.dashscope_compat_url == "http://127.0.0.1:8123/dashscope/compatible-mode/v1"
    assert settings.platform_api_key == EMBEDDED_DASHSCOPE_KEY
    assert settings.platform_key_users == ("*",) and settings.emulator_engine == "deterministic"


def test_configure_local_env_makes_them_this_process_services(clean_env: None, tmp_path: Path) -> None:
    from voicefn.services import get_services

    services = configure_local_env("127.0.0.1", 8123, tmp_path / "d")
    assert get_services() is services and services.settings.data_dir == (tmp_path / "d").resolve()
    assert "VOICEFN_DATA_DIR" not in os.environ


def test_local_settings_never_override_what_the_user_set(clean_env: None, tmp_path: Path) -> None:
    os.environ.update({"VOICEFN_PUBLIC_BASE_URL": "https://voice.example.com", "VOICEFN_PLATFORM_KEY_USERS": "alice",
                       "VOICEFN_FAKE_ENGINE": "espeak", "VOICEFN_DATA_DIR": str(tmp_path / "mine"),
                       "DASHSCOPE_WEBSOCKET_BASE_URL": "ws://elsewhere/ws"})
    settings = local_settings("127.0.0.1", 9000)
    assert settings.public_base_url == "https://voice.example.com"
    assert settings.platform_key_users == ("alice",) and settings.emulator_engine == "espeak"
    assert settings.data_dir == (tmp_path / "mine").resolve()
    assert settings.dashscope_ws_url == "ws://elsewhere/ws"
    assert settings.dashscope_http_url == "http://127.0.0.1:9000/dashscope/api/v1"
    # the command line's flags beat the environment
    flagged = local_settings("127.0.0.1", 9000, tmp_path / "flag", engine="deterministic")
    assert flagged.data_dir == (tmp_path / "flag").resolve() and flagged.emulator_engine == "deterministic"


def test_a_real_dashscope_needs_both_key_and_url(clean_env: None, tmp_path: Path) -> None:
    os.environ.update(DASHSCOPE_API_KEY="sk-real", DASHSCOPE_HTTP_BASE_URL="https://dashscope.aliyuncs.com/api/v1")
    settings = local_settings("127.0.0.1", 9000, tmp_path / "d")
    assert settings.platform_api_key == "sk-real"
    assert settings.dashscope_http_url == "https://dashscope.aliyuncs.com/api/v1"
    assert settings.dashscope_ws_url == Settings.dashscope_ws_url and settings.platform_key_users == ()
    del os.environ["DASHSCOPE_HTTP_BASE_URL"]  # a key alone still means the embedded DashScope
    settings = local_settings("127.0.0.1", 9000, tmp_path / "d")
    assert settings.platform_api_key == "sk-real"
    assert settings.dashscope_http_url == "http://127.0.0.1:9000/dashscope/api/v1"


def test_a_bad_setting_is_a_clear_error(clean_env: None, tmp_path: Path) -> None:
    from voicefn.settings import SettingsError

    os.environ["VOICEFN_STATE_STORE"] = "redis"
    with pytest.raises(SettingsError, match="VOICEFN_STATE_STORE.*sqlite, tablestore"):
        local_settings("127.0.0.1", 9000, tmp_path / "d")


def test_the_default_data_dir_does_not_depend_on_the_working_directory(
        clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn_local.manifest import default_s_yaml_path

    monkeypatch.chdir(tmp_path)
    settings = local_settings("127.0.0.1", 9000)
    assert settings.data_dir == default_s_yaml_path().resolve().parent / ".voicefn"


def test_two_data_dirs_get_two_jwt_secrets(clean_env: None, tmp_path: Path) -> None:
    from voicefn.auth.jwt import local_jwt_secret

    first = local_jwt_secret(local_settings("127.0.0.1", 8000, tmp_path / "one"))
    second = local_jwt_secret(local_settings("127.0.0.1", 8000, tmp_path / "two"))
    assert first != second and len(first) >= 32 and len(second) >= 32


# ---- the real functions -----------------------------------------------------------------------

def _real_app(tmp_path: Path, module: str) -> Any:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    services = configure_local_env("127.0.0.1", 8000, tmp_path / "data")
    return build_local_app(load_manifest(), services=services, mount_dashscope=False)


def _bearer(user: str) -> dict[str, str]:
    from voicefn.auth.jwt import issue_token, local_jwt_secret
    from voicefn.services import get_services

    return {"Authorization": f"Bearer {issue_token(user, local_jwt_secret(get_services().settings))}"}


def test_the_account_function_behind_the_local_app(clean_env: None, tmp_path: Path) -> None:
    app = _real_app(tmp_path, "voicefn_account.app")
    with TestClient(app) as client:
        assert client.get("/api/audio/history").status_code == 401  # the app's own auth ran
        assert client.get("/api/audio/history", headers=_bearer("u1")).status_code == 200
        assert "/api/audio/history" in client.get("/openapi.json").json()["paths"]


def test_the_tts_function_behind_the_local_app(clean_env: None, tmp_path: Path) -> None:
    app = _real_app(tmp_path, "voicefn_tts.app")
    with TestClient(app) as client:
        assert client.get("/api/audio/tts/models").status_code == 200
        assert client.get("/v1/audio/models").status_code == 200
        assert "/api/audio/tts/synthesize" in client.get("/openapi.json").json()["paths"]
