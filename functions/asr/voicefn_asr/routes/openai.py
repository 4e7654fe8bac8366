"""OpenAI-compatible POST /v1/audio/transcriptions (multipart).

json and text run on sync recognition (qwen3-asr-flash); the timed formats (srt, vtt,
verbose_json) need sentence times, so they run on file transcription within the request
(voicefn.asr.timed).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse

from voicefn.asr.intake import MAX_SYNC_BYTES, inspect
from voicefn.asr.recognize import SYNC_MODELS, check_context, recognize
from voicefn.asr.timed import transcribe_now
from voicefn.errors import ApiError
from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.deps import ServicesDep
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
                     "response_format": {"type": "string", "enum": list(subtitles.FORMATS)},
                     "timestamp_granularities[]": {"type": "array", "items": {
                         "type": "string", "enum": list(subtitles.GRANULARITIES)}}}}}}}})
async def transcriptions(request: Request, services: ServicesDep,
                         principal: Principal = RateLimited("asr", with_hold=True)) -> Any:
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
    granularities = _granularities(form)
    language = form.get("language") or None
    prompt = form.get("prompt") or None
    check_context(prompt)
    data, filename = await read_upload(form.get("file"), max_bytes=MAX_SYNC_BYTES)
    audio = inspect(data, param="file")
    duration = round(audio.duration, 3)
    source = {"file": filename, "api": "openai"}
    if response_format in subtitles.TIMED_FORMATS:
        # file transcription has no prompt/context parameter: the prompt is checked, not sent
        timed = await transcribe_now(services, principal, audio, language=str(language) if language else None,
                                     source={**source, "response_format": response_format})
        if response_format == "srt":
            return PlainTextResponse(subtitles.srt(timed, duration))
        if response_format == "vtt":
            return PlainTextResponse(subtitles.vtt(timed, duration), media_type="text/vtt")
        return subtitles.verbose_json(timed, duration, granularities)
    result = await recognize(services, principal, model=model, audio=audio, language=language,
                             context=prompt, source=source)
    if response_format == "text":
        return PlainTextResponse(result.text)
    return {"text": result.text, "usage": {"type": "duration", "seconds": result.duration}}


def _granularities(form: Any) -> tuple[str, ...]:
    """OpenAI's ``timestamp_granularities[]`` (the openai client's name), repeated; default segment."""
    asked = [str(v) for name in ("timestamp_granularities[]", "timestamp_granularities")
             for v in form.getlist(name)]
    for value in asked:
        if value not in subtitles.GRANULARITIES:
            raise ApiError("INVALID_PARAMETER", f"timestamp_granularities must be among "
                           f"{', '.join(subtitles.GRANULARITIES)}", param="timestamp_granularities")
    return tuple(dict.fromkeys(asked)) or ("segment",)
