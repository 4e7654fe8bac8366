"""Uploads straight to OSS and what happens when they land (DESIGN.md §3a, §7).

One module per job:

- :mod:`~voicefn.uploads.limits`: sizes, media types, formats, the model, read budgets (stated once)
- :mod:`~voicefn.uploads.keys`: the upload object key and what it says
- :mod:`~voicefn.uploads.tickets`: upload tickets (create, show, claim, move on)
- :mod:`~voicefn.uploads.event`: FC's OSS event, typed, and the builder the local store uses
- :mod:`~voicefn.uploads.check`: the object's real format and duration, by ranged reads
- :mod:`~voicefn.uploads.hooks`: what each purpose does with a checked upload
- :mod:`~voicefn.uploads.intake`: event → ticket → claim once → check → hook

A function serving uploads registers its hook and exposes the handler::

    @uploads.purpose("asr")
    async def start(ctx: uploads.UploadContext) -> uploads.UploadOutcome: ...

    on_oss_event = uploads.oss_event_handler("asr")
"""

from voicefn.uploads.check import CheckedAudio, check_object
from voicefn.uploads.event import OssEvent, OssEventRecord, build_oss_event
from voicefn.uploads.hooks import (
    Purpose, UploadContext, UploadOutcome, get_purpose, purpose, register_purpose, unregister_purpose,
)
from voicefn.uploads.intake import handle_event, handle_record, oss_event_handler
from voicefn.uploads.keys import (
    UploadKey, content_type_extension, decode_user_segment, encode_user_segment, parse_upload_key, upload_key,
)
from voicefn.uploads.limits import FILETRANS_MODEL, MAX_SIZE, PURPOSES, TICKET_TTL_S
from voicefn.uploads.tickets import (
    TICKET_STATUSES, Ticket, attach_task, claim_ticket, create_ticket, get_ticket_public, load_ticket, mark_ticket,
    reject_ticket,
)

__all__ = [
    "FILETRANS_MODEL", "MAX_SIZE", "PURPOSES", "TICKET_STATUSES", "TICKET_TTL_S", "CheckedAudio", "OssEvent",
    "OssEventRecord", "Purpose", "Ticket", "UploadContext", "UploadKey", "UploadOutcome", "attach_task",
    "build_oss_event", "check_object", "claim_ticket", "content_type_extension", "create_ticket",
    "decode_user_segment", "encode_user_segment", "get_purpose", "get_ticket_public", "handle_event",
    "handle_record", "load_ticket", "mark_ticket", "oss_event_handler", "parse_upload_key", "purpose",
    "register_purpose", "reject_ticket", "unregister_purpose", "upload_key",
]
