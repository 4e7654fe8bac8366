"""``POST /compatible-mode/v1/chat/completions``: DashScope's OpenAI-compatible mode (§4.3).

Like multimodal-generation, one path serves many model families, so the route only checks the key,
reads the body and hands it to the handler registered for the model
(``state.compat_chat.register(family, matches, handler)``). Errors use OpenAI's shape:
``{"error": {"message", "type", "param", "code"}, "request_id"}`` with snake_case codes.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.calls import authorize, json_body
from voicefn_local.dashscope.errors import DashScopeError, model_not_found, new_request_id

_CODES = {
    "InvalidParameter": "invalid_parameter_error",
    "InvalidApiKey": "invalid_api_key",
    "ModelNotFound": "model_not_found",
    "Throttling": "limit_requests",
    "Throttling.RateQuota": "limit_requests",
    "InternalError": "internal_error",
    "InternalError.Algo": "internal_error",
}


def _snake(code: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", code).replace(".", "_").lower()


def openai_error(err: DashScopeError) -> JSONResponse:
    kind = "invalid_request_error" if err.status < 500 else "server_error"
    return JSONResponse({"error": {"message": err.message, "type": kind, "param": None,
                                   "code": _CODES.get(err.code, _snake(err.code))},
                         "request_id": new_request_id()}, status_code=err.status)


async def compat_chat_completions(request: Request) -> Response:
    try:
        state = authorize(request)
        body = await json_body(request)
        model = body.get("model")
        if not model or not isinstance(model, str):
            raise DashScopeError("InvalidParameter", 'Required parameter "model" missing from request.')
        handler = state.compat_chat.find(model)
        if handler is None:
            raise model_not_found(model)
        return await handler(request, body, bool(body.get("stream")))
    except DashScopeError as err:
        return openai_error(err)
