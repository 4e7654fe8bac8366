"""FC 3.0 event-function entry: ``handler(event, context)`` for HTTP-trigger, OSS and job events.

HTTP events are translated to API Gateway v2 and run through Mangum (buffered: event functions
cannot stream; streaming routes live in web functions, see ``server.py``). OSS events go to the
function's ``on_oss_event``; our own async invocations (a JSON object with a ``"job"`` key, signed
by ``voicefn.jobs``) go to its ``on_job`` (the function's ``voicefn.jobs.dispatcher``), which
verifies the signature and runs the declared job. An exception from either
propagates, so that FC retries the invocation (at-least-once). The app, the Mangum adapter and one
event loop are created on the first call and reused for the life of the instance, so clients
bound to the loop survive calls. So are the instance's :class:`Services` (adapters): built from
the settings on the first call (a bad setting fails that call clearly), handed to the app and
bound while each event runs, so ``on_oss_event``/``on_job`` find them with ``get_services()``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.types import ASGIApp

from voicefn.errors import ApiError, render_error
from voicefn.logging import bind_request_id, configure_logging, get_logger, reset_request_id
from voicefn.services import Services, get_services, using_services
from voicefn.uploads.event import OssEvent
from voicefn.web.fc3_http import EventError, apigw_v2_to_fc3, fc3_to_apigw_v2, is_http_event

__all__ = ["make_event_handler", "is_job_payload", "EventHandler", "NoJobHandlerError", "NoOssHandlerError"]

_log = get_logger("voicefn.fc")


class NoOssHandlerError(RuntimeError):
    """An OSS event reached a function that has no ``on_oss_event``: a trigger misconfiguration."""


class NoJobHandlerError(RuntimeError):
    """A job payload reached a function that has no ``on_job``: it was invoked by mistake."""


OssEventHandler = Callable[[dict[str, Any], Any], Any]
JobHandler = Callable[[dict[str, Any]], Awaitable[None] | None]


def is_job_payload(event: Mapping[str, Any]) -> bool:
    """An async invocation made by ``voicefn.jobs.sign_job``: ``{"job": "<name>", ..., "sig"}``."""
    return isinstance(event.get("job"), str) and "requestContext" not in event and "events" not in event


def _parse(event: Any) -> dict[str, Any]:
    if isinstance(event, (bytes, bytearray, memoryview)):
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            raise EventError("event is not UTF-8 JSON") from None
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise EventError("event is not valid JSON") from None
    if not isinstance(event, dict):
        raise EventError("event must be a JSON object")
    return event


def _context_request_id(context: Any) -> str | None:
    rid = context.get("request_id") if isinstance(context, dict) else getattr(context, "request_id", None)
    return str(rid) if rid else None


def _error_struct(status: int, code: str, message: str, path: str = "/") -> dict[str, Any]:
    body = render_error(ApiError(code, message, status=status), path)
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "isBase64Encoded": False, "body": json.dumps(body, ensure_ascii=False)}


class EventHandler:
    """The callable returned by :func:`make_event_handler`. ``close()`` frees the loop (tests)."""

    def __init__(self, app_factory: Callable[[], ASGIApp], on_oss_event: OssEventHandler | None = None,
                 on_job: JobHandler | None = None, services: Services | None = None) -> None:
        self._app_factory = app_factory
        self.services = services
        self._on_oss_event = on_oss_event
        self._on_job = on_job
        self._adapter: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # built-in runtimes run one invocation at a time anyway

    def __call__(self, event: Any, context: Any = None) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._invoke(event, context)
        # called from async code (local runtime, tests): our loop needs a thread of its own
        with ThreadPoolExecutor(1, thread_name_prefix="voicefn-fc") as pool:
            return pool.submit(self._invoke, event, context).result()

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()

    # ------------------------------------------------------------------------------------------
    def _invoke(self, event: Any, context: Any) -> Any:
        with self._lock:
            # given ones, else the instance's (get_services() builds them once, from the settings)
            services = self.services if self.services is not None else get_services()
            if self._loop is None or self._loop.is_closed():
                configure_logging(services.settings.log_level)
                self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)  # Mangum runs on the thread's current loop
            token = bind_request_id(_context_request_id(context))
            try:
                with using_services(services):
                    return self._dispatch(event, context)
            finally:
                reset_request_id(token)
                asyncio.set_event_loop(None)

    def _dispatch(self, event: Any, context: Any) -> Any:
        try:
            data = _parse(event)
        except EventError as exc:
            _log.warning("rejected event", extra={"reason": str(exc)})
            return _error_struct(400, "INVALID_PARAMETER", str(exc))
        if OssEvent.is_oss_event(data):
            return self._oss(data, context)
        if is_http_event(data):
            return self._http(data, context)
        if is_job_payload(data):
            return self._job(data)
        _log.warning("rejected event", extra={"reason": "unrecognized event", "keys": sorted(data)[:10]})
        return _error_struct(400, "INVALID_PARAMETER",
                             "unrecognized event: expected an FC HTTP-trigger event, an OSS event or a job")

    def _http(self, data: dict[str, Any], context: Any) -> dict[str, Any]:
        path = str((data.get("requestContext") or {}).get("http", {}).get("path") or data.get("rawPath") or "/")
        try:
            translated = fc3_to_apigw_v2(data, _context_request_id(context))
        except EventError as exc:
            _log.warning("rejected event", extra={"reason": str(exc)})
            return _error_struct(400, "INVALID_PARAMETER", str(exc), path)
        except (TypeError, ValueError):  # a shape the checks above did not foresee
            _log.warning("rejected event", extra={"reason": "malformed HTTP event"}, exc_info=True)
            return _error_struct(400, "INVALID_PARAMETER", "malformed HTTP event", path)
        adapter = self._get_adapter()
        try:
            result = adapter(translated, context)
        except Exception:  # the app's own errors are already 500s; this is Mangum itself failing
            _log.exception("event adapter failed")
            return _error_struct(500, "INTERNAL_ERROR", "internal server error", path)
        return apigw_v2_to_fc3(result)

    def _get_adapter(self) -> Any:
        if self._adapter is None:
            from mangum import Mangum  # only event functions pay for it

            # lifespan "off": a lifespan per call would rebuild state on every invocation
            app: Any = self._app_factory()  # any ASGI app; Mangum's protocol type is narrower
            self._adapter = Mangum(app, lifespan="off")
        return self._adapter

    def _oss(self, data: dict[str, Any], context: Any) -> Any:
        if self._on_oss_event is None:
            _log.error("OSS event received but this function has no OSS handler")
            raise NoOssHandlerError("this function has no OSS event handler (on_oss_event); "
                                    "check the function's OSS triggers")
        return self._complete(self._on_oss_event(data, context))

    def _job(self, data: dict[str, Any]) -> Any:
        if self._on_job is None:
            _log.error("job payload received but this function has no job handler", extra={"job": data["job"]})
            raise NoJobHandlerError(f"this function has no job handler (on_job) for job {data['job']!r}")
        self._complete(self._on_job(data))
        return {"status": "done"}

    def _complete(self, result: Any) -> Any:
        # a coroutine runs to completion on the instance's loop; its exception propagates
        if inspect.isawaitable(result):
            assert self._loop is not None
            result = self._loop.run_until_complete(result)
        return result


def make_event_handler(app_factory: Callable[[], ASGIApp], *, on_oss_event: OssEventHandler | None = None,
                       on_job: JobHandler | None = None, services: Services | None = None) -> EventHandler:
    """``handler = make_event_handler(create_app, on_oss_event=..., on_job=...)`` in ``index.py``.

    ``on_oss_event(event, context)`` gets OSS trigger events, ``on_job(payload)`` the function's
    own async invocations; either may be sync or async, and an exception makes FC retry.
    ``services`` default to the instance's (``get_services()``, built on the first event).
    """
    return EventHandler(app_factory, on_oss_event, on_job, services)
