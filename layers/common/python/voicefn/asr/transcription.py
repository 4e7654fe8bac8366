"""File transcription tasks (seed 003 §2.2–2.3): submit once, poll, bill once, never hang.

A task row is created first (its id may be derived from an event, so a redelivered event finds
it), then a job moves it on: only the job holding the task's lease (voicefn.jobs) submits to
DashScope; every other run (a redelivery, a client's GET) only polls, and a job whose holder died
is taken over when its lease expires. The
result is written with conditional updates, and the bill is *set* on the task's history record
(never added), so however many times finishing runs, one bill is recorded. A task that outlives
its deadline ends FAILED with the reason: nothing stays RUNNING forever.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voicefn.apikeys import resolve_api_key
from voicefn.auth.principal import Principal
from voicefn.billing import asr_bill, format_money
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError
from voicefn.history import record_history, utc_now
from voicefn.logging import get_logger
from voicefn.services import Services, get_services
from voicefn.uploads.limits import MAX_SIZE
from voicefn.tasks import create_task, fail_task, on_task_failed, principal_record, public_task, task_principal

FILETRANS_MODELS = ("qwen3-asr-flash-filetrans",)
KIND = "asr_filetrans"
POLL_SLICE_S = 480                  # poll this long per invocation (FC timeout 600 s), then re-enqueue
RESULT_MAX_BYTES = 32 * 1024 * 1024
SIGNED_URL_TTL_S = 24 * 3600
FETCH_MAX_BYTES = MAX_SIZE["asr"]      # as for uploads to transcribe
FETCH_TIMEOUT_S = 120.0
FETCH_PREFIX = "audio/asr"           # audio/asr/{date}/{task_id}.{ext}, owned by the task's user
_NAMESPACE = uuid.UUID("6f1c3f0e-6a3b-4f57-9b8e-5b7d2b9c1a10")

log = get_logger(__name__)


def task_id_for_event(event_key: str) -> str:
    """The same event always names the same task: a redelivery finds it instead of making one."""
    return str(uuid.uuid5(_NAMESPACE, event_key))


def redact_url(url: str) -> str:
    """History keeps where audio came from, not the signatures in its query string."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def check_model(model: str) -> None:
    if model not in FILETRANS_MODELS:
        raise ApiError("INVALID_MODEL", f"unknown model {model!r} for file transcription; use "
                       f"{', '.join(FILETRANS_MODELS)}", param="model")


async def check_file_url(services: Services, file_url: str, user_id: str) -> dict[str, Any]:
    """Where the audio comes from: the caller's own object (by key), or a URL that the task's job
    copies into our storage first (a public URL, or a signed URL of an object of ours that the
    caller does not own). DashScope only ever gets a signed URL of the caller's own object."""
    from voicefn.asr.intake import SEAMS, readable_key
    from voicefn.net.errors import FetchError, to_api_error
    from voicefn.net.ssrf import aresolve_public_url
    from voicefn.storage.owners import owns

    try:
        key = await readable_key(services, file_url, user_id)
        if key is None:
            # refused here when plainly not public; the job's fetch checks every hop again
            await aresolve_public_url(file_url, resolver=SEAMS.resolver)
    except FetchError as exc:
        raise to_api_error(exc, "file_url") from exc
    if key is not None and await owns(services.state, key, user_id):
        if await services.objects.head(key) is None:
            raise ApiError("INVALID_PARAMETER", "file_url points to an object that does not exist", param="file_url")
        return {"object_key": key}
    return {"file_url": file_url}


async def create_transcription(services: Services, principal: Principal, *, model: str,
                               source: dict[str, Any], language: str | None = None, enable_itn: bool = False,
                               channel_id: list[int] | None = None, callback_url: str | None = None,
                               task_id: str | None = None, origin: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create (or find, for a known ``task_id``) the task and its PENDING history record."""
    request = {"model": model, **source, "language": language, "enable_itn": enable_itn,
               "channel_id": channel_id or [0], "callback_url": callback_url,
               "principal": principal_record(principal)}
    task = await create_task(services.state, owner=principal.user_id, kind=KIND, request=request, task_id=task_id)
    if task.get("record_id") is None:
        shown = ({"file_url": redact_url(source["file_url"])} if "file_url" in source
                 else {"object_key": source.get("object_key")})
        record_id = await record_history(
            services.state, principal.user_id, type="asr", model=model, input={**shown, **(origin or {})},
            bill="0", status="PENDING", extra={"task_id": task["task_id"]}, idempotency_key=f"task:{task['task_id']}")
        await services.state.update_task(task["task_id"], {"record_id": record_id})
        task["record_id"] = record_id
    return task


# -- the job ------------------------------------------------------------------------------------

async def advance(services: Services, task_id: str, *, poll_for_s: float = POLL_SLICE_S,
                  interval_s: float = 1.0, holds_lease: bool = False) -> dict[str, Any] | None:
    """Move the task on: submit it upstream if nobody has (only the job holding the task's lease
    does, ``holds_lease``: voicefn.jobs), then poll until it ends or ``poll_for_s`` passes.
    Returns the task, or None if it does not exist. Upstream trouble raises: the job runner
    classifies it (another attempt, or FAILED with the reason)."""
    task = await services.state.get_task(task_id)
    if task is None or task["status"] in ("SUCCEEDED", "FAILED"):
        return task
    # DashScope keeps results 24 h; a task older than the deadline has failed, whatever upstream says
    deadline_s = services.settings.asr_task_deadline_s
    if _age_s(task) > deadline_s:
        await _fail(services, task, "TIMEOUT", f"transcription did not finish within {deadline_s} s")
        return await services.state.get_task(task_id)
    principal = task_principal(task)
    api_key = await resolve_api_key(principal, services)
    deadline = time.monotonic() + min(poll_for_s, max(0.0, deadline_s - _age_s(task)))
    if holds_lease and _needs_fetch(task):
        try:
            task = await _ensure_fetched(services, task, max(1.0, min(FETCH_TIMEOUT_S, deadline_s - _age_s(task))))
        except ApiError as err:
            if err.status < 500 and err.status != 429:  # the URL cannot be fetched: retrying cannot help
                await _fail(services, task, err.code, err.message)
                return await services.state.get_task(task_id)
            raise
    while True:
        if not task.get("upstream_task_id"):
            if not holds_lease:
                return task  # the lease holder submits it (or, if every job was lost, the deadline ends it)
            task = await _submit(services, task, api_key)
        task = await _poll_once(services, task, api_key)
        if task["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() >= deadline:
            return task
        await asyncio.sleep(interval_s)
        interval_s = min(interval_s * 1.5, 5.0)


async def refresh(services: Services, task: dict[str, Any]) -> dict[str, Any]:
    """One look upstream for a client's GET (no waiting): progress even if every job was lost."""
    if task["status"] in ("SUCCEEDED", "FAILED"):
        return task
    if _needs_fetch(task) and _age_s(task) <= services.settings.asr_task_deadline_s:
        return task  # a client's GET never waits for a download: the job does that
    try:
        return await advance(services, task["task_id"], poll_for_s=0) or task
    except (ApiError, UpstreamError) as exc:
        log.warning("task refresh failed", extra={"task_id": task["task_id"], "error": type(exc).__name__})
        return task


def _needs_fetch(task: dict[str, Any]) -> bool:
    return bool(task["request"].get("file_url")) and not task.get("object_key")


async def _ensure_fetched(services: Services, task: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Copy the user's URL into our storage once (a user's URL is never handed to DashScope).

    The key is derived from the task, so runs racing here write the same bytes to the same key.
    A failure ends the task: its error says the URL could not be fetched, never what a server
    behind it answered (the guard must not become an oracle for anything it refused).
    """
    from voicefn.asr.intake import copy_to_storage

    if not _needs_fetch(task):
        return task
    day = (task.get("submit_time") or utc_now())[:10].replace("-", "")
    key, _ = await copy_to_storage(services, task["request"]["file_url"], user_id=task["owner"],
                                   key_stem=f"{FETCH_PREFIX}/{day}/{task['task_id']}", param="file_url",
                                   max_bytes=FETCH_MAX_BYTES, timeout_s=timeout_s)
    await services.state.update_task(task["task_id"], {"object_key": key, "updated_at": utc_now()})
    task["object_key"] = key
    return task


async def _submit(services: Services, task: dict[str, Any], api_key: str) -> dict[str, Any]:
    req = task["request"]
    # only ever our own object (copied there first when the user gave a URL)
    file_url = services.objects.signed_get_url(task.get("object_key") or req["object_key"], SIGNED_URL_TTL_S)
    try:
        upstream_id = await services.dashscope.submit_transcription(
            api_key=api_key, model=req["model"], file_url=file_url, channel_id=req.get("channel_id") or [0],
            language=req.get("language"), enable_itn=bool(req.get("enable_itn")))
    except UpstreamError as err:
        raise to_api_error(err) from err
    await services.state.update_task(task["task_id"], {"upstream_task_id": upstream_id, "updated_at": utc_now()},
                                     expect_status="RUNNING")
    task.update(upstream_task_id=upstream_id)
    return task


async def _poll_once(services: Services, task: dict[str, Any], api_key: str) -> dict[str, Any]:
    try:
        upstream = await services.dashscope.get_transcription_task(api_key=api_key, task_id=task["upstream_task_id"])
    except UpstreamError as err:
        raise to_api_error(err) from err
    status = upstream.status
    if status == "SUCCEEDED":
        await _succeed(services, task, upstream)
    elif status in ("FAILED", "CANCELED", "UNKNOWN"):
        reason = upstream.message or ("the upstream task is gone" if status == "UNKNOWN" else status.lower())
        await _fail(services, task, "UPSTREAM_ERROR", f"transcription {status.lower()}: {reason}")
    return await services.state.get_task(task["task_id"]) or task


async def _succeed(services: Services, task: dict[str, Any], upstream: Any) -> None:
    req = task["request"]
    try:
        document = await services.dashscope.fetch_transcription(upstream.transcription_url, max_bytes=RESULT_MAX_BYTES)
    except UpstreamError as err:
        raise to_api_error(err) from err
    transcripts = document.get("transcripts") or []
    seconds = int(upstream.usage_seconds or 0)
    channels = max(1, len(req.get("channel_id") or [0]))
    bill = format_money(asr_bill(req["model"], seconds) * channels)
    text = "\n".join(t.get("text", "") for t in transcripts if t.get("text"))
    # the bill is set, not added: finishing twice records the same single bill
    await services.state.update_history(task["owner"], task["record_id"], {
        "bill": bill, "status": "SUCCEEDED", "output_text": text, "duration": seconds})
    result = {"transcription_url": upstream.transcription_url, "transcripts": transcripts}
    now = utc_now()
    won = await services.state.update_task(task["task_id"], {
        "status": "SUCCEEDED", "result": result, "usage": {"seconds": seconds}, "bill": bill,
        "end_time": now, "updated_at": now}, expect_status=("PENDING", "RUNNING"))
    if won:
        await _notify(services, task["task_id"])


async def _fail(services: Services, task: dict[str, Any], code: str, message: str) -> None:
    await fail_task(services.state, task["task_id"], message, code)  # then _after_failure, once


async def _after_failure(task: dict[str, Any]) -> None:
    """However a transcription ends FAILED (upstream, its job's last attempt, its deadline):
    its history record says so, unbilled, and its callback hears of it."""
    services = get_services()
    if task.get("record_id") is not None:
        await services.state.update_history(task["owner"], task["record_id"], {"status": "FAILED"})
    await _notify(services, task["task_id"])


on_task_failed(KIND, _after_failure)


async def _notify(services: Services, task_id: str) -> None:
    from voicefn.asr.callbacks import deliver_callback

    task = await services.state.get_task(task_id)
    if task and task["request"].get("callback_url"):
        await deliver_callback(services, task["request"]["callback_url"], public_transcription(task))


def public_transcription(task: dict[str, Any]) -> dict[str, Any]:
    """seed 003 §2.3: task_id, task_status, times, result with the transcripts inline, usage, bill."""
    out = public_task(task)
    out.pop("progress", None)
    if task["status"] == "SUCCEEDED":
        out["usage"] = task.get("usage") or {"seconds": 0}
        out["bill"] = task.get("bill", "0")
    if task.get("record_id") is not None:
        out["record_id"] = task["record_id"]
    return out


def _seconds_since(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - then).total_seconds()


def _age_s(task: dict[str, Any]) -> float:
    return _seconds_since(task.get("submit_time"))
