"""One bill and one ``chat`` history record per turn: the tokens at the model's price plus the
TTS characters at the TTS model's price (DESIGN §6). No key, no audio in the record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.billing import format_money, tts_bill
from voicefn.catalog.models import get_chat_model
from voicefn.history import record_history
from voicefn.llm import ChatTarget, Usage
from voicefn.services import Services


def chat_bill(target: ChatTarget, usage: Usage, tts_model: str | None, characters: int) -> Decimal:
    """A model with no catalog price (an endpoint of the deployment's own) bills its tokens at 0."""
    model = get_chat_model(target.model) or get_chat_model(target.requested)
    tokens = model.price(usage.prompt_tokens, usage.completion_tokens) if model else Decimal(0)
    return tokens + (tts_bill(tts_model, characters) if tts_model and characters else Decimal(0))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


async def record_turn(services: Services, principal: Principal, *, target: ChatTarget, messages: list[dict[str, Any]],
                      reply: str, usage: Usage, mode: str, voice: str | None, tts_model: str | None,
                      characters: int, output_key: str | None = None,
                      route: str = "/v1/chat/completions", extra_bill: Decimal = Decimal(0),
                      extra: dict[str, Any] | None = None) -> tuple[int, str]:
    """Write the turn's record; returns (record id, bill). ``extra_bill``: other upstream work of
    the same turn (the realtime sockets' recognition), so the turn still has one bill."""
    bill = format_money(chat_bill(target, usage, tts_model, characters) + extra_bill)
    fields: dict[str, Any] = {"route": route, "mode": mode, "messages": len(messages),
                              "question": _last_user_text(messages)[:500]}
    if voice:
        fields.update({"voice": voice, "tts_model": tts_model})
    record_id = await record_history(
        services.state, principal.user_id, type="chat", model=target.requested, input=fields, bill=bill,
        output_key=output_key, output_text=reply, voice_id=voice,
        extra={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
               "characters": characters, **(extra or {})})
    return record_id, bill
