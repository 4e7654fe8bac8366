"""``GET /files/{id}.{ext}``: result files, served without auth like DashScope's result URLs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from voicefn_local.dashscope.state import get_state


async def get_file(request: Request) -> Response:
    stored = get_state(request).files.get(request.path_params["name"])
    if stored is None:
        # What OSS answers for a missing or expired object.
        return JSONResponse({"code": "NoSuchKey", "message": "The specified key does not exist."},
                            status_code=404)
    return Response(stored.data, media_type=stored.media_type,
                    headers={"cache-control": "private, max-age=86400"})
