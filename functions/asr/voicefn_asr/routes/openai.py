"""OpenAI-compatible POST /v1/audio/transcriptions (multipart), on qwen3-asr-flash."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse

from voicefn.asr.intake import MAX_SYNC_BYTES, inspect
from voicefn.asr.recognize import SYNC_MODELS, check_context, recognize
from voicefn.errors import ApiError
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn_asr import subtitles
from voicefn_asr.forms import read_upload
from voicefn.web.routing import plain_router

router = plain_router(prefix="/v1/audio", tags=["OpenAI-compatible"])

# OpenAI's model names run on the flash model; our own ids pass through.
OPENAI_MODELS = {"whisper-1": "qwen3-asr-flash", "gpt-4o-transcribe": "qwen3-asr-flash",
                 "gpt-4o-mini-transcribe": "qwen3-asr-flash", "gpt-transcribe": "qwen3-asr-flash"}


@router.post("/transcriptions", summary="OpenAI-compatible transcription (multipart: file, model, …)",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file", "model"], "properties": {
                     "file": {"type": "string", "format": "binary"}, "model": {"type": "string"},
                     "language": {"type": "string"}, "prompt": {"type": "string"},
                     "response_format": {"type": "string", "enum": list(subtitles.FORMATS)}}}}}}})
async def transcriptions(request: Request, principal: PrincipalDep, services: ServicesDep) -> Any:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError("INVALID_PARAMETER", "send multipart/form-data with file and model")
    form = await request.form(max_files=1, max_fields=20)
    name = str(form.get("model") or "")
    model = OPENAI_MODELS.get(name, name)
    if model not in SYNC_MODELS:
        raise ApiError("INVALID_MODEL", f"unknown model {name!r}; use whisper-1 or {', '.join(SYNC_MODELS)}",
                       param="model")
    response_format = str(form.get("response_format") or "json")
    if response_format not in subtitles.FORMATS:
        raise ApiError("INVALID_PARAMETER", f"response_format must be one of {', '.join(subtitles.FORMATS)}",
                       param="response_format")
    language = form.get("language") or None
    prompt = form.get("prompt") or None
    check_context(prompt)
    data, filename = await read_upload(form.get("file"), max_bytes=MAX_SYNC_BYTES)
    audio = inspect(data, param="file")
    result = await recognize(services, principal, model=model, audio=audio, language=language,
                             context=prompt, source={"file": filename, "api": "openai"})
    duration = round(audio.duration, 3)
    if response_format == "text":
        return PlainTextResponse(result.text)
    if response_format == "srt":
        return PlainTextResponse(subtitles.srt(result.text, duration))
    if response_format == "vtt":
        return PlainTextResponse(subtitles.vtt(result.text, duration), media_type="text/vtt")
    if response_format == "verbose_json":
        return subtitles.verbose_json(result.text, duration, result.language)
    return {"text": result.text, "usage": {"type": "duration", "seconds": result.duration}}
