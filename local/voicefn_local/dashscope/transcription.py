"""``POST /api/v1/services/audio/asr/transcription``: submit a file-transcription task (§3.2, §3.3).

Async only (``X-DashScope-Async: enable``). Two request forms, by model:

- ``qwen3-asr-flash-filetrans`` (and other ``qwen*filetrans`` models): ``input.file_url``;
  ``parameters.channel_id`` (default ``[0]``), ``language``, ``enable_itn``, ``enable_words``.
- ``fun-asr``, ``paraformer-*``, ``sensevoice-*`` (not the realtime ones): ``input.file_urls``
  (1 to 100); ``parameters.channel_id``, ``language_hints`` (the first is the language hint).

The answer is ``{"request_id", "output": {"task_id", "task_status": "PENDING"}}``; the task then
runs in the background (:mod:`.transcription_runner`) and is read with ``GET /tasks/{id}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.asr_audio import is_http_url
from voicefn_local.dashscope.calls import authorize, header_fault, json_body
from voicefn_local.dashscope.errors import (DashScopeError, internal_error, model_not_found,
                                            new_request_id, throttled)
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.responses import TruncatedJSON
from voicefn_local.dashscope.state import EmulatorState
from voicefn_local.dashscope.task_store import FileOutcome, TaskRecord, new_task_id

API = "asr_filetrans"
MAX_FILE_URLS = 100


def is_filetrans_model(model: str) -> bool:
    return model.startswith("qwen") and "filetrans" in model


def is_file_urls_model(model: str) -> bool:
    return model.startswith(("fun-asr", "paraformer", "sensevoice")) and "realtime" not in model


def _check_async(request: Request) -> None:
    if request.headers.get("x-dashscope-async", "").lower() != "enable":
        raise DashScopeError("AccessDenied", "current user api does not support synchronous calls",
                             status=403)


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DashScopeError("InvalidParameter", f'Required input parameter "{name}" is missing.')
    if not is_http_url(value.strip()):
        raise DashScopeError("InvalidParameter",
                             f"The provided URL does not appear to be valid ({name} must be an "
                             "http or https URL).")
    return value.strip()


def _file_urls(model: str, data: dict[str, Any]) -> list[str]:
    if is_filetrans_model(model):
        if "file_urls" in data and "file_url" not in data:
            raise DashScopeError("InvalidParameter",
                                 f'{model} takes one "file_url", not "file_urls".')
        return [_url(data.get("file_url"), "file_url")]
    urls = data.get("file_urls")
    if "file_url" in data and urls is None:
        raise DashScopeError("InvalidParameter", f'{model} takes a list "file_urls", not "file_url".')
    if not isinstance(urls, list) or not urls:
        raise DashScopeError("InvalidParameter", 'Required input parameter "file_urls" is missing.')
    if len(urls) > MAX_FILE_URLS:
        raise DashScopeError("InvalidParameter",
                             f"file_urls holds {len(urls)} URLs; the limit is {MAX_FILE_URLS}.")
    return [_url(u, "file_urls") for u in urls]


def _parameters(model: str, params: Any) -> dict[str, Any]:
    """The parameters the runner uses, checked: channel_id, language, enable_words, enable_itn."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise DashScopeError("InvalidParameter", '"parameters" must be an object.')
    channels = params.get("channel_id", [0])
    if (not isinstance(channels, list) or not channels
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in channels)):
        raise DashScopeError("InvalidParameter", "channel_id must be a list of channel numbers.")
    language = params.get("language")
    hints = params.get("language_hints")
    if hints is not None:
        if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
            raise DashScopeError("InvalidParameter", "language_hints must be a list of strings.")
        language = language or (hints[0] if hints else None)
    if language is not None and not isinstance(language, str):
        raise DashScopeError("InvalidParameter", "language must be a string.")
    return {"channel_id": channels, "language": language or None,
            "enable_words": bool(params.get("enable_words", False)),
            "enable_itn": bool(params.get("enable_itn", False))}


def _pick_fault(state: EmulatorState, request: Request, model: str | None,
                text: str | None) -> Fault | None:
    fault = header_fault(request.headers) or state.faults.take(API, model=model, text=text)
    if fault is None:
        return None
    state.stats.incr("faults_applied")
    if fault.kind == "throttle":
        raise throttled()
    if fault.kind == "error":
        raise internal_error()
    return fault


async def transcription(request: Request) -> Response:
    state = authorize(request)
    state.stats.incr("asr_filetrans_tasks")
    _check_async(request)
    body = await json_body(request)
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise DashScopeError("BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    data = body.get("input")
    urls_hint = None
    if isinstance(data, dict):
        raw = data.get("file_urls") if "file_urls" in data else [data.get("file_url")]
        urls_hint = " ".join(u for u in raw if isinstance(u, str)) if isinstance(raw, list) else None
    fault = _pick_fault(state, request, model, urls_hint)
    if not (is_filetrans_model(model) or is_file_urls_model(model)):
        raise model_not_found(model)
    if not isinstance(data, dict):
        raise DashScopeError("InvalidParameter", 'Required parameter "input" missing from request.')
    record = TaskRecord(task_id=new_task_id(),
                        kind="filetrans" if is_filetrans_model(model) else "file_urls",
                        model=model, parameters=_parameters(model, body.get("parameters")),
                        files=[FileOutcome(u) for u in _file_urls(model, data)])
    await state.asr.runner.submit(record, fault)
    result = {"request_id": new_request_id(),
              "output": {"task_id": record.task_id, "task_status": record.status}}
    if fault is not None and fault.kind == "drop":
        return TruncatedJSON(result)  # the task exists, but the client never learns its id
    return JSONResponse(result)
