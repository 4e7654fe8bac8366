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


# a turn that names no max_tokens is held at this many reply tokens (released or settled at its end)
DEFAULT_HELD_REPLY_TOKENS = 1024


def prompt_characters(messages: list[dict[str, Any]]) -> int:
    """The prompt's text, in characters (of a message's text parts, when it has parts)."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            total += sum(len(str(p.get("text") or "")) for p in content if isinstance(p, dict))
        else:
            total += len(str(content or ""))
    return total


def estimate_turn_bill(target: ChatTarget, messages: list[dict[str, Any]], max_tokens: int | None) -> Decimal:
    """What a turn may cost before it runs, for the spend caps: a token per character of the prompt
    (generous: English runs ~4 characters a token) and ``max_tokens`` of reply. Speech is held
    apart, by the TTS service, when a spoken reply is asked for."""
    return chat_bill(target, Usage(prompt_characters(messages), max_tokens or DEFAULT_HELD_REPLY_TOKENS), None, 0)


def abandoned_usage(messages: list[dict[str, Any]], deltas: int) -> Usage:
    """The tokens of a turn cut before the upstream reported its usage (it does at the stream's
    end): the prompt as the hold counted it, a token per character, and a completion token per
    content delta received (the LLM streams about one token a delta)."""
    return Usage(prompt_characters(messages), deltas)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


async def record_turn(services: Services, principal: Principal, *, target: ChatTarget, messages: list[dict[str, Any]],
                      reply: str, usage: Usage, mode: str, voice: str | None, tts_model: str | None,
                      characters: int, output_key: str | None = None,
                      route: str = "/v1/chat/completions", extra_bill: Decimal = Decimal(0),
                      extra: dict[str, Any] | None = None, abandoned: bool = False) -> tuple[int, str]:
    """Write the turn's record; returns (record id, bill). ``extra_bill``: other upstream work of
    the same turn (the realtime sockets' recognition), so the turn still has one bill.
    ``abandoned``: the turn was cut (client gone, barge-in) and bills what it used so far."""
    bill = format_money(chat_bill(target, usage, tts_model, characters) + extra_bill)
    fields: dict[str, Any] = {"route": route, "mode": mode, "messages": len(messages),
                              "question": _last_user_text(messages)[:500]}
    if voice:
        fields.update({"voice": voice, "tts_model": tts_model})
    if abandoned:
        fields["abandoned"] = True
    record_id = await record_history(
        services.state, principal.user_id, type="chat", model=target.requested, input=fields, bill=bill,
        output_key=output_key, output_text=reply, voice_id=voice,
        extra={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
               "characters": characters, **(extra or {})})
    return record_id, bill
