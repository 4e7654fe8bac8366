"""seed 003 §3 (cloned voices) and §4.1 (system voices): ``/api/audio/voice/*``."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from voicefn.auth.principal import Principal
from voicefn.catalog.voices import system_voices
from voicefn.errors import ApiError
from voicefn.records.voice import Voice, VoiceStatus
from voicefn.services import Services
from voicefn.voice.enroll import delete_voice, enroll, owned_voice, public_details, public_summary, reenroll, refresh
from voicefn.voice.rules import (
    CLONE_MODELS, MAX_SAMPLE_BYTES, check_language_hints, check_prefix, check_target_model,
)
from voicefn.voice.sample import Sample, check_sample, sample_from_url
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.forms import read_upload
from voicefn.web.routing import plain_router
from voicefn_voice.jobs import watch_voice

router = plain_router(prefix="/api/audio/voice", tags=["voice (seed 003)"])

MAX_PAGE = 1_000_000  # keeps page * page_size a small integer in every store

_FILE_FORM = {"type": "string", "format": "binary", "description": "WAV (16-bit), MP3 or M4A; 10–60 s; ≤ 10 MB"}


class CreateJson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target_model: str
    prefix: str
    audio_url: Optional[str] = None
    language_hints: Optional[list[str]] = None


class UpdateJson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    audio_url: Optional[str] = None


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def _json(model: type[BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise ApiError("INVALID_PARAMETER", f"{field or 'body'}: {first.get('msg')}", param=field) from exc


async def _file_sample(value: Any) -> Sample:
    data, _name = await read_upload(value, max_bytes=MAX_SAMPLE_BYTES)
    return await asyncio.to_thread(check_sample, data, param="file")


async def _url_sample(services: Services, principal: Principal, url: Optional[str]) -> Sample:
    if not url:
        raise ApiError("INVALID_PARAMETER", "give audio_url (JSON) or file (multipart)", param="audio_url")
    return await sample_from_url(services, url, user_id=principal.user_id, param="audio_url")


@router.get("/system", summary="System voices (seed 003 §4.1), optionally of one model and/or category")
async def system(model: Optional[str] = Query(None), category: Optional[str] = Query(None)) -> dict[str, Any]:
    return ok([v.to_public() for v in system_voices(model=model or None, category=category or None)])


@router.post("/create", summary="Clone a voice from a sample (JSON with audio_url, or multipart with file)",
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": CreateJson.model_json_schema()},
                 "multipart/form-data": {"schema": {"type": "object", "required": ["target_model", "prefix", "file"],
                                                    "properties": {
                                                        "target_model": {"type": "string", "enum": list(CLONE_MODELS)},
                                                        "prefix": {"type": "string"}, "file": _FILE_FORM,
                                                        "language_hints": {"type": "string"}}}}}}})
async def create(request: Request, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    if _is_multipart(request):
        form = await request.form(max_files=1, max_fields=10)
        target_model = check_target_model(form.get("target_model"))
        prefix = check_prefix(form.get("prefix"))
        hints = check_language_hints(form.get("language_hints"))
        sample = await _file_sample(form.get("file"))
    else:
        body = _json(CreateJson, await request.body())
        target_model, prefix = check_target_model(body.target_model), check_prefix(body.prefix)
        hints = check_language_hints(body.language_hints)
        sample = await _url_sample(services, principal, body.audio_url)
    voice, record_id = await enroll(services, principal, sample, target_model=target_model, prefix=prefix,
                                    language_hints=hints, origin={"route": "create"})
    await watch_voice(services, voice)
    return ok({"voice_id": voice.voice_id, "status": voice.status.value, "target_model": voice.target_model,
               "record_id": record_id})


async def _refresh_deploying(services: Services, voices: list[Voice]) -> list[Voice]:
    return [await refresh(services, v) if v.status is VoiceStatus.DEPLOYING else v for v in voices]


@router.get("/list", summary="Your cloned voices, oldest first (page from 0)")
async def list_voices(principal: PrincipalDep, services: ServicesDep, prefix: Optional[str] = Query(None),
                      model: Optional[str] = Query(None), page: int = Query(0, ge=0, le=MAX_PAGE),
                      page_size: int = Query(10, ge=1, le=100)) -> dict[str, Any]:
    if model:
        check_target_model(model, "model")
    rows, total = await services.state.list_voices(principal.user_id, model=model or None, prefix=prefix or None,
                                                   page=page, page_size=page_size)
    voices = await _refresh_deploying(services, [Voice.from_row(r) for r in rows])
    return ok({"total": total, "voices": [public_summary(v) for v in voices]})


@router.get("/{voice_id}", summary="One of your voices (its status moves on as DashScope deploys it)")
async def get_voice(voice_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    voice = await refresh(services, await owned_voice(services, principal, voice_id))
    return ok(public_details(voice, services))


@router.put("/{voice_id}", summary="Replace a voice's sample (JSON with audio_url, or multipart with file)",
            openapi_extra={"requestBody": {"content": {
                "application/json": {"schema": UpdateJson.model_json_schema()},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                   "properties": {"file": _FILE_FORM}}}}}})
async def update(voice_id: str, request: Request, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    voice = await owned_voice(services, principal, voice_id)
    if _is_multipart(request):
        form = await request.form(max_files=1, max_fields=10)
        sample = await _file_sample(form.get("file"))
    else:
        sample = await _url_sample(services, principal, _json(UpdateJson, await request.body()).audio_url)
    voice = await reenroll(services, voice, sample)
    await watch_voice(services, voice)
    return ok({"voice_id": voice.voice_id, "status": voice.status.value})


@router.delete("/{voice_id}", summary="Delete a voice: at DashScope, here, and its stored audio")
async def delete(voice_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    await delete_voice(services, await owned_voice(services, principal, voice_id))
    return ok(None)
