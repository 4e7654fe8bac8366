"""Upload tickets: ``POST /api/audio/uploads`` and ``GET /api/audio/uploads/{ticket_id}``.

A ticket lets a client (a mini-program's ``wx.uploadFile``, a browser) put one audio file
straight into OSS; the upload's OSS event starts the purpose's work (``voicefn.uploads``).
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from voicefn.uploads import create_ticket, get_ticket_public
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router

router = plain_router(prefix="/api/audio", tags=["uploads"])


class UploadTicketBody(BaseModel):
    # purpose, content type and size are checked by voicefn.uploads, whose messages say what is allowed
    model_config = ConfigDict(extra="ignore")

    purpose: str = Field(description="asr (transcribed when it lands) or voice (a cloning sample)")
    content_type: str = Field(description="the file's media type, e.g. audio/mpeg; the PUT must send exactly this")
    size: int = Field(description="the file's size in bytes; the upload may not be larger")
    filename: str = Field("", description="the file's name, kept as a label only")
    callback_url: Optional[str] = Field(None, description="public http(s) URL that receives the finished task")
    voice: Optional[dict[str, Any]] = Field(
        None, description="purpose voice only: {target_model, prefix, name?, gender?, description?, is_public?, "
        "language_hints?}; the sample is enrolled as this voice when it lands (the ticket then shows voice_id)")


@router.post("/uploads", summary="Get a signed upload ticket (OSS PostObject form and presigned PUT URL)")
async def create_upload(body: UploadTicketBody, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    ticket = await create_ticket(services, principal, purpose=body.purpose, filename=body.filename,
                                 content_type=body.content_type, size=body.size, callback_url=body.callback_url,
                                 voice=body.voice)
    return ok(ticket)


@router.get("/uploads/{ticket_id}", summary="Your upload's status and, once its event was handled, its task")
async def get_upload(ticket_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    return ok(await get_ticket_public(services, principal, ticket_id))
