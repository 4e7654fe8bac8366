"""qwen-vl models in DashScope's OpenAI-compatible mode (§4.3 with image parts): a user message's
content may hold ``{"type": "image_url", "image_url": {"url": ...}}`` parts next to text parts.

voicefn uses this wire (not multimodal-generation §4.2) because its LLM client already speaks it:
the same streaming, usage and errors as text chat. The emulator fetches the image (an http(s)
URL — under ``voicefn serve`` only the local object store — or a ``data:`` URI), measures it
(:mod:`voicefn_local.engines.vlm_looking`) and streams the description through the chat
machinery, so scripts (``X-Fake-Chat-Script`` or the admin API: the scripted engine), faults
(``match.api`` = ``vlm``), stats (``vlm_calls`` and the ``chat_*`` generation counters) and
cancellation behave exactly like text chat.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from voicefn_local.dashscope.asr_audio import AudioFetchFailed, AudioTooLarge, read_audio_ref
from voicefn_local.dashscope.chat_compat import handle_compat_chat
from voicefn_local.dashscope.errors import DashScopeError
from voicefn_local.dashscope.state import get_state
from voicefn_local.engines.llm_scripted import ChatScript

_VL = re.compile(r"qwen(2\.5|3)?-vl-(plus|max)(-latest|-\d{4}-\d{2}-\d{2})?")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_S = 20.0
VLM_TOKEN_DELAY_MS = 5.0


def is_vlm_model(model: str) -> bool:
    return bool(_VL.fullmatch(model))


def _bad(message: str) -> DashScopeError:
    return DashScopeError("InvalidParameter", message)


def split_parts(body: dict[str, Any]) -> tuple[dict[str, Any], list[str], str]:
    """``body`` with text-only messages (what the chat parser takes), the image refs of the last
    user message, and that message's text."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad('Required parameter "messages" missing from request.')
    plain: list[Any] = []
    images: list[str] = []
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            plain.append(message)
            continue
        texts, refs = [], []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "image_url":
                ref = part.get("image_url")
                url = ref.get("url") if isinstance(ref, dict) else ref
                if not isinstance(url, str) or not url:
                    raise _bad(f"messages[{index}].content: image_url.url must be a string")
                refs.append(url)
            else:
                raise _bad(f"messages[{index}].content: unsupported part {kind!r}")
        if message.get("role") == "user":
            images = refs
        plain.append({**message, "content": " ".join(texts)})
    question = next((m["content"] for m in reversed(plain) if isinstance(m, dict) and m.get("role") == "user"
                     and isinstance(m.get("content"), str)), "")
    return {**body, "messages": plain}, images, question


async def handle_compat_vlm(request: Request, body: dict[str, Any], stream: bool) -> Response:
    from voicefn_local.engines.vlm_looking import ImageUnreadable, describe, look

    state = get_state(request)
    text_body, images, question = split_parts(body)
    if not images:
        state.stats.incr("vlm_calls")
        raise _bad("a qwen-vl request needs an image_url part in the last user message")
    try:
        data = await read_audio_ref(images[0], max_bytes=MAX_IMAGE_BYTES, timeout_s=FETCH_TIMEOUT_S,
                                    allowed=state.config.fetch_only)
        looked = look(data)
    except AudioTooLarge:
        state.stats.incr("vlm_calls")
        raise _bad(f"the image is larger than {MAX_IMAGE_BYTES} bytes") from None
    except (AudioFetchFailed, ImageUnreadable) as exc:
        state.stats.incr("vlm_calls")
        raise _bad(f"Failed to download or read the image: {exc}") from None
    answer = ChatScript(reply=describe(looked, question), token_delay_ms=VLM_TOKEN_DELAY_MS)
    return await handle_compat_chat(request, text_body, stream, answer=answer, api="vlm")
