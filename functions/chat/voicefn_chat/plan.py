"""A chat request checked and resolved before anything is streamed: the LLM target (404 for an
unknown model, 403 without a key), the upstream body, and how the reply is spoken, if at all
(a bad voice is refused here, with a status, not in the middle of the stream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.llm import ChatTarget, resolve_target
from voicefn.services import Services
from voicefn.tts.openai_names import speech_model, speech_settings, speech_voice
from voicefn.tts.params import VoiceSettings
from voicefn_chat.schemas import ChatCompletionRequest

Mode = Literal["text", "audio", "tts"]  # text only; OpenAI's audio modality; seed 004's tts_enabled
ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True)
class ChatPlan:
    target: ChatTarget
    body: dict[str, Any]
    mode: Mode
    voice: VoiceSettings | None = None
    tts_api_key: str = ""
    audio_format: str | None = None  # OpenAI's name: pcm16, mp3, wav, flac, opus

    @property
    def tts_model(self) -> str | None:
        return self.voice.model if self.voice else None


def _text_of(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in ("text", "input_text") or not isinstance(part.get("text"), str):
                raise ApiError("INVALID_PARAMETER", f"messages[{index}].content: only text parts are supported "
                               f"(got {kind!r})", param=f"messages[{index}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise ApiError("INVALID_PARAMETER", f"messages[{index}].content must be a string or an array of parts",
                   param=f"messages[{index}].content")


def upstream_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages as every OpenAI-compatible endpoint takes them: plain-text content."""
    out = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in ROLES:
            raise ApiError("INVALID_PARAMETER", f"messages[{index}].role must be one of {', '.join(ROLES)}",
                           param=f"messages[{index}].role")
        text = _text_of(message.get("content"), index)
        if not text and role == "assistant" and isinstance(message.get("audio"), dict):
            raise ApiError("INVALID_PARAMETER", f"messages[{index}]: an earlier audio reply is not kept here; send "
                           "its transcript as the content", param=f"messages[{index}].audio")
        out.append({"role": "system" if role == "developer" else str(role), "content": text})
    return out


def upstream_body(req: ChatCompletionRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": upstream_messages(req.messages)}
    max_tokens = req.max_completion_tokens or req.max_tokens
    for name, value in (("temperature", req.temperature), ("top_p", req.top_p), ("max_tokens", max_tokens),
                        ("stop", req.stop)):
        if value is not None:
            body[name] = value
    return body


async def _voice(principal: Principal, services: Services, tts_model: str | None, voice_name: str | None,
                 fmt: str) -> tuple[VoiceSettings, str]:
    from voicefn.tts.service import TtsService

    model = speech_model(tts_model or services.settings.chat_tts_model)
    voice = speech_voice(voice_name or services.settings.chat_tts_voice, model)
    if not voice:
        raise ApiError("INVALID_VOICE", "voice is required", param="voice")
    settings = speech_settings(model, voice, fmt)
    return settings, await TtsService(services).prepare_live(principal, settings)


async def plan_request(req: ChatCompletionRequest, principal: Principal, services: Services) -> ChatPlan:
    body = upstream_body(req)
    target = await resolve_target(principal, services, req.model)
    if req.modalities and "audio" in req.modalities:
        if req.audio is None:
            raise ApiError("INVALID_PARAMETER", 'audio ({"voice", "format"}) is required with the audio modality',
                           param="audio")
        name = req.audio.voice.get("id") if isinstance(req.audio.voice, dict) else req.audio.voice
        voice, key = await _voice(principal, services, req.tts_model, name if isinstance(name, str) else None, "pcm")
        return ChatPlan(target, body, "audio", voice, key, req.audio.format)
    enabled = services.settings.chat_tts_enabled if req.tts_enabled is None else req.tts_enabled
    if enabled:
        voice, key = await _voice(principal, services, req.tts_model, req.voice, "mp3")
        return ChatPlan(target, body, "tts", voice, key)
    return ChatPlan(target, body, "text")
