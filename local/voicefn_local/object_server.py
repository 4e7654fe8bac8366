"""The local dev server's stand-in for OSS: signed GET/PUT and PostObject uploads.

Serves the URLs :class:`voicefn.storage.local_objects.LocalObjectStore` hands out
(``/_objects/{bucket}/{key}``), checks their HMAC signatures or upload policy, and answers errors
the way OSS does (an XML ``<Error>`` document with a code, message and request id).

Upload bodies are streamed to disk as they arrive, never held in memory: a PUT goes chunk by
chunk into a temp file of the store (``put_stream``), counted against the size its URL was signed
for (a ticket's declared size), chunked bodies included; past it the server stops reading, answers
``EntityTooLarge`` and closes the connection. A PostObject form's file is spooled to disk by the
form parser and copied into the store in chunks once its policy allowed its size.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Callable
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from voicefn.storage.keys import InvalidObjectKey
from voicefn.storage.local_objects import LocalObjectStore, ObjectTooLarge
from voicefn.storage.signing import ObjectAccessError

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # for URLs that name no size: above every ticket limit (asr: 200 MiB)
_COPY_CHUNK = 1024 * 1024


def oss_error(status: int, code: str, message: str, *, close: bool = False) -> Response:
    """An OSS-style error response; ``close`` when the request body was not read to its end (the
    connection cannot carry another request, and the client stops sending when it closes)."""
    request_id = uuid.uuid4().hex.upper()
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>voicefn-local</HostId></Error>")
    headers = {"x-oss-request-id": request_id}
    if close:
        headers["Connection"] = "close"
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def _refusal(exc: Exception, *, close: bool = False) -> Response:
    if isinstance(exc, ObjectAccessError):
        return oss_error(exc.status, exc.code, exc.message, close=close)
    if isinstance(exc, InvalidObjectKey):
        return oss_error(400, "InvalidObjectName", str(exc))
    raise exc


def object_router(store_provider: Callable[[], LocalObjectStore]) -> APIRouter:
    """Routes for ``GET``/``PUT /_objects/{bucket}/{key}`` and ``POST /_objects/{bucket}``.

    ``store_provider`` is called per request so the runtime can swap stores (tests, reloads).
    """
    router = APIRouter()

    def _store_for(bucket: str) -> LocalObjectStore | None:
        store = store_provider()
        return store if store.bucket == bucket else None

    @router.get("/_objects/{bucket}/{key:path}", include_in_schema=False)
    async def get_object(bucket: str, key: str, request: Request) -> Response:
        store = _store_for(bucket)
        if store is None:
            return oss_error(404, "NoSuchBucket", "the specified bucket does not exist")
        try:
            store.verify_get(key, request.query_params.get("expires"), request.query_params.get("signature"))
            info = await store.head(key)
            path = store.path_for(key)
        except (ObjectAccessError, InvalidObjectKey) as exc:
            return _refusal(exc)
        if info is None:
            return oss_error(404, "NoSuchKey", "the specified key does not exist")
        # FileResponse streams from disk and answers Range requests (206) by itself
        return FileResponse(path, media_type=info.content_type or "application/octet-stream",
                            headers={"ETag": f'"{info.etag}"'})

    @router.put("/_objects/{bucket}/{key:path}", include_in_schema=False)
    async def put_object(bucket: str, key: str, request: Request) -> Response:
        store = _store_for(bucket)
        if store is None:
            return oss_error(404, "NoSuchBucket", "the specified bucket does not exist")
        content_type = request.headers.get("content-type")
        signed_size = request.query_params.get("max_size")
        try:
            store.verify_put(key, request.query_params.get("expires"),
                             request.query_params.get("signature"), content_type, max_size=signed_size)
        except (ObjectAccessError, InvalidObjectKey) as exc:
            return _refusal(exc, close=True)
        limit = min(int(signed_size), MAX_UPLOAD_BYTES) if signed_size else MAX_UPLOAD_BYTES
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return oss_error(400, "EntityTooLarge", "your proposed upload exceeds the maximum allowed size",
                             close=True)
        try:
            info = await store.put_stream(key, request.stream(), content_type, max_size=limit)
        except ObjectTooLarge as exc:
            return _refusal(exc, close=True)
        except InvalidObjectKey as exc:
            return _refusal(exc)
        return Response(status_code=200, headers={"ETag": f'"{info.etag}"'})

    @router.post("/_objects/{bucket}", include_in_schema=False)
    async def post_object(bucket: str, request: Request) -> Response:
        store = _store_for(bucket)
        if store is None:
            return oss_error(404, "NoSuchBucket", "the specified bucket does not exist")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return oss_error(400, "InvalidArgument", "PostObject needs a multipart/form-data body", close=True)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _COPY_CHUNK:
            return oss_error(400, "EntityTooLarge", "your proposed upload exceeds the maximum allowed size",
                             close=True)
        # the parser spools the file part to disk (not memory) as it arrives; a body without a
        # Content-Length is counted as it comes and cut off past the largest upload there is
        counted = Request(request.scope, _counting_receive(request.receive, MAX_UPLOAD_BYTES + _COPY_CHUNK))
        try:
            form = await counted.form(max_files=1, max_fields=100)
        except ObjectTooLarge as exc:
            return _refusal(exc, close=True)
        try:
            fields: dict[str, str] = {}
            upload: UploadFile | None = None
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name.lower() == "file":
                        upload = value
                        break  # OSS ignores every field after the file
                    continue
                fields[name] = value
            if upload is None:
                return oss_error(400, "InvalidArgument", "the form has no file field (it must come last)")
            size = upload.size if upload.size is not None else _spooled_size(upload)
            try:
                key = store.verify_post_form(fields, size, upload.content_type)
            except (ObjectAccessError, InvalidObjectKey) as exc:
                return _refusal(exc)
            lowered = {k.lower(): v for k, v in fields.items()}
            content_type = lowered.get("content-type") or upload.content_type
            try:
                await upload.seek(0)
                info = await store.put_stream(key, _chunks(upload), content_type, max_size=size)
            except (InvalidObjectKey, ObjectTooLarge) as exc:
                return _refusal(exc)
        finally:
            await form.close()
        return _post_response(lowered.get("success_action_status"), store, bucket, key, info.etag)

    return router


def _counting_receive(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ObjectTooLarge("your proposed upload exceeds the maximum allowed size")
        return message

    return counting


def _spooled_size(upload: UploadFile) -> int:
    size = upload.file.seek(0, 2)
    upload.file.seek(0)
    return size


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_COPY_CHUNK):
        yield chunk


def _post_response(status: str | None, store: LocalObjectStore, bucket: str, key: str, etag: str) -> Response:
    headers = {"ETag": f'"{etag}"'}
    if status == "200":
        return Response(status_code=200, headers=headers)
    if status == "201":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
                f"<Bucket>{escape(bucket)}</Bucket><Location>{escape(store.object_url(key))}</Location>"
                f"<Key>{escape(key)}</Key><ETag>&quot;{etag}&quot;</ETag></PostResponse>")
        return Response(body, status_code=201, media_type="application/xml", headers=headers)
    return Response(status_code=204, headers=headers)  # OSS's default
