"""``create_dashscope_app``: the embedded DashScope as one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from voicefn_local.dashscope import admin, asr_admin, chat_admin
from voicefn_local.dashscope.asr_compat import handle_compat_asr
from voicefn_local.dashscope.asr_recognize import is_qwen_asr_model
from voicefn_local.dashscope.catalog import is_qwen_tts_model
from voicefn_local.dashscope.chat_compat import handle_compat_chat, is_chat_model
from voicefn_local.dashscope.compat_route import compat_chat_completions
from voicefn_local.dashscope.config import EmulatorConfig
from voicefn_local.dashscope.cosyvoice_http import speech_synthesizer
from voicefn_local.dashscope.cosyvoice_ws import inference_ws
from voicefn_local.dashscope.errors import DashScopeError, error_response
from voicefn_local.dashscope.file_route import get_file
from voicefn_local.dashscope.multimodal_route import multimodal_generation
from voicefn_local.dashscope.qwen_asr import handle_qwen_asr
from voicefn_local.dashscope.qwen_tts import handle_qwen_tts
from voicefn_local.dashscope.state import EmulatorState
from voicefn_local.dashscope.tasks import cancel_task, get_result_file, get_task
from voicefn_local.dashscope.transcription import transcription
from voicefn_local.dashscope.voice_enrollment import customization

WS_PATH = "/api-ws/v1/inference"
HTTP_PREFIX = "/api/v1"
COMPAT_PREFIX = "/compatible-mode/v1"


async def _dashscope_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DashScopeError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Unknown paths and methods answer in DashScope's format too, so SDKs report a real code.
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "InvalidParameter")
    return error_response(DashScopeError(code, str(exc.detail), status=exc.status_code))


def create_dashscope_app(config: EmulatorConfig | None = None) -> FastAPI:
    """A fresh emulator (own faults, stats, files). Its state is ``app.state.emulator``, where
    other handlers can be plugged in: ``app.state.emulator.multimodal.register(...)``."""
    state = EmulatorState(config or EmulatorConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Transcription tasks left unfinished by the last run are taken up again.
        await state.asr.runner.startup()
        await state.voice_deployer.startup()
        try:
            yield
        finally:
            await state.voice_deployer.shutdown()
            await state.asr.runner.shutdown()

    app = FastAPI(title="voicefn embedded DashScope", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    app.state.emulator = state
    app.add_exception_handler(DashScopeError, _dashscope_error)
    app.add_exception_handler(HTTPException, _http_error)

    # The SDK uses the URL without a trailing slash; DashScope's own docs use one.
    app.add_api_websocket_route(WS_PATH, inference_ws)
    app.add_api_websocket_route(WS_PATH + "/", inference_ws)
    app.add_api_route(f"{HTTP_PREFIX}/services/audio/tts/SpeechSynthesizer", speech_synthesizer,
                      methods=["POST"])
    app.add_api_route(f"{HTTP_PREFIX}/services/aigc/multimodal-generation/generation",
                      multimodal_generation, methods=["POST"])
    app.add_api_route(f"{HTTP_PREFIX}/services/audio/asr/transcription", transcription,
                      methods=["POST"])
    app.add_api_route(f"{HTTP_PREFIX}/services/audio/tts/customization", customization,
                      methods=["POST"])
    app.add_api_route(f"{HTTP_PREFIX}/tasks/{{task_id}}", get_task, methods=["GET"])
    app.add_api_route(f"{HTTP_PREFIX}/tasks/{{task_id}}/cancel", cancel_task, methods=["POST"])
    app.add_api_route(f"{COMPAT_PREFIX}/chat/completions", compat_chat_completions,
                      methods=["POST"])
    app.add_api_route("/files/{name}", get_file, methods=["GET"])
    app.add_api_route("/files/asr/{name}", get_result_file, methods=["GET"])
    app.include_router(admin.router)
    app.include_router(asr_admin.router)
    app.include_router(chat_admin.router)

    state.multimodal.register("qwen-tts", is_qwen_tts_model, handle_qwen_tts)
    state.multimodal.register("qwen-asr", is_qwen_asr_model, handle_qwen_asr)
    state.compat_chat.register("qwen-asr", is_qwen_asr_model, handle_compat_asr)
    state.compat_chat.register("qwen-chat", is_chat_model, handle_compat_chat)
    from voicefn_local.dashscope.vlm_compat import handle_compat_vlm, is_vlm_model
    state.compat_chat.register("qwen-vl", is_vlm_model, handle_compat_vlm)
    return app
