"""OSS upload events, locally: what the OSS trigger of s.yaml does in the cloud (DESIGN.md §2).

When an object lands in the local object store, the functions whose OSS triggers in s.yaml match
its key and event get the FC OSS event JSON (reference/fc3/event-oss.json's shape, written by
``voicefn.uploads.event.build_oss_event``, the layer's one statement of it), delivered like
FC's asynchronous invocation: in the background, after the upload has been answered, at least
once, retried when the handler raises. Each function's handler is
``voicefn_<dir>.events:on_oss_event(event, context)``, imported on first use.

How an upload finds the dispatcher: :class:`~voicefn_local.runtime.LocalApp` binds its dispatcher
to every request it serves (``bind_dispatcher``), the object server's requests also carry the
upload's OSS event name (``upload_event_app``: POST form → ``ObjectCreated:PostObject``, PUT →
``ObjectCreated:PutObject``), and the store's ``on_created`` hook (:func:`emit_created`) reads
both. A put made by function code (tts saving audio, say) is a ``PutObject``, as with oss2.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import inspect
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from voicefn.storage.objects import ObjectInfo
from voicefn.uploads.event import POST_OBJECT, PUT_OBJECT, OssEvent, build_oss_event
from voicefn_local.manifest import FunctionSpec, Manifest

__all__ = ["OssEventContext", "OssEventDispatcher", "bind_dispatcher", "build_oss_event", "emit_created",
           "hook_store", "upload_event_app"]

log = logging.getLogger("voicefn.local.oss")

_dispatcher: contextvars.ContextVar[OssEventDispatcher | None] = contextvars.ContextVar(
    "voicefn_local_oss_dispatcher", default=None)
_upload_event: contextvars.ContextVar[str] = contextvars.ContextVar("voicefn_local_upload_event",
                                                                     default=PUT_OBJECT)


@dataclass(frozen=True)
class FunctionMeta:
    name: str
    handler: str = "index.handler"


@dataclass(frozen=True)
class OssEventContext:
    """The parts of FC's invocation context a handler may read (``context.request_id``…)."""

    request_id: str
    function: FunctionMeta
    region: str = "local"
    account_id: str = "local"
    credentials: Any = None
    attempt: int = 1  # local only: which delivery this is (FC does not say)


OssHandler = Callable[[dict[str, Any], Any], Any]


@dataclass
class _Delivery:
    spec: FunctionSpec
    body: bytes                      # the event as JSON: every attempt gets a fresh copy, as from a queue
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class OssEventDispatcher:
    """Turns created objects into OSS events for the functions of ``manifest`` whose triggers match.

    ``bucket`` names the bucket in the events (default: the configured ``OSS_BUCKET``, the local
    store's bucket). The trigger's own bucket (its ``sourceArn``) is not compared: locally there
    is one bucket, whatever s.yaml's ``vars.bucket`` says the cloud one is called.
    """

    def __init__(self, manifest: Manifest, bucket: str | None = None, *, max_attempts: int = 3,
                 backoff_s: float = 0.1, region: str = "local", account_id: str = "local") -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.manifest = manifest
        self._bucket = bucket
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.region = region
        self.account_id = account_id
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs: the loop keeps only weak ones
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def bucket(self) -> str:
        if self._bucket is None:
            from voicefn.settings import get_settings

            return get_settings().oss_bucket
        return self._bucket

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def on_created(self, info: ObjectInfo, event_name: str = PUT_OBJECT) -> list[str]:
        """Queue the event of a created object for every matching function; return their keys."""
        event = build_oss_event(bucket=self.bucket, key=info.key, size=info.size, etag=info.etag,
                                event_name=event_name, region=self.region, account_id=self.account_id)
        return self._schedule(event)

    async def redeliver(self, event: dict[str, Any]) -> list[str]:
        """Deliver ``event`` (one built before) again, as OSS/FC may (tests of idempotency)."""
        return self._schedule(event)

    async def drain(self) -> None:
        """Wait until no delivery is pending, including deliveries that deliveries caused."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """:meth:`drain` from another thread (a test driving a server that runs in a thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.drain(), loop).result(timeout)

    async def close(self) -> None:
        """Cancel pending deliveries (server shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------------
    def _schedule(self, event: dict[str, Any]) -> list[str]:
        record = OssEvent.parse(event).record
        key = record.key
        specs = self.manifest.oss_triggers_for(key, record.event_name)
        if not specs:
            return []
        loop = asyncio.get_running_loop()
        self._loop = loop
        body = json.dumps(event).encode("utf-8")
        for spec in specs:
            delivery = _Delivery(spec, body)
            task = loop.create_task(self._deliver(delivery), name=f"oss-event:{spec.key}:{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return [spec.key for spec in specs]

    async def _deliver(self, delivery: _Delivery) -> None:
        # the task runs in a copy of the upload's context: objects the handler stores are PutObject,
        # and go through this dispatcher too (a handler writing under another trigger's prefix fires it)
        _upload_event.set(PUT_OBJECT)
        spec = delivery.spec
        try:
            handler = _load_handler(spec)
        except Exception:  # noqa: BLE001 - a broken function: retrying the import changes nothing
            log.exception("OSS event for %s not delivered: cannot load %s.events:on_oss_event", spec.key, spec.package)
            return
        for attempt in range(1, self.max_attempts + 1):
            context = OssEventContext(request_id=delivery.request_id, function=FunctionMeta(spec.name),
                                      region=self.region, account_id=self.account_id, attempt=attempt)
            try:
                await _call(handler, json.loads(delivery.body), context)
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - FC retries a failed async invocation; so do we
                if attempt == self.max_attempts:
                    log.exception("OSS event for %s failed after %d attempts; dropped", spec.key, attempt)
                    return
                log.warning("OSS event for %s failed (attempt %d of %d); retrying", spec.key, attempt,
                            self.max_attempts, exc_info=True)
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))


def _load_handler(spec: FunctionSpec) -> OssHandler:
    module = importlib.import_module(f"{spec.package}.events")
    handler = getattr(module, "on_oss_event", None)
    if not callable(handler):
        raise AttributeError(f"{spec.package}.events has no on_oss_event")
    return handler


async def _call(handler: OssHandler, event: dict[str, Any], context: OssEventContext) -> Any:
    if inspect.iscoroutinefunction(handler):
        return await handler(event, context)
    result = await asyncio.to_thread(handler, event, context)  # a sync handler must not block the loop
    if inspect.isawaitable(result):
        result = await result
    return result


# -- wiring into the local runtime -----------------------------------------------------------------

async def emit_created(info: ObjectInfo) -> None:
    """``LocalObjectStore.on_created`` hook: the event goes through the dispatcher of the request
    (or job) that stored the object; outside one, nothing is emitted."""
    dispatcher = _dispatcher.get()
    if dispatcher is not None:
        await dispatcher.on_created(info, _upload_event.get())


def hook_store(store: Any) -> None:
    """Make a local object store emit OSS events (an OSS store, or one hooked already, is left alone)."""
    if getattr(store, "on_created", emit_created) is None:
        store.on_created = emit_created


def bind_dispatcher(dispatcher: OssEventDispatcher) -> contextvars.Token[OssEventDispatcher | None]:
    """Make ``dispatcher`` the one for objects stored in the current context (a request)."""
    return _dispatcher.set(dispatcher)


def unbind_dispatcher(token: contextvars.Token[OssEventDispatcher | None]) -> None:
    _dispatcher.reset(token)


def upload_event_app(app: ASGIApp) -> ASGIApp:
    """Wrap the object server: its POST (form) uploads are PostObject, its PUTs PutObject."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT"):
            await app(scope, receive, send)
            return
        token = _upload_event.set(POST_OBJECT if scope["method"] == "POST" else PUT_OBJECT)
        try:
            await app(scope, receive, send)
        finally:
            _upload_event.reset(token)

    return wrapped
