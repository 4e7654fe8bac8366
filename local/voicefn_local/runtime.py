"""`voicefn serve`'s single ASGI app: every function of s.yaml behind one uvicorn (DESIGN.md §2).

Requests go where the custom domain of s.yaml would send them in the cloud. Next to the
functions it serves what the cloud provides elsewhere: the embedded DashScope under
``/dashscope``, the local object store's signed URLs under ``/_objects``, one merged API doc
(``/docs``, ``/redoc``, ``/openapi.json``) and ``/health``.

Objects stored while it serves a request (uploads to ``/_objects``, or function code) raise the
OSS events s.yaml's triggers ask for (``voicefn_local.oss_events``).

Each sub-app is imported and built on its first request, at most once, so a function that fails
to import answers 500 while the others keep working. Its lifespan (startup/shutdown hooks) starts
right before that first request when the server runs lifespans, and ends at server shutdown.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicefn.errors import ApiError, render_error

import voicefn
from voicefn.services import Services, bind_services, get_services, set_services, unbind_services
from voicefn.settings import Settings, env_is_set, load_settings
from voicefn_local import dev_token, docs
from voicefn_local.manifest import FunctionSpec, Manifest
from voicefn_local.oss_events import (
    OssEventDispatcher, bind_dispatcher, hook_store, unbind_dispatcher, upload_event_app,
)

__all__ = ["EMBEDDED_DASHSCOPE_KEY", "LocalApp", "build_local_app", "configure_local_env", "local_settings",
           "resolve_data_dir", "default_data_dir"]

log = logging.getLogger("voicefn.local")

EMBEDDED_DASHSCOPE_KEY = "sk-voicefn-embedded"
DEFAULT_DATA_DIR = ".voicefn"
DASHSCOPE_PREFIX = "/dashscope"
OBJECTS_PREFIX = "/_objects"
_SHUTDOWN_TIMEOUT_S = 10.0
_TITLE = "voicefn (local)"


def local_settings(host: str, port: int, data_dir: str | os.PathLike[str] | None = None,
                   engine: str | None = None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Local mode's settings: the environment's, with local defaults where it sets nothing.

    ``data_dir`` and ``engine`` (the command line's flags) beat the environment; without them,
    ``$VOICEFN_DATA_DIR`` or :func:`default_data_dir`. Unless a real ``DASHSCOPE_API_KEY`` and
    ``DASHSCOPE_HTTP_BASE_URL`` are both configured, DashScope is the embedded one on this server,
    with a platform key every user may use (so ``voicefn token`` + curl works out of the box).
    Nothing is written to ``os.environ``: the result goes to :class:`Services` and the apps.
    """
    # the address this server is reached at: a wildcard bind is reachable on loopback
    public = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in public and not public.startswith("["):
        public = f"[{public}]"
    base = f"http://{public}:{port}"
    defaults = {"VOICEFN_RUNTIME": "local", "VOICEFN_PUBLIC_BASE_URL": base}
    if not _real_dashscope_configured(environ):
        defaults.update({
            "DASHSCOPE_HTTP_BASE_URL": f"{base}{DASHSCOPE_PREFIX}/api/v1",
            "DASHSCOPE_WEBSOCKET_BASE_URL": f"ws://{public}:{port}{DASHSCOPE_PREFIX}/api-ws/v1/inference",
            "DASHSCOPE_COMPATIBLE_BASE_URL": f"{base}{DASHSCOPE_PREFIX}/compatible-mode/v1",
            "DASHSCOPE_API_KEY": EMBEDDED_DASHSCOPE_KEY,
            "VOICEFN_PLATFORM_KEY_USERS": "*",
        })
    settings = load_settings(environ, defaults=defaults)
    return replace(settings, data_dir=resolve_data_dir(data_dir, settings, environ),
                   emulator_engine=engine or settings.emulator_engine)


def default_data_dir() -> Path:
    """``.voicefn`` next to the s.yaml served by default: the same wherever the command runs."""
    from voicefn_local.manifest import default_s_yaml_path

    return default_s_yaml_path().resolve().parent / DEFAULT_DATA_DIR


def resolve_data_dir(flag: str | os.PathLike[str] | None, settings: Settings,
                     environ: Mapping[str, str] | None = None) -> Path:
    """The data dir `voicefn serve` and `voicefn token` use: the flag, $VOICEFN_DATA_DIR, the default."""
    if flag is not None:
        chosen = Path(flag)
    elif env_is_set("VOICEFN_DATA_DIR", environ):
        chosen = settings.data_dir
    else:
        chosen = default_data_dir()
    return chosen.expanduser().resolve()


def configure_local_env(host: str, port: int, data_dir: str | os.PathLike[str] | None = None,
                        engine: str | None = None) -> Services:
    """Build local mode's :class:`Services` and make them this process's (``get_services``)."""
    services = Services(local_settings(host, port, data_dir, engine))
    set_services(services)
    return services


def _real_dashscope_configured(environ: Mapping[str, str] | None = None) -> bool:
    key = load_settings(environ).platform_api_key or ""
    return bool(key) and key != EMBEDDED_DASHSCOPE_KEY and env_is_set("DASHSCOPE_HTTP_BASE_URL", environ)


class _Lifespan:
    """Runs one sub-app's lifespan protocol as a task; ``state`` is what its startup yielded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._supported = True

    async def startup(self) -> None:
        """Raise ``RuntimeError`` if the app reports a failed startup."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        self._task = asyncio.create_task(self._run(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {message.get('message', '')}")
        if message["type"] == "_exited":
            self._supported = False  # ASGI: an app that raises on lifespan does not support it

    async def shutdown(self) -> None:
        if self._task is None or not self._supported or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            message = await asyncio.wait_for(self._from_app.get(), _SHUTDOWN_TIMEOUT_S)
            if message["type"] == "lifespan.shutdown.failed":
                log.error("lifespan shutdown failed: %s", message.get("message", ""))
            await asyncio.wait_for(self._task, _SHUTDOWN_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._task.cancel()

    async def _run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except BaseException as exc:  # noqa: BLE001 - reported to whoever waits
            await self._from_app.put({"type": "_exited", "error": repr(exc)})
            if not isinstance(exc, Exception):
                raise
        else:
            await self._from_app.put({"type": "_exited"})


class _Unavailable(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _SubApp:
    """An ASGI app built on first use, at most once, with its lifespan."""

    def __init__(self, name: str, builder: Callable[[], ASGIApp]) -> None:
        self.name = name
        self._builder = builder
        self._lock = threading.Lock()
        self._app: ASGIApp | None = None
        self.error: BaseException | None = None
        self._lifespan: _Lifespan | None = None
        self._started: asyncio.Future[None] | None = None

    @property
    def built(self) -> ASGIApp | None:
        """The app if it was built already (never builds)."""
        return self._app

    def get(self) -> ASGIApp:
        """The app; raises the build error (every time) if building failed."""
        with self._lock:
            if self._app is None and self.error is None:
                try:
                    self._app = self._builder()
                except Exception as exc:  # noqa: BLE001 - a broken function must not stop the others
                    log.exception("building %s failed", self.name)
                    self.error = exc
            if self.error is not None:
                raise _Unavailable(self.error)  # a fresh exception: re-raising one grows its traceback
            assert self._app is not None
            return self._app

    async def ensure_started(self) -> dict[str, Any]:
        """Run the app's lifespan startup once (concurrent callers wait); returns its state."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            lifespan = _Lifespan(self.get())
            try:
                await lifespan.startup()
            except Exception as exc:  # noqa: BLE001
                log.error("%s: %s", self.name, exc)
                self.error = exc
                self._started.set_exception(exc)
                self._started.exception()  # mark retrieved: waiters, if any, re-raise it themselves
                raise
            self._lifespan = lifespan
            self._started.set_result(None)
        else:
            await asyncio.shield(self._started)
        return self._lifespan.state if self._lifespan else {}

    async def shutdown(self) -> None:
        lifespan, self._lifespan, self._started = self._lifespan, None, None
        if lifespan is not None:
            await lifespan.shutdown()


class LocalApp:
    """The dispatcher: routes by s.yaml, plus the local-only endpoints."""

    def __init__(self, manifest: Manifest, *, services: Services | None = None,
                 mount_dashscope: bool = True) -> None:
        self.manifest = manifest
        # one Services for every function: they share this process, as one FC instance would its own
        self.services = services if services is not None else get_services()
        self.functions: dict[str, _SubApp] = {
            key: _SubApp(f"function {key!r}", _factory_builder(spec, self)) for key, spec in manifest.functions.items()
        }
        self.dashscope = (_SubApp("embedded DashScope", lambda: _dashscope_app(self.services))
                          if mount_dashscope else None)
        self.objects = _SubApp("object store", lambda: _objects_app(self))
        self.oss_events = OssEventDispatcher(manifest)
        declare_jobs(manifest)
        self._lifespan_running = False
        self._openapi: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        _home_jobs_here()
        if kind not in ("http", "websocket"):
            return
        token = bind_dispatcher(self.oss_events)  # objects stored while serving this raise its OSS events
        # code outside the routes (jobs, OSS events) started from here finds these Services
        bound = bind_services(self.services)
        try:
            await self._serve(scope, receive, send)
        finally:
            unbind_services(bound)
            unbind_dispatcher(token)

    def use_services(self, services: Services) -> None:
        """Serve with other Services from now on (tests swap settings and adapters this way)."""
        self.services = services
        for sub in self.functions.values():
            app = sub.built
            if app is not None and hasattr(app, "state"):
                app.state.services = services

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        path = _route_path(scope)
        if path == "/health":
            from voicefn.web.app import health_body

            await _send_json(scope, receive, send, 200, health_body())
        elif self.dashscope is not None and _under(path, DASHSCOPE_PREFIX):
            child = {**scope, "root_path": scope.get("root_path", "") + DASHSCOPE_PREFIX}
            await self._forward(self.dashscope, child, receive, send)
        elif _under(path, OBJECTS_PREFIX):
            self._hook_object_store()
            await self._forward(self.objects, scope, receive, send)
        elif _under(path, dev_token.PREFIX) and kind == "http":
            await dev_token.serve_local_route(path, self.services.settings, scope, receive, send)
        elif (path in ("/docs", "/redoc", "/openapi.json") or path.startswith("/docs/assets/")) and kind == "http":
            await self._docs(path, scope, receive, send)
        else:
            await self._function(path, scope, receive, send)

    async def _function(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.manifest.match(path)
        if route is None:
            await _send_json(scope, receive, send, 404, render_error(ApiError(
                "NOT_FOUND", f"not found: no function in s.yaml serves {path}"), path))
            return
        method = "GET" if scope["type"] == "websocket" else scope["method"]
        if not route.allows(method):
            # FC's custom domain refuses methods a route does not list; so do we
            await _send_json(scope, receive, send, 405, render_error(ApiError(
                "METHOD_NOT_ALLOWED", f"{method} is not routed for {route.pattern}"), path),
                             headers=[(b"allow", ", ".join(route.methods).encode())])
            return
        self._hook_object_store()
        await self._forward(self.functions[route.function.key], scope, receive, send)

    def _hook_object_store(self) -> None:
        # per request: tests replace the services (and with them the store) at any time
        try:
            hook_store(self.services.objects)
        except Exception:  # noqa: BLE001 - a store that cannot be built fails the request on its own
            log.debug("object store not hooked for OSS events", exc_info=True)

    async def _forward(self, sub: _SubApp, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            app = sub.get()
            state = await sub.ensure_started() if self._lifespan_running else {}
        except Exception as exc:  # noqa: BLE001
            cause = exc.cause if isinstance(exc, _Unavailable) else exc
            await _send_json(scope, receive, send, 500,
                             {"detail": f"{sub.name} is unavailable: {type(cause).__name__}: {cause}"})
            return
        if state:
            # like uvicorn: each request gets a shallow copy of the lifespan state
            scope = {**scope, "state": {**scope.get("state", {}), **state}}
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _home_jobs_here()
                await _resume_jobs(self.services)
                self._lifespan_running = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._lifespan_running = False
                await self.oss_events.close()
                for sub in self._all_subapps():
                    try:
                        await sub.shutdown()
                    except Exception:  # noqa: BLE001 - shut the others down anyway
                        log.exception("shutting down %s failed", sub.name)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _all_subapps(self) -> list[_SubApp]:
        subs = list(self.functions.values()) + [self.objects]
        return subs + ([self.dashscope] if self.dashscope else [])

    async def _docs(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "").rstrip("/")
        openapi_url = root + "/openapi.json"
        if path == "/docs":
            response = docs.swagger_ui_page(openapi_url, _TITLE, root)
        elif path == "/redoc":
            response = docs.redoc_page(openapi_url, _TITLE, root)
        elif path.startswith("/docs/assets/"):
            response = docs.asset(path)
        else:
            await _send_bytes(send, 200, docs.dumps(self.openapi()), b"application/json")
            return
        await response(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """The merged OpenAPI document of every function (builds them all, once)."""
        if self._openapi is None:
            specs: dict[str, dict[str, Any]] = {}
            broken: list[str] = []
            for key, sub in self.functions.items():
                try:
                    openapi = getattr(sub.get(), "openapi", None)
                    if openapi is not None:  # FastAPI apps; anything else has no document
                        specs[key] = openapi()
                except Exception as exc:  # noqa: BLE001
                    cause = exc.cause if isinstance(exc, _Unavailable) else exc
                    broken.append(f"`{key}` ({type(cause).__name__}: {cause})")
            description = "Every function of s.yaml, served by `voicefn serve`, as routed by its custom domain."
            if broken:
                description += "\n\nUnavailable: " + "; ".join(broken)
            self._openapi = docs.merge_openapi(
                specs, title=_TITLE, version=voicefn.__version__, description=description,
                keep=lambda key, path: self.manifest.match_route(path) is self.manifest.functions[key])
        return self._openapi


def build_local_app(manifest: Manifest, *, services: Services | None = None,
                    mount_dashscope: bool = True) -> LocalApp:
    """One ASGI app serving every function of ``manifest`` (and the embedded DashScope).

    ``services`` (default: this process's, ``get_services()``) are handed to every function.
    """
    return LocalApp(manifest, services=services, mount_dashscope=mount_dashscope)


def _home_jobs_here() -> None:
    # in-process jobs run on this server's loop, whichever loop queued them
    from voicefn.invoke.inprocess import run_jobs_on

    run_jobs_on(asyncio.get_running_loop())


async def _resume_jobs(services: Services) -> None:
    # in-process jobs died with the previous process; their tasks did not: queue them again
    from voicefn.jobs import resume

    try:
        await resume(services)
    except Exception:  # noqa: BLE001 - a server that cannot resume old tasks still serves new ones
        log.exception("resuming unfinished jobs failed")


def declare_jobs(manifest: Manifest) -> list[str]:
    """Import every function's job declarations (``<package>.jobs``) once, at startup, so that the
    in-process invoker can run any function's job from the start (a resumed task, a job one
    function queues for another) before that function has served a request. Returns the modules."""
    loaded = []
    for spec in manifest.functions.values():
        name = f"{spec.package}.jobs"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but imports something missing: say so
                log.exception("importing %s failed", name)
            continue
        except Exception:  # noqa: BLE001 - a broken function must not stop the others
            log.exception("importing %s failed", name)
            continue
        loaded.append(name)
    return loaded


def _factory_builder(spec: FunctionSpec, local: LocalApp) -> Callable[[], ASGIApp]:
    def build() -> ASGIApp:
        module_name, _, attr = spec.app_factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        token = bind_services(local.services)  # a factory that takes no Services finds them here
        try:
            return factory(local.services) if _takes_an_argument(factory) else factory()
        finally:
            unbind_services(token)
    return build


def _takes_an_argument(factory: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)


def _dashscope_app(services: Services) -> ASGIApp:
    from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app

    # it shares this server's port: it may fetch only what the local object store serves
    objects = f"{services.settings.public_base_url}/_objects/"
    return create_dashscope_app(EmulatorConfig.from_settings(services.settings, fetch_only=(objects,)))


def _objects_app(local: LocalApp) -> ASGIApp:
    from fastapi import FastAPI

    from voicefn_local.object_server import object_router

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(object_router(lambda: local.services.objects))
    return upload_event_app(app)  # form POSTs raise ObjectCreated:PostObject, PUTs PutObject


def _route_path(scope: Scope) -> str:
    # like starlette's get_route_path: the path below root_path, when the server includes it
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root):] or "/"
    return path


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


async def _send_json(scope: Scope, receive: Receive, send: Send, status: int, body: dict[str, Any],
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    if scope["type"] == "websocket":
        # refused before accept: uvicorn answers the handshake with 403
        await send({"type": "websocket.close", "code": 1008 if status < 500 else 1011})
        return
    await _send_bytes(send, status, json.dumps(body).encode(), b"application/json", headers)


async def _send_bytes(send: Send, status: int, body: bytes, content_type: bytes,
                      headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
