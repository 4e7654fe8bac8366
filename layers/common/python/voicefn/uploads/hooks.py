"""Purpose hooks: what each kind of upload becomes once its object has been checked.

A function registers the purpose it serves (asr: a transcription; voice: an enrollment)::

    @uploads.purpose("asr", resume=resume_transcription)
    async def start_transcription(ctx: UploadContext) -> UploadOutcome: ...

The intake calls ``start`` with an :class:`UploadContext` once the ticket is claimed and the object
checked. At-least-once delivery means it may be called again for the same upload (a delivery
that died half-way is retried): ``start`` must then find what it made before, not make it again
(derive ids from ``ctx.event_key``). To refuse the upload (a sample too short, say), raise
:class:`~voicefn.errors.ApiError` with a 4xx status: the ticket is REJECTED with it; any other
exception propagates, so that FC retries the delivery. ``resume``, if given, runs when a
redelivered event finds the upload's work started already (to queue a job the first delivery may
have lost).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.services import Services
from voicefn.uploads.check import CheckedAudio
from voicefn.uploads.event import OssEventRecord
from voicefn.uploads.keys import UploadKey
from voicefn.uploads.limits import PURPOSES
from voicefn.uploads.tickets import Ticket

__all__ = ["Purpose", "ResumeHook", "StartHook", "UploadContext", "UploadOutcome", "get_purpose", "purpose",
           "register_purpose", "unregister_purpose"]


@dataclass(frozen=True)
class UploadContext:
    """Everything a purpose needs to act on one checked upload."""

    services: Services
    principal: Principal        # the ticket's owner
    ticket: Ticket
    upload: UploadKey
    key: str                    # the object key
    audio: CheckedAudio         # what the object's bytes turned out to be
    event_key: str              # names this upload across redeliveries (bucket/key/eTag)
    record: OssEventRecord


@dataclass(frozen=True)
class UploadOutcome:
    """What the upload started: the task the ticket points to from now on (None: the work is done
    already, e.g. a sample that is only stored), and ``detail`` the ticket shows its owner
    (``{"voice_id": ...}``)."""

    task_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


StartHook = Callable[[UploadContext], Awaitable[UploadOutcome]]
ResumeHook = Callable[[Services, str], Awaitable[None]]


@dataclass(frozen=True)
class Purpose:
    name: str
    start: StartHook
    resume: ResumeHook | None = None


_REGISTRY: dict[str, Purpose] = {}


def register_purpose(name: str, start: StartHook, *, resume: ResumeHook | None = None) -> Purpose:
    """Make ``start`` the hook of uploads of ``name``. Registering the same hook again is a no-op
    (a module imported twice); another hook for a taken purpose is a programming error."""
    if name not in PURPOSES:
        raise ValueError(f"unknown upload purpose {name!r} (known: {', '.join(PURPOSES)})")
    entry = Purpose(name, start, resume)
    current = _REGISTRY.get(name)
    if current is not None and _name_of(current.start) != _name_of(start):
        raise ValueError(f"upload purpose {name!r} already has a hook ({_name_of(current.start)})")
    _REGISTRY[name] = entry  # the same function re-imported (a reloaded module) replaces itself
    return entry


def _name_of(hook: StartHook) -> str:
    return f"{getattr(hook, '__module__', '?')}.{getattr(hook, '__qualname__', repr(hook))}"


def purpose(name: str, *, resume: ResumeHook | None = None) -> Callable[[StartHook], StartHook]:
    """Decorator form of :func:`register_purpose`."""

    def decorate(start: StartHook) -> StartHook:
        register_purpose(name, start, resume=resume)
        return start

    return decorate


def get_purpose(name: str) -> Purpose | None:
    return _REGISTRY.get(name)


def unregister_purpose(name: str) -> None:
    """Forget a purpose's hook (tests registering their own)."""
    _REGISTRY.pop(name, None)
