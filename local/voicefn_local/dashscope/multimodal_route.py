"""The multimodal-generation route: check the key, read the body, dispatch on the model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from voicefn_local.dashscope.calls import authorize, json_body
from voicefn_local.dashscope.cosyvoice_http import wants_sse
from voicefn_local.dashscope.errors import DashScopeError, model_not_found


async def multimodal_generation(request: Request) -> Response:
    state = authorize(request)
    body = await json_body(request)
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise DashScopeError("BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    handler = state.multimodal.find(model)
    if handler is None:
        raise model_not_found(model)
    return await handler(request, body, wants_sse(request))
