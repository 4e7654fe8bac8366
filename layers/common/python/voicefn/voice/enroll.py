"""Enroll, re-enroll and delete cloned voices; move their status on; show them (seed 003 §3).

A voice row (``voicefn.records.Voice``) is written once DashScope has given the voice its id,
with status DEPLOYING and a deadline (``deploy_deadline_at``, settings ``voice_deploy_deadline_s``).
:func:`refresh` asks DashScope's ``query_voice`` and writes what it says; the function's poll
job calls it until the status is final, and so does a client's GET. Past the deadline a voice
still DEPLOYING ends UNDEPLOYED with the reason: no voice stays DEPLOYING forever.

Every enrollment, update and deletion writes a ``voice`` history record with bill ``"0"``
(cloning is free; synthesis with the voice is billed as usual).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from voicefn import clock
from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError
from voicefn.errors import ApiError
from voicefn.history import record_history
from voicefn.logging import get_logger
from voicefn.records.voice import Voice, VoiceStatus
from voicefn.services import Services
from voicefn.voice import upstream
from voicefn.voice.access import PUBLIC_NEEDS_PLATFORM_KEY
from voicefn.voice.rules import ACCOUNT_VOICE_LIMIT
from voicefn.voice.sample import Sample, store_sample

__all__ = ["SAMPLE_URL_TTL_S", "VoiceDetails", "delete_voice", "enroll", "owned_voice", "public_details",
           "public_summary", "refresh", "reenroll"]

log = get_logger(__name__)

# DashScope fetches the sample while it deploys the voice (and may again): a signed URL for a day
SAMPLE_URL_TTL_S = 24 * 3600
RESOURCE_URL_TTL_S = 3600
GENDERS = ("male", "female")


@dataclass(frozen=True)
class VoiceDetails:
    """What a caller chose beyond the sample (seed 001's fields)."""

    name: str | None = None
    gender: str | None = None
    description: str | None = None
    public: bool = False


async def owned_voice(services: Services, principal: Principal, voice_id: str) -> Voice:
    """The caller's own voice, or VOICE_NOT_FOUND (also for someone else's voice, public or not:
    only its owner may read its details, change or delete it)."""
    row = await services.state.get_voice(voice_id) if voice_id else None
    if row is None or row.get("owner") != principal.user_id:
        raise ApiError("VOICE_NOT_FOUND", f"voice {voice_id} not found", param="voice_id")
    return Voice.from_row(row)


async def _check_limits(services: Services, principal: Principal, whose: str) -> None:
    state, limit = services.state, services.settings.voice_user_limit
    if await state.count_voices(owner=principal.user_id) >= limit:
        raise ApiError("VOICE_LIMIT_EXCEEDED", f"you have {limit} voices, the most one user may have; delete one "
                       "first")
    account = await (state.count_voices(enrolled_by=upstream.PLATFORM) if whose == upstream.PLATFORM
                     else state.count_voices(owner=principal.user_id, enrolled_by=upstream.USER))
    if account >= ACCOUNT_VOICE_LIMIT:
        raise ApiError("VOICE_LIMIT_EXCEEDED", f"the DashScope account holds {ACCOUNT_VOICE_LIMIT} voices already "
                       "(1000 per account, shared by every user of the platform key)")


def _deadline(services: Services) -> str:
    return clock.format_utc(datetime.now(timezone.utc) + timedelta(seconds=services.settings.voice_deploy_deadline_s))


async def enroll(services: Services, principal: Principal, sample: Sample, *, target_model: str, prefix: str,
                 language_hints: list[str] | None = None, details: VoiceDetails | None = None,
                 origin: dict[str, Any] | None = None) -> tuple[Voice, int]:
    """Store the sample, enroll it at DashScope, record the voice (DEPLOYING) and its history;
    (voice, record_id). The caller starts the status job."""
    details = details or VoiceDetails()
    if details.gender is not None and details.gender not in GENDERS:
        raise ApiError("INVALID_PARAMETER", "gender must be male or female", param="voice_gender")
    api_key, whose = await upstream.enrollment_key(principal, services)
    if details.public and whose != upstream.PLATFORM:
        raise ApiError("INVALID_PARAMETER", PUBLIC_NEEDS_PLATFORM_KEY, param="is_public")
    await _check_limits(services, principal, whose)
    sample_key = await store_sample(services, sample, principal.user_id)
    url = services.objects.signed_get_url(sample_key, SAMPLE_URL_TTL_S)
    try:
        voice_id = await upstream.create(services, api_key, target_model=target_model, prefix=prefix, url=url,
                                         language_hints=language_hints)
    except ApiError:
        await services.objects.delete(sample_key)  # nothing was enrolled: keep nothing
        raise
    voice = Voice(voice_id=voice_id, owner=principal.user_id, target_model=target_model, prefix=prefix,
                  status=VoiceStatus.DEPLOYING, name=details.name, gender=details.gender,
                  description=details.description, public=details.public, sample_key=sample_key,
                  enrolled_by=whose,
                  extra={"language_hints": language_hints, "deploy_deadline_at": _deadline(services),
                         "generation": 1, "sample_format": sample.format,
                         "sample_duration": round(sample.duration, 3), "origin": origin})
    await services.state.put_voice(voice.to_row())
    record_id = await _history(services, voice, "create", idempotency_key=f"voice:create:{voice_id}")
    voice.extra["record_id"] = record_id
    await services.state.put_voice(voice.to_row())
    log.info("voice enrolled", extra={"voice_id": voice_id, "target_model": target_model, "enrolled_by": whose})
    return voice, record_id


async def reenroll(services: Services, voice: Voice, sample: Sample) -> Voice:
    """A new sample for ``voice``: DashScope's ``update_voice``; back to DEPLOYING."""
    api_key = await upstream.key_for_voice(services, voice)
    old_key = voice.sample_key
    sample_key = await store_sample(services, sample, voice.owner)
    try:
        await upstream.update(services, api_key, voice.voice_id,
                              services.objects.signed_get_url(sample_key, SAMPLE_URL_TTL_S))
    except ApiError:
        await services.objects.delete(sample_key)
        raise
    generation = int(voice.extra.get("generation") or 1) + 1
    voice.sample_key, voice.status = sample_key, VoiceStatus.DEPLOYING
    voice.extra.update({"deploy_deadline_at": _deadline(services), "generation": generation, "reason": None,
                        "sample_format": sample.format, "sample_duration": round(sample.duration, 3)})
    voice.updated_at = None
    await services.state.put_voice(voice.to_row())
    if old_key and old_key != sample_key:
        await services.objects.delete(old_key)
    await _history(services, voice, "update", idempotency_key=f"voice:update:{voice.voice_id}:{generation}")
    return voice


async def delete_voice(services: Services, voice: Voice) -> None:
    """Removed at DashScope, in the table, and its objects (sample, preview)."""
    api_key = await upstream.key_for_voice(services, voice)
    await upstream.delete(services, api_key, voice.voice_id)
    await _history(services, voice, "delete", idempotency_key=f"voice:delete:{voice.voice_id}")
    await services.state.delete_voice(voice.voice_id)
    for key in (voice.sample_key, voice.preview_key):
        if key:
            await services.objects.delete(key)


async def refresh(services: Services, voice: Voice) -> Voice:
    """Ask DashScope how a DEPLOYING voice is doing and record it; past its deadline it ends
    UNDEPLOYED. A final status is returned as it is."""
    if voice.status is not VoiceStatus.DEPLOYING:
        return voice
    generation = voice.extra.get("generation")
    status, reason, upstream_voice = VoiceStatus.DEPLOYING, None, None
    try:
        api_key = await upstream.key_for_voice(services, voice)
        upstream_voice = await upstream.query(services, api_key, voice.voice_id)
        if upstream_voice.status in (VoiceStatus.OK.value, VoiceStatus.UNDEPLOYED.value):
            status = VoiceStatus(upstream_voice.status)
            if status is VoiceStatus.UNDEPLOYED:
                reason = "DashScope could not deploy the voice from this sample"
    except UpstreamError as e:  # DashScope no longer has it
        status, reason = VoiceStatus.UNDEPLOYED, f"DashScope no longer knows this voice ({e.code})"
    except ApiError as err:
        if err.status < 500 and err.code not in ("RATE_LIMITED", "TIMEOUT", "NO_API_KEY"):
            raise
        log.warning("voice status check failed", extra={"voice_id": voice.voice_id, "code": err.code})
    deadline = clock.parse_utc(str(voice.extra.get("deploy_deadline_at") or ""))
    if status is VoiceStatus.DEPLOYING and deadline is not None and datetime.now(timezone.utc) >= deadline:
        status = VoiceStatus.UNDEPLOYED
        reason = f"DashScope did not deploy the voice within {services.settings.voice_deploy_deadline_s:g} s"
    if status is VoiceStatus.DEPLOYING and upstream_voice is None:
        return voice
    current = await services.state.get_voice(voice.voice_id)
    if current is None or current.get("generation") != generation:
        return Voice.from_row(current) if current is not None else voice  # deleted or re-enrolled meanwhile
    fresh = Voice.from_row(current)
    if fresh.status is not VoiceStatus.DEPLOYING:
        return fresh
    fresh.status = status
    first_answer = upstream_voice is not None and not fresh.extra.get("gmt_create")
    if upstream_voice is not None:
        fresh.extra.update({"gmt_create": upstream_voice.gmt_create, "gmt_modified": upstream_voice.gmt_modified})
    if reason is not None:
        fresh.extra["reason"] = reason
    if status is not VoiceStatus.DEPLOYING or first_answer:
        fresh.updated_at = None
        await services.state.put_voice(fresh.to_row())
    return fresh


async def _history(services: Services, voice: Voice, action: str, *, idempotency_key: str) -> int:
    fields: dict[str, Any] = {"action": action, "voice_id": voice.voice_id, "target_model": voice.target_model,
                              "prefix": voice.prefix}
    for name in ("name", "gender"):
        if getattr(voice, name):
            fields[name] = getattr(voice, name)
    return await record_history(services.state, voice.owner, type="voice", model=voice.target_model or "",
                                input=fields, bill="0", voice_id=voice.voice_id,
                                duration=voice.extra.get("sample_duration") if action != "delete" else None,
                                status=voice.status.value if action != "delete" else "DELETED",
                                idempotency_key=idempotency_key)


def _gmt(voice: Voice, name: str, fallback: str | None) -> str | None:
    """DashScope's ``YYYY-MM-DD HH:MM:SS`` times (seed 003's), ours in that form until it answers."""
    value = voice.extra.get(name)
    if value:
        return str(value)
    moment = clock.parse_utc(fallback)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


def public_summary(voice: Voice) -> dict[str, Any]:
    """seed 003 §3.2's list entry."""
    out: dict[str, Any] = {"voice_id": voice.voice_id, "status": voice.status.value,
                           "target_model": voice.target_model,
                           "gmt_create": _gmt(voice, "gmt_create", voice.created_at),
                           "gmt_modified": _gmt(voice, "gmt_modified", voice.updated_at)}
    if voice.status is VoiceStatus.UNDEPLOYED and voice.extra.get("reason"):
        out["reason"] = voice.extra["reason"]
    return out


def public_details(voice: Voice, services: Services) -> dict[str, Any]:
    """seed 003 §3.3: the summary with ``resource_link`` (a signed URL of the stored sample)."""
    out = public_summary(voice)
    out["resource_link"] = (services.objects.signed_get_url(voice.sample_key, RESOURCE_URL_TTL_S)
                            if voice.sample_key else None)
    return out
