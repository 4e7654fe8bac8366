"""seed 000's TTS task API on Qwen TTS: POST /api/tts, then poll GET /api/tts/audio/{task_id}."""

from __future__ import annotations

from typing import Any

from voicefn.auth.principal import Principal
from voicefn.billing import format_money, tts_bill
from voicefn.errors import ApiError
from voicefn.history import record_history
from voicefn.services import Services
from voicefn.settings import Settings
from voicefn.tasks import report_progress, succeed_task
from voicefn.text.split import pack_segments
from voicefn.tts.qwen_voices import SEGMENT_CHARS, check_qwen_voice
from voicefn.tts.service import gather_bounded
from voicefn.tts.storage import audio_url, store_audio

MAX_TEXT_CHARS = 20_000
MAX_SEGMENT_AUDIO_BYTES = 50 * 1024 * 1024


def seed000_model(settings: Settings) -> str:
    """seed 000's DASHSCOPE_TTS_MODEL (``settings.seed000_tts_model``), default qwen3-tts-flash."""
    return settings.seed000_tts_model


def check_request(text: str, voice: str, language_type: str) -> None:
    from voicefn.text.validate import require_speech

    if not text or not text.strip():
        raise ApiError("INVALID_PARAMETER", "text is required", param="text")
    require_speech(text, param="text")
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError("TEXT_TOO_LONG", f"text is {len(text)} characters; at most {MAX_TEXT_CHARS}", param="text")
    check_qwen_voice(voice, language_type)


async def run_seed000_task(services: Services, principal: Principal, task: dict[str, Any]) -> None:
    from voicefn.apikeys import resolve_api_key
    from voicefn.audio.join import join_segments

    req = task["request"]
    api_key = await resolve_api_key(principal, services)
    model = req["model"]
    from voicefn.text.clean import strip_unspeakable

    segments = pack_segments(strip_unspeakable(req["text"]), SEGMENT_CHARS)
    done = 0

    def job(text: str) -> Any:
        async def run() -> tuple[bytes, int]:
            nonlocal done
            out = await services.dashscope.qwen_tts(api_key=api_key, model=model, text=text,
                                                    voice=req["voice"], language_type=req["language_type"])
            audio = await services.dashscope.http.fetch_bytes(out.audio_url, max_bytes=MAX_SEGMENT_AUDIO_BYTES)
            done += 1
            await report_progress(services.state, task["task_id"], done, len(segments))
            return audio, out.characters
        return run

    outputs = await gather_bounded([job(t) for t in segments], services.settings.tts_long_concurrency)
    wav = join_segments([audio for audio, _ in outputs], "wav")
    characters = sum(chars for _, chars in outputs)
    info = await store_audio(services.objects, wav, "wav")
    from voicefn.audio.probe import duration_seconds

    record_id = await record_history(
        services.state, principal.user_id, type="tts", model=model,
        input={"text": req["text"], "voice": req["voice"], "language_type": req["language_type"]},
        bill=format_money(tts_bill(model, characters)), output_key=info.key, voice_id=req["voice"],
        duration=round(duration_seconds(wav, "wav"), 3), extra={"characters": characters},
        idempotency_key=f"task:{task['task_id']}")
    await succeed_task(services.state, task["task_id"],
                       {"object_key": info.key, "record_id": record_id, "segments": len(segments)})


def public_status(task: dict[str, Any], services: Services) -> dict[str, Any]:
    """seed 000: {status: processing|completed|failed, audio_url?, error?, task_id}."""
    status = task["status"]
    if status == "SUCCEEDED":
        return {"status": "completed", "task_id": task["task_id"],
                "audio_url": audio_url(services.objects, task["result"]["object_key"])}
    if status == "FAILED":
        return {"status": "failed", "task_id": task["task_id"],
                "error": (task.get("error") or {}).get("message", "语音合成失败")}
    return {"status": "processing", "task_id": task["task_id"]}
