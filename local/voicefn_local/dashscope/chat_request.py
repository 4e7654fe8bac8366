"""The body of a compatible-mode chat completion, checked the way DashScope checks it (400
``invalid_parameter_error`` with its messages) and turned into a :class:`ChatPrompt`."""

from __future__ import annotations

from typing import Any

from voicefn_local.dashscope.errors import DashScopeError
from voicefn_local.engines.llm_base import ChatMessage, ChatPrompt

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
         "tool": "tool"}
MAX_STOP = 4


def _bad(message: str) -> DashScopeError:
    return DashScopeError("InvalidParameter", message)


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"<400> InternalError.Algo.InvalidParameter: {name} must be a number")
    return float(value)


def _whole(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"<400> InternalError.Algo.InvalidParameter: {name} must be an integer")
    return value


def _content(message: dict[str, Any], index: int) -> str:
    content = message.get("content")
    if content is None:
        if message.get("role") == "assistant":
            return ""
        raise _bad(f"messages[{index}].content is required")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise _bad(f"messages[{index}].content: this model accepts only text parts, got {kind!r}")
            texts.append(part["text"])
        return "".join(texts)
    raise _bad(f"messages[{index}].content must be a string or an array of content parts")


def _messages(body: dict[str, Any]) -> tuple[ChatMessage, ...]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad('Required parameter "messages" missing from request.')
    parsed = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(f"messages[{index}] must be an object")
        role = ROLES.get(str(message.get("role")))
        if role is None:
            raise _bad(f"messages[{index}].role must be one of {', '.join(ROLES)}")
        parsed.append(ChatMessage(role, _content(message, index)))
    if not any(m.role == "user" for m in parsed):
        raise _bad("messages must contain a user message")
    return tuple(parsed)


def _stop(body: dict[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items) or len(items) > MAX_STOP:
        raise _bad(f"stop must be a non-empty string or a list of at most {MAX_STOP} of them")
    return tuple(items)


def parse_chat(body: dict[str, Any]) -> ChatPrompt:
    """The prompt of ``body``, or :class:`DashScopeError` (400) naming what is wrong."""
    messages = _messages(body)
    temperature = _number(body, "temperature")
    if temperature is not None and not 0 <= temperature < 2:
        raise _bad("<400> InternalError.Algo.InvalidParameter: Range of temperature should be [0.0, 2.0)")
    top_p = _number(body, "top_p")
    if top_p is not None and not 0 < top_p <= 1:
        raise _bad("<400> InternalError.Algo.InvalidParameter: Range of top_p should be (0.0, 1.0]")
    max_tokens = _whole(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = _whole(body, "max_tokens")
    if max_tokens is not None and max_tokens < 1:
        raise _bad("<400> InternalError.Algo.InvalidParameter: Range of max_tokens should be [1, 16384]")
    n = _whole(body, "n")
    if n is not None and n != 1:
        raise _bad("<400> InternalError.Algo.InvalidParameter: the embedded DashScope answers n=1 only")
    if body.get("tools"):
        raise _bad("the embedded DashScope's chat engines do not call tools")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("stream_options must be an object")
    return ChatPrompt(messages=messages, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                      stop=_stop(body), seed=_whole(body, "seed"))
