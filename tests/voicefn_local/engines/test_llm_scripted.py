"""The scripted chat engine's tokens, and the stop / max_tokens limits every engine goes through."""

from __future__ import annotations

import pytest

from voicefn_local.dashscope.chat_service import limited
from voicefn_local.engines.llm_base import ChatMessage, ChatPrompt, Finish, Piece, split_tokens
from voicefn_local.engines.llm_scripted import PRESETS, ChatScript, ChatScripts, ScriptedEngine


@pytest.mark.parametrize("text", [*PRESETS.values(), "你好abc世界 ", "", "x", "  lead and trail  \n"])
def test_tokens_join_back_to_the_text(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_cjk_characters_and_emoji_are_tokens_of_their_own() -> None:
    assert split_tokens("长沙ok 😀!") == ["长", "沙", "ok", " 😀", "!"]


def prompt(**options) -> ChatPrompt:
    return ChatPrompt(messages=(ChatMessage("user", "hi"),), **options)


async def run(pieces: list[str], **options) -> tuple[str, Finish]:
    script = ChatScript(tokens=tuple(pieces), token_delay_ms=0)
    p = prompt(**options)
    events = [e async for e in limited(ScriptedEngine().generate(p, script), p)]
    assert all(isinstance(e, Piece) for e in events[:-1])
    finish = events[-1]
    assert isinstance(finish, Finish)
    return "".join(e.text for e in events[:-1]), finish


async def test_stop_spanning_pieces_is_held_back_then_cut() -> None:
    text, finish = await run(["Hel", "lo wo", "rld", " again"], stop=("o w", "xyz"))
    assert text == "Hell" and finish.reason == "stop"


async def test_a_partial_stop_that_does_not_complete_is_released() -> None:
    text, finish = await run(["ab", "c", "d"], stop=("cx",))
    assert text == "abcd" and finish.reason == "stop" and finish.completion_tokens == 3


async def test_max_tokens_ends_with_length() -> None:
    text, finish = await run(["a", "b", "c", "d"], max_tokens=2)
    assert (text, finish.reason, finish.completion_tokens) == ("ab", "length", 2)


def test_scripts_match_in_order_and_wear_out() -> None:
    scripts = ChatScripts()
    scripts.replace([ChatScript(reply="zh", when_contains="中文", times=1), ChatScript(reply="any")])
    assert scripts.take("说中文").reply == "zh"
    assert scripts.take("说中文").reply == "any"
    scripts.clear()
    assert scripts.take("x") is None


def test_bad_scripts_are_refused() -> None:
    for bad in ({"preset": "nope"}, {"token_delay_ms": -1}, {"tokens": [1]}, {"unknown": 1}, []):
        with pytest.raises(ValueError):
            ChatScript.from_dict(bad)
