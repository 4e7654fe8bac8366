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

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time each submodule loads on first use
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

# what lives where: importing ``voicefn.uploads.event`` (the FC entry's OSS check) loads only that
_WHERE = {
    "CheckedAudio": "check", "check_object": "check",
    "OssEvent": "event", "OssEventRecord": "event", "build_oss_event": "event",
    "Purpose": "hooks", "UploadContext": "hooks", "UploadOutcome": "hooks", "get_purpose": "hooks",
    "purpose": "hooks", "register_purpose": "hooks", "unregister_purpose": "hooks",
    "handle_event": "intake", "handle_record": "intake", "oss_event_handler": "intake",
    "UploadKey": "keys", "content_type_extension": "keys", "decode_user_segment": "keys",
    "encode_user_segment": "keys", "parse_upload_key": "keys", "upload_key": "keys",
    "FILETRANS_MODEL": "limits", "MAX_SIZE": "limits", "PURPOSES": "limits", "TICKET_TTL_S": "limits",
    "TICKET_STATUSES": "tickets", "Ticket": "tickets", "attach_task": "tickets", "claim_ticket": "tickets",
    "create_ticket": "tickets", "get_ticket_public": "tickets", "load_ticket": "tickets", "mark_ticket": "tickets",
    "reject_ticket": "tickets",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


__all__ = [
    "FILETRANS_MODEL", "MAX_SIZE", "PURPOSES", "TICKET_STATUSES", "TICKET_TTL_S", "CheckedAudio", "OssEvent",
    "OssEventRecord", "Purpose", "Ticket", "UploadContext", "UploadKey", "UploadOutcome", "attach_task",
    "build_oss_event", "check_object", "claim_ticket", "content_type_extension", "create_ticket",
    "decode_user_segment", "encode_user_segment", "get_purpose", "get_ticket_public", "handle_event",
    "handle_record", "load_ticket", "mark_ticket", "oss_event_handler", "parse_upload_key", "purpose",
    "register_purpose", "reject_ticket", "unregister_purpose", "upload_key",
]


def __dir__() -> list[str]:
    return sorted(__all__)
