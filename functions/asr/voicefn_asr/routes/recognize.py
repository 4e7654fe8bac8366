"""seed 003 §2.0–2.1: the ASR model list and sync recognition (JSON or multipart)."""

from __future__ import annotations

from typing import Any, Optional

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from voicefn.asr.intake import MAX_SYNC_BYTES, decode_base64, fetch_url, inspect
from voicefn.asr.recognize import check_context, check_model, recognize
from voicefn.asr.transcription import redact_url
from voicefn.catalog.models import asr_models
from voicefn.errors import ApiError
from voicefn.web.app import ok
from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.deps import ServicesDep
from voicefn_asr.forms import form_bool, read_upload
from voicefn.web.routing import plain_router

router = plain_router(prefix="/api/audio/asr", tags=["asr (seed 003)"])


class RecognizeJson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    audio_url: Optional[str] = None
    audio_base64: Optional[str] = None
    language: Optional[str] = None
    enable_itn: bool = False
    context: Optional[str] = None


@router.get("/models", summary="ASR models (public catalog)")
async def models() -> dict[str, Any]:
    return ok([m.to_public() for m in asr_models()])


@router.post("/recognize",
             summary="Recognize up to 60 s of audio (JSON with audio_url/audio_base64, or multipart file)",
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": RecognizeJson.model_json_schema()},
                 "multipart/form-data": {"schema": {"type": "object", "required": ["model", "file"], "properties": {
                     "model": {"type": "string"}, "file": {"type": "string", "format": "binary"},
                     "language": {"type": "string"}, "enable_itn": {"type": "boolean"},
                     "context": {"type": "string"}}}}}}})
async def recognize_route(request: Request, services: ServicesDep,
                          principal: Principal = RateLimited("asr", with_hold=True)) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        model = str(form.get("model") or "")
        check_model(model)
        language = form.get("language") or None
        enable_itn = form_bool(form.get("enable_itn"), "enable_itn")
        context = form.get("context") or None
        data, filename = await read_upload(form.get("file"), max_bytes=MAX_SYNC_BYTES)
        source: dict[str, Any] = {"file": filename}
    else:
        try:
            body = RecognizeJson.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or None
            raise ApiError("INVALID_PARAMETER", f"{field or 'body'}: {first.get('msg')}", param=field) from exc
        model, language, enable_itn, context = body.model, body.language, body.enable_itn, body.context
        check_model(model)
        if bool(body.audio_url) == bool(body.audio_base64):
            raise ApiError("INVALID_PARAMETER", "give exactly one of audio_url and audio_base64", param="audio_url")
        if body.audio_url:
            data, source = await fetch_url(services, body.audio_url, user_id=principal.user_id, param="audio_url"), {
                "audio_url": redact_url(body.audio_url)}
        else:
            data, source = decode_base64(body.audio_base64 or ""), {"audio_base64": "…"}
    check_context(context)
    audio = inspect(data, param="file" if "file" in source else next(iter(source)))
    result = await recognize(services, principal, model=model, audio=audio, language=language,
                             enable_itn=enable_itn, context=context, source=source)
    return ok(result.public())
