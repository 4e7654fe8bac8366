"""Who may name an object of our own store by its URL (DESIGN §8).

A user's uploads carry their owner in the key (``uploads/{purpose}/{user}/…``). Generated
objects keep seed 003's key layout (``audio/tts/{date}/{uuid}.{ext}``), so their owners are
recorded beside them: one grant per (object, user) in the state store's event table, written
when the object is handed to that user (a TTS cache hit hands the same object to a second user,
who then holds a grant too). A grant is first-writer-wins and never changes, so recording it
again (a retried request) is harmless.
"""

from __future__ import annotations

import hashlib

from voicefn.storage.state import StateStore

_PREFIX = "object-access:"


def _grant_key(key: str, user_id: str) -> str:
    # hashed: object keys reach 1023 bytes, more than a Tablestore primary-key column holds
    digest = hashlib.sha256(f"{user_id}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()
    return _PREFIX + digest


async def grant(state: StateStore, key: str, user_id: str) -> None:
    """Record that ``user_id`` was given the object at ``key`` (idempotent)."""
    await state.claim_event(_grant_key(key, user_id), owner=user_id)


async def is_granted(state: StateStore, key: str, user_id: str) -> bool:
    """Whether ``user_id`` was given the object at ``key``."""
    seen = await state.get_event(_grant_key(key, user_id))
    return seen is not None and seen.get("owner") == user_id


async def owns(state: StateStore, key: str, user_id: str) -> bool:
    """The user's own upload, or an object generated for them."""
    from voicefn.uploads import parse_upload_key

    upload = parse_upload_key(key)
    if upload is not None:
        return upload.user_id == user_id
    return await is_granted(state, key, user_id)
