"""``GET /api/v1/tasks/{task_id}``, ``POST /api/v1/tasks/{task_id}/cancel`` (reference §0) and the
result files at ``GET /files/asr/{name}`` (served without auth, like DashScope's result URLs).

The SDK needs ``task_id`` and ``task_status`` in every ``output``; a task nobody knows (or one
older than ``config.task_ttl_s``) answers HTTP 200 with ``task_status: "UNKNOWN"``. Times are
DashScope's ``"2025-10-27 13:57:45.948"``, in Beijing time (UTC+8) as the service reports them.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.calls import admit, authorize
from voicefn_local.dashscope.errors import DashScopeError, new_request_id
from voicefn_local.dashscope.state import EmulatorState, get_state
from voicefn_local.dashscope.task_store import (FAILED, FINAL_STATUSES, SUCCEEDED, UNKNOWN,
                                                TaskRecord)

API = "tasks"
BEIJING = timezone(timedelta(hours=8))
RESULT_PREFIX = "asr/"


def format_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _live_record(state: EmulatorState, task_id: str) -> TaskRecord | None:
    record = state.asr.tasks.get(task_id)
    if record is None or record.submit_time < time.time() - state.config.task_ttl_s:
        return None
    return record


def _times(record: TaskRecord) -> dict[str, str]:
    times = {"submit_time": format_time(record.submit_time)}
    if record.scheduled_time is not None:
        times["scheduled_time"] = format_time(record.scheduled_time)
    if record.end_time is not None:
        times["end_time"] = format_time(record.end_time)
    return times


def _result_url(state: EmulatorState, request: Request, name: str | None) -> str | None:
    return state.file_url(request, RESULT_PREFIX + name) if name else None


def task_body(state: EmulatorState, request: Request, record: TaskRecord) -> dict[str, Any]:
    """What ``GET /tasks/{id}`` answers for a known task, in the shape of its API."""
    output: dict[str, Any] = {"task_id": record.task_id, "task_status": record.status,
                              **_times(record)}
    body: dict[str, Any] = {"request_id": new_request_id(), "output": output}
    if record.kind == "filetrans":
        if record.status == SUCCEEDED:
            output["result"] = {"transcription_url":
                                _result_url(state, request, record.files[0].result_name)}
            body["usage"] = {"seconds": record.seconds}
    elif record.status in FINAL_STATUSES:
        results = []
        for outcome in record.files:
            if outcome.status == SUCCEEDED:
                results.append({"file_url": outcome.file_url,
                                "transcription_url": _result_url(state, request,
                                                                 outcome.result_name),
                                "subtask_status": SUCCEEDED})
            elif outcome.status == FAILED:
                results.append({"file_url": outcome.file_url, "code": outcome.code,
                                "message": outcome.message, "subtask_status": FAILED})
        if results:
            output["results"] = results
        succeeded = sum(1 for f in record.files if f.status == SUCCEEDED)
        output["task_metrics"] = {"TOTAL": len(record.files), "SUCCEEDED": succeeded,
                                  "FAILED": sum(1 for f in record.files if f.status == FAILED)}
        if record.status == SUCCEEDED:
            body["usage"] = {"duration": record.seconds}
    if record.status == FAILED:
        output["code"], output["message"] = record.code, record.message
    return body


async def get_task(request: Request) -> Response:
    state = authorize(request)
    task_id = request.path_params["task_id"]
    await state.asr.runner.startup()
    record = _live_record(state, task_id)
    await admit(state, request, api=API, counter="task_queries",
                model=record.model if record else None, voice=None, text=None)
    if record is None:
        return JSONResponse({"request_id": new_request_id(),
                             "output": {"task_id": task_id, "task_status": UNKNOWN}})
    return JSONResponse(task_body(state, request, record))


async def cancel_task(request: Request) -> Response:
    state = authorize(request)
    task_id = request.path_params["task_id"]
    await state.asr.runner.startup()
    record = _live_record(state, task_id)
    await admit(state, request, api=API, counter="task_cancels",
                model=record.model if record else None, voice=None, text=None)
    if record is None:
        raise DashScopeError("InvalidParameter", f"The task {task_id} does not exist.")
    if not state.asr.runner.cancel(task_id):
        raise DashScopeError("UnsupportedOperation",
                             "Failed to cancel the task, please confirm if the task is in "
                             "PENDING status.")
    return JSONResponse({"request_id": new_request_id()})


async def get_result_file(request: Request) -> Response:
    data = get_state(request).asr.tasks.get_result(request.path_params["name"])
    if data is None:
        # What OSS answers for a missing or expired object.
        return JSONResponse({"code": "NoSuchKey", "message": "The specified key does not exist."},
                            status_code=404)
    return Response(data, media_type="application/json",
                    headers={"cache-control": "private, max-age=86400"})
