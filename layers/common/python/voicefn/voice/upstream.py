"""The enrollment calls as the voice layer makes them: on the key that owns the voice, retried
where that is safe, DashScope's failures in seed 003's terms.

A DashScope voice belongs to the account whose key enrolled it: every later call about it
(query, update, delete, synthesis) must use that key. The voice row records which
(``enrolled_by``: ``platform`` or ``user``); :func:`key_for_voice` turns that back into a key.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from voicefn.auth.principal import Principal
from voicefn.dashscope import enrollment
from voicefn.dashscope.enrollment import UpstreamVoice
from voicefn.dashscope.errors import UpstreamError, is_throttling, to_api_error
from voicefn.dashscope.retry import with_retries
from voicefn.errors import ApiError
from voicefn.records.voice import Voice
from voicefn.services import Services

__all__ = ["PLATFORM", "USER", "create", "delete", "enrollment_key", "is_missing", "key_for_voice", "query",
           "update"]

T = TypeVar("T")

PLATFORM = "platform"
USER = "user"

_LIMIT = re.compile(r"(limit|quota|maximum|too many|exceed)", re.IGNORECASE)
_MISSING = re.compile(r"(not\s*(be\s*)?found|not\s*exist|no\s+such|unknown voice)", re.IGNORECASE)


async def enrollment_key(principal: Principal, services: Services) -> tuple[str, str]:
    """(key, whose) a new voice of this user is enrolled with: their own key if they set one,
    else the platform key if they may use it, else NO_API_KEY."""
    from voicefn.apikeys import SETTINGS_FIELD, resolve_api_key

    key = await resolve_api_key(principal, services)
    row = await services.state.get_user_settings(principal.user_id)
    return key, USER if (row or {}).get(SETTINGS_FIELD) else PLATFORM


async def key_for_voice(services: Services, voice: Voice) -> str:
    """The key of the account that holds ``voice`` at DashScope (NO_API_KEY if it is gone)."""
    from voicefn.apikeys import NO_KEY_MESSAGE, SETTINGS_FIELD

    if voice.enrolled_by == USER:
        row = await services.state.get_user_settings(voice.owner)
        token = (row or {}).get(SETTINGS_FIELD)
        if not token:
            raise ApiError("NO_API_KEY", "this voice was cloned with its owner's own DashScope API key, which is "
                           "no longer configured: " + NO_KEY_MESSAGE)
        return services.vault.decrypt(token["ciphertext"], voice.owner)
    key = services.settings.platform_api_key
    if not key:
        raise ApiError("NO_API_KEY", NO_KEY_MESSAGE)
    return key


def _api_error(e: UpstreamError) -> ApiError:
    text = f"{e.code} {e.message}"
    if not is_throttling(e.code, e.http_status) and "voice" in text.lower() and _LIMIT.search(text):
        return ApiError("VOICE_LIMIT_EXCEEDED", f"DashScope refused a new voice: {e.message or e.code} "
                        "(1000 cloned voices per account)")
    return to_api_error(e)


def is_missing(e: UpstreamError) -> bool:
    """DashScope no longer knows the voice (deleted there, or taken offline)."""
    return e.http_status in (400, 404) and bool(_MISSING.search(f"{e.code} {e.message}"))


async def _run(services: Services, op: Callable[[], Awaitable[T]], *, retry: bool) -> T:
    client = services.dashscope
    try:
        if not retry:
            return await op()
        return await with_retries(op, retries=client.retries, budget_s=client.retry_budget_s)
    except UpstreamError as e:
        raise _api_error(e) from e


async def create(services: Services, api_key: str, *, target_model: str, prefix: str, url: str,
                 language_hints: Sequence[str] | None) -> str:
    """Retried only on an answer that says nothing was made (429, 5xx): after a timeout or a broken
    connection the voice may exist already, and a retry would make a second one."""
    http = services.dashscope.http

    async def attempt() -> str:
        try:
            return await enrollment.create_voice(http, api_key=api_key, target_model=target_model, prefix=prefix,
                                                 url=url, language_hints=language_hints)
        except UpstreamError as e:
            if e.http_status is None:
                e.retryable = False
            raise

    return await _run(services, attempt, retry=True)


async def query(services: Services, api_key: str, voice_id: str) -> UpstreamVoice:
    """Raises the UpstreamError itself when DashScope does not know the voice (see :func:`is_missing`)."""
    http = services.dashscope.http

    async def attempt() -> UpstreamVoice:
        return await enrollment.query_voice(http, api_key=api_key, voice_id=voice_id)

    client = services.dashscope
    try:
        return await with_retries(attempt, retries=client.retries, budget_s=client.retry_budget_s)
    except UpstreamError as e:
        if is_missing(e):
            raise
        raise _api_error(e) from e


async def update(services: Services, api_key: str, voice_id: str, url: str) -> None:
    http = services.dashscope.http

    async def attempt() -> None:
        await enrollment.update_voice(http, api_key=api_key, voice_id=voice_id, url=url)

    await _run(services, attempt, retry=True)  # the same sample again is harmless


async def delete(services: Services, api_key: str, voice_id: str) -> None:
    """Deleting a voice DashScope no longer has is done, not an error."""
    http = services.dashscope.http

    async def attempt() -> None:
        await enrollment.delete_voice(http, api_key=api_key, voice_id=voice_id)

    client = services.dashscope
    try:
        await with_retries(attempt, retries=client.retries, budget_s=client.retry_budget_s)
    except UpstreamError as e:
        if not is_missing(e):
            raise _api_error(e) from e
