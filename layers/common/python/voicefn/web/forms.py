"""Reading multipart fields and files safely (bounded, typed errors)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from voicefn.errors import ApiError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def form_bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApiError("INVALID_PARAMETER", f"{name} must be true or false", param=name)


async def read_upload(value: Any, *, max_bytes: int, name: str = "file") -> tuple[bytes, str]:
    """The uploaded file's bytes (at most ``max_bytes``) and its name."""
    if not isinstance(value, UploadFile):
        raise ApiError("INVALID_PARAMETER", f"{name} is required (a file part)", param=name)
    data = await value.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError("INVALID_AUDIO", f"{name} is larger than {max_bytes // (1024 * 1024)} MB", param=name)
    return data, value.filename or "upload"
