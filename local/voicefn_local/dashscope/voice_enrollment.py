"""``POST /api/v1/services/audio/tts/customization``: voice enrollment (reference §2), as the
SDK's ``VoiceEnrollmentService`` speaks it: ``{"model": "voice-enrollment", "input": {"action":
..., ...}, "parameters": {}}``.

Actions: ``create_voice`` (→ ``output.voice_id``), ``list_voice`` (→ ``output.voice_list``),
``query_voice`` (→ the voice), ``update_voice`` and ``delete_voice`` (→ ``{}``). Voices belong to
the caller's API key; another key's voice is answered as a missing one. Error codes beyond
reference §6 (which lists none for enrollment) are the emulator's choice: ``404 VoiceNotFound``
for a voice the caller has not, ``400 VoiceLimitExceeded`` for a full account,
``400 InvalidLanguageHints``, ``400 InvalidURL``; everything else malformed is
``400 InvalidParameter``.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.auth import check_key
from voicefn_local.dashscope.calls import admit, authorize, json_body
from voicefn_local.dashscope.catalog import COSYVOICE_MODELS
from voicefn_local.dashscope.cloned_voices import (ClonedVoice, VoiceQuotaExceeded, account_of,
                                                   gmt_now, new_voice_id)
from voicefn_local.dashscope.errors import DashScopeError, model_not_found, new_request_id
from voicefn_local.dashscope.responses import TruncatedJSON
from voicefn_local.dashscope.state import EmulatorState
from voicefn_local.dashscope.voice_samples import engine_language

API = "voice_enrollment"
MODEL = "voice-enrollment"
PREFIX = re.compile(r"[A-Za-z0-9_]{1,10}")
MAX_PAGE_SIZE = 1000


def _missing(name: str) -> DashScopeError:
    return DashScopeError("InvalidParameter", f'Required parameter "{name}" missing from request.')


def voice_not_found(voice_id: object) -> DashScopeError:
    return DashScopeError("VoiceNotFound", f"voice {voice_id!r} does not exist", status=404)


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None or value == "":
        raise _missing(name)
    if not isinstance(value, str):
        raise DashScopeError("InvalidParameter", f"{name} must be a string")
    return value


def _check_url(url: str) -> str:
    if not url.lower().startswith(("http://", "https://", "data:")):
        raise DashScopeError("InvalidURL", f"url must be an http(s) URL, got {url[:40]!r}")
    return url


def _check_prefix(prefix: str) -> str:
    if len(prefix) > 10:
        raise DashScopeError("InvalidParameter", "prefix should not be longer than 10 characters")
    if not PREFIX.fullmatch(prefix):
        raise DashScopeError("InvalidParameter",
                             "prefix may hold only letters, digits and underscores")
    return prefix


def _check_language_hints(hints: object) -> object:
    if hints is None:
        return None
    if not isinstance(hints, list) or len(hints) != 1 or not isinstance(hints[0], str):
        raise DashScopeError("InvalidLanguageHints",
                             "language_hints must be an array of exactly one language")
    return hints


def _page(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DashScopeError("InvalidParameter", f"{name} must be an integer in [{low}, {high}]")
    return value


def _summary(voice: ClonedVoice) -> dict[str, Any]:
    return {"voice_id": voice.voice_id, "gmt_create": voice.gmt_create,
            "gmt_modified": voice.gmt_modified, "status": voice.status(),
            "target_model": voice.target_model}


def _details(voice: ClonedVoice) -> dict[str, Any]:
    details = {"gmt_create": voice.gmt_create, "gmt_modified": voice.gmt_modified,
               "resource_link": voice.url, "target_model": voice.target_model,
               "status": voice.status()}
    if details["status"] == "UNDEPLOYED" and voice.reason:
        details["message"] = voice.reason  # the emulator's extra: why it could not deploy
    return details


async def customization(request: Request) -> Response:
    state = authorize(request)
    account = account_of(check_key(state.config.api_keys, request.headers))
    body = await json_body(request)
    raw = body.get("input")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}

    def text_of(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) else None

    # Counted and faulted first, like every API (a call that then fails is still a call).
    fault = await admit(state, request, api=API, counter="voice_enrollment",
                        model=text_of("target_model"), voice=text_of("voice_id"),
                        text=text_of("url"))
    model = body.get("model")
    if not model:
        raise DashScopeError("BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    if model != MODEL:
        raise model_not_found(str(model))
    if not isinstance(raw, dict):
        raise _missing("input")
    action = data.get("action")
    handler = _ACTIONS.get(action) if isinstance(action, str) else None
    if handler is None:
        raise DashScopeError("InvalidParameter", f"unknown action {action!r}; one of "
                             + ", ".join(_ACTIONS))
    output, usage = handler(state, account, data, fault)
    result = {"request_id": new_request_id(), "output": output, "usage": usage}
    if fault is not None and fault.kind == "drop":
        return TruncatedJSON(result)
    return JSONResponse(result)


Handled = tuple[dict[str, Any], dict[str, Any]]


def _create(state: EmulatorState, account: str, data: dict[str, Any], fault: Any) -> Handled:
    target_model = _string(data, "target_model")
    if target_model not in COSYVOICE_MODELS:
        raise DashScopeError("InvalidParameter",
                             f"target_model {target_model!r} does not support voice cloning")
    prefix = _check_prefix(_string(data, "prefix"))
    url = _check_url(_string(data, "url"))
    hints = _check_language_hints(data.get("language_hints"))
    now = gmt_now()
    voice = ClonedVoice(voice_id=new_voice_id(target_model, prefix), account=account,
                        target_model=target_model, prefix=prefix, url=url,
                        language=engine_language(hints), gmt_create=now, gmt_modified=now)
    try:
        state.cloned_voices.add(voice)
    except VoiceQuotaExceeded:
        raise DashScopeError(
            "VoiceLimitExceeded",
            f"the account already has {state.config.voice_quota} voices; delete one first") from None
    state.voice_deployer.start(voice, fault)
    return {"voice_id": voice.voice_id}, {"count": 1}


def _list(state: EmulatorState, account: str, data: dict[str, Any], fault: Any) -> Handled:
    prefix = data.get("prefix")
    if prefix is not None and not isinstance(prefix, str):
        raise DashScopeError("InvalidParameter", "prefix must be a string")
    page_index = _page(data, "page_index", 0, 0, 1_000_000)
    page_size = _page(data, "page_size", 10, 1, MAX_PAGE_SIZE)
    voices = state.cloned_voices.list(account, prefix or None)
    page = voices[page_index * page_size:(page_index + 1) * page_size]
    return {"voice_list": [_summary(v) for v in page]}, {}


def _owned(state: EmulatorState, account: str, data: dict[str, Any]) -> ClonedVoice:
    voice_id = _string(data, "voice_id")
    voice = state.cloned_voices.owned(account, voice_id)
    if voice is None:
        raise voice_not_found(voice_id)
    return voice


def _query(state: EmulatorState, account: str, data: dict[str, Any], fault: Any) -> Handled:
    return _details(_owned(state, account, data)), {}


def _update(state: EmulatorState, account: str, data: dict[str, Any], fault: Any) -> Handled:
    voice = _owned(state, account, data)
    url = _check_url(_string(data, "url"))
    renewed = state.cloned_voices.renew(voice.voice_id, url)
    if renewed is None:  # deleted meanwhile
        raise voice_not_found(voice.voice_id)
    state.voice_deployer.start(renewed, fault)
    return {}, {}


def _delete(state: EmulatorState, account: str, data: dict[str, Any], fault: Any) -> Handled:
    voice = _owned(state, account, data)
    state.cloned_voices.delete(voice.voice_id)
    return {}, {}


_ACTIONS = {"create_voice": _create, "list_voice": _list, "query_voice": _query,
            "update_voice": _update, "delete_voice": _delete}
