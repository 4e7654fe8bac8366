"""DashScope's voice-enrollment API (reference/dashscope_protocol.md §2), spoken over httpx.

One endpoint, ``POST {base_http}/services/audio/tts/customization``, plain JSON (no Async header),
switched on ``input.action``: the bodies below are byte for byte what the SDK 2.0.2's
``VoiceEnrollmentService`` sends (``{"model": "voice-enrollment", "parameters": {}, "input": {...}}``),
so voicefn need not import the SDK (``import dashscope`` costs ~0.7 s of cold start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voicefn.dashscope.errors import UNKNOWN, UpstreamError
from voicefn.dashscope.http import DashScopeHttp

__all__ = ["ENROLLMENT_MODEL", "ENROLLMENT_PATH", "UpstreamVoice", "create_voice", "delete_voice", "enrollment_body",
           "list_voices", "query_voice", "update_voice"]

ENROLLMENT_PATH = "services/audio/tts/customization"
ENROLLMENT_MODEL = "voice-enrollment"


@dataclass(frozen=True)
class UpstreamVoice:
    """What ``query_voice`` (or one ``list_voice`` entry) says about a voice."""

    voice_id: str
    status: str                  # DEPLOYING, OK or UNDEPLOYED
    target_model: str | None = None
    resource_link: str | None = None
    gmt_create: str | None = None
    gmt_modified: str | None = None

    @classmethod
    def from_output(cls, voice_id: str, output: dict[str, Any]) -> UpstreamVoice:
        def text(name: str) -> str | None:
            value = output.get(name)
            return None if value is None else str(value)

        return cls(voice_id=str(output.get("voice_id") or voice_id), status=str(output.get("status") or UNKNOWN),
                   target_model=text("target_model"), resource_link=text("resource_link"),
                   gmt_create=text("gmt_create"), gmt_modified=text("gmt_modified"))


def enrollment_body(action: str, **fields: Any) -> dict[str, Any]:
    """The SDK's request body: ``input`` carries the action and its fields (None ones left out)."""
    return {"model": ENROLLMENT_MODEL, "parameters": {},
            "input": {"action": action, **{k: v for k, v in fields.items() if v is not None}}}


async def _call(http: DashScopeHttp, api_key: str, action: str, **fields: Any) -> dict[str, Any]:
    reply = await http.post(ENROLLMENT_PATH, enrollment_body(action, **fields), api_key=api_key)
    output = reply.get("output")
    if not isinstance(output, dict):
        raise UpstreamError(UNKNOWN, f"{action}: the reply has no output object", retryable=False,
                            request_id=reply.get("request_id"))
    return output


async def create_voice(http: DashScopeHttp, *, api_key: str, target_model: str, prefix: str, url: str,
                       language_hints: Sequence[str] | None = None) -> str:
    """Enroll the sample at ``url``; DashScope's new voice id (status DEPLOYING)."""
    output = await _call(http, api_key, "create_voice", target_model=target_model, prefix=prefix, url=url,
                         language_hints=list(language_hints) if language_hints else None)
    voice_id = output.get("voice_id")
    if not isinstance(voice_id, str) or not voice_id:
        raise UpstreamError(UNKNOWN, "create_voice: the reply has no voice_id", retryable=False)
    return voice_id


async def query_voice(http: DashScopeHttp, *, api_key: str, voice_id: str) -> UpstreamVoice:
    return UpstreamVoice.from_output(voice_id, await _call(http, api_key, "query_voice", voice_id=voice_id))


async def list_voices(http: DashScopeHttp, *, api_key: str, prefix: str | None = None, page_index: int = 0,
                      page_size: int = 10) -> list[UpstreamVoice]:
    output = await _call(http, api_key, "list_voice", prefix=prefix, page_index=page_index, page_size=page_size)
    entries = output.get("voice_list") or []
    return [UpstreamVoice.from_output(str(e.get("voice_id") or ""), e) for e in entries if isinstance(e, dict)]


async def update_voice(http: DashScopeHttp, *, api_key: str, voice_id: str, url: str) -> None:
    await _call(http, api_key, "update_voice", voice_id=voice_id, url=url)


async def delete_voice(http: DashScopeHttp, *, api_key: str, voice_id: str) -> None:
    await _call(http, api_key, "delete_voice", voice_id=voice_id)
