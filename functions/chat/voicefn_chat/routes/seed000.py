"""seed 000's POST /api/ai-chat: ask the travel assistant, get its reply and its speech.

The system prompt is the deployment's (``VOICEFN_CHAT_SYSTEM_PROMPT``; seed 000's is a Hunan
travel assistant), the model ``VOICEFN_LLM_DEFAULT_MODEL``. The reply is spoken with Qwen TTS
(seed 000's ``DASHSCOPE_TTS_MODEL`` and voices): one ``audio_url``, or ``audio_urls`` when it is
over 600 characters (cut at sentence ends into segments of at most 600, synthesized side by
side). Errors in seed 000's ``{error, message, code}``.
"""

from __future__ import annotations

from typing import Any

from voicefn.dashscope.errors import UpstreamError
from voicefn.errors import ApiError
from voicefn.llm import ChatTarget, Usage, resolve_target
from voicefn.llm.errors import to_chat_error
from voicefn.services import Services
from voicefn.auth.principal import Principal
from voicefn.billing import tts_bill
from voicefn.limits import RateLimited, hold
from voicefn.web.deps import ServicesDep
from voicefn_chat.billing import DEFAULT_HELD_REPLY_TOKENS
from voicefn.web.routing import plain_router
from voicefn_chat.schemas import AiChatRequest

router = plain_router(tags=["chat (seed 000)"])

MAX_MESSAGE_CHARS = 4000
MAX_SEGMENT_AUDIO_BYTES = 50 * 1024 * 1024
# a travel answer of a few paragraphs (seed 000 speaks replies over 600 characters in segments)
MAX_REPLY_TOKENS = 1024


@router.post("/api/ai-chat", summary="Chat with the travel assistant, reply spoken (seed 000)")
async def ai_chat(body: AiChatRequest, services: ServicesDep,
                  principal: Principal = RateLimited("chat")) -> dict[str, Any]:
    from voicefn.apikeys import resolve_api_key
    from voicefn.text.validate import require_speech
    from voicefn.tts.qwen_voices import check_qwen_voice
    from voicefn_chat.billing import estimate_turn_bill, record_turn

    if not body.message.strip():
        raise ApiError("INVALID_PARAMETER", "message is required", param="message")
    require_speech(body.message, param="message")
    if len(body.message) > MAX_MESSAGE_CHARS:
        raise ApiError("TEXT_TOO_LONG", f"message is {len(body.message)} characters; at most {MAX_MESSAGE_CHARS}",
                       param="message")
    if body.include_audio:
        check_qwen_voice(body.voice, body.language_type)
        tts_key = await resolve_api_key(principal, services)
    settings = services.settings
    target = await resolve_target(principal, services, settings.llm_default_model)
    messages = [{"role": "system", "content": settings.chat_system_prompt},
                {"role": "user", "content": body.message}]
    await hold(services, principal, estimate_turn_bill(target, messages, MAX_REPLY_TOKENS)
               + (tts_bill(settings.seed000_tts_model, DEFAULT_HELD_REPLY_TOKENS) if body.include_audio else 0),
               api_key=target.api_key)  # the spend caps: the turn's bill settles it
    reply, usage = await _ask(services, target, messages)
    out: dict[str, Any] = {"user_message": body.message, "ai_response": reply, "voice": body.voice,
                           "language_type": body.language_type}
    characters, tts_model = 0, None
    if body.include_audio:
        tts_model = settings.seed000_tts_model
        urls, characters = await _speak(services, tts_key, tts_model, reply, body.voice, body.language_type)
        if len(urls) == 1:
            out["audio_url"] = urls[0]
        else:
            out["audio_urls"] = urls
    await record_turn(services, principal, target=target, messages=messages, reply=reply, usage=usage,
                      mode="seed000", voice=body.voice if body.include_audio else None, tts_model=tts_model,
                      characters=characters, route="/api/ai-chat")
    return out


async def _ask(services: Services, target: ChatTarget, messages: list[dict[str, str]]) -> tuple[str, Usage]:
    """The whole reply, read as a stream: the LLM timeout then bounds each wait for a piece, not
    the whole generation (a slow model writing a long reply must not end in a 504), and the
    reply is bounded by MAX_REPLY_TOKENS."""
    import contextlib

    parts: list[str] = []
    usage: Usage | None = None
    try:
        async with contextlib.aclosing(services.llm.stream(target, {"messages": messages,
                                                                     "max_tokens": MAX_REPLY_TOKENS})) as chunks:
            async for chunk in chunks:
                parts.append(chunk.text)
                usage = chunk.usage or usage
    except UpstreamError as err:
        raise to_chat_error(err, target.requested) from err
    reply = "".join(parts)
    if not reply.strip():
        raise ApiError("UPSTREAM_ERROR", "the assistant returned an empty reply")
    return reply, usage or Usage()


async def _speak(services: Services, api_key: str, model: str, reply: str, voice: str,
                 language_type: str) -> tuple[list[str], int]:
    """Signed URLs of the reply's speech (one per segment), and the characters billed."""
    from voicefn.dashscope.errors import to_api_error
    from voicefn.text.clean import clean_for_speech
    from voicefn.text.split import pack_segments
    from voicefn.text.validate import has_speech
    from voicefn.tts.qwen_voices import SEGMENT_CHARS
    from voicefn.tts.service import gather_bounded
    from voicefn.tts.storage import audio_url, store_audio

    spoken = clean_for_speech(reply)
    segments = [s for s in pack_segments(spoken, SEGMENT_CHARS) if has_speech(s)] if has_speech(spoken) else []
    if not segments:
        raise ApiError("UPSTREAM_ERROR", "the assistant's reply has nothing to say aloud")

    def job(text: str) -> Any:
        async def run() -> tuple[str, int]:
            try:
                result = await services.dashscope.qwen_tts(api_key=api_key, model=model, text=text, voice=voice,
                                                           language_type=language_type)
                audio = await services.dashscope.http.fetch_bytes(result.audio_url,
                                                                  max_bytes=MAX_SEGMENT_AUDIO_BYTES)
            except UpstreamError as err:
                raise to_api_error(err) from err
            info = await store_audio(services.objects, audio, "wav")
            return audio_url(services.objects, info.key), result.characters
        return run

    done = await gather_bounded([job(s) for s in segments], services.settings.tts_long_concurrency)
    return [url for url, _ in done], sum(chars for _, chars in done)
