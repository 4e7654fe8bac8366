"""A chat turn the client leaves in the middle of its stream is still billed for what it used:
one ``chat`` record, marked abandoned, with a bill above 0 and below the whole turn's, and the
spend hold settled (nothing left in flight). A turn that completes is billed once, unmarked."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal
from typing import Any, Iterator

import httpx
import pytest

from tests.functions.chat.helpers import leave_mid_stream, script, sse_events
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


@pytest.fixture(autouse=True)
def _forget_cancelled_calls(stack: Stack) -> Iterator[None]:
    """The emulator's call log is the session's: the generations cut here must not count as
    cancelled in a later test that looks for its own."""
    yield
    stack.emulator("/_admin/chat-calls", "DELETE").raise_for_status()


def _reply(tag: str) -> str:
    return " ".join(f"Sentence {n} of {tag} goes on for a little while." for n in range(1, 21))


def _body(tag: str, mode: str) -> dict[str, Any]:
    spoken = {"tts_enabled": True} if mode == "tts" else {"tts_enabled": False}
    return {"model": "qwen-plus", "messages": [{"role": "user", "content": tag}], "stream": True, **spoken}


def _chat_records(client: httpx.Client) -> list[dict[str, Any]]:
    return client.get("/api/audio/history", params={"type": "chat"}).json()["data"]["items"]


def _records_when_settled(client: httpx.Client, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The user's chat records once one is written and nothing is held any more."""
    deadline = time.monotonic() + timeout
    while True:
        records = _chat_records(client)
        today = client.get("/api/audio/usage").json()["data"]["today"]
        if records and today["in_flight"] == "0":
            return records
        assert time.monotonic() < deadline, f"no settled record: {records}, {today}"
        time.sleep(0.05)


def _leave_mid_stream(stack: Stack, client: httpx.Client, body: dict[str, Any], mode: str) -> None:
    """Part of the reply (and of its speech) is out, far from the end: leave."""
    before = stack.stats()["tts_ws_syntheses"]  # tasks given text (not one started ahead)
    leave_mid_stream(client, body, events=6,
                     ready=lambda: mode == "text" or stack.stats()["tts_ws_syntheses"] > before + 1)


@pytest.mark.parametrize("mode", ["text", "tts"])
def test_a_turn_abandoned_mid_stream_bills_what_it_used_once(stack: Stack, settings_override, mode: str) -> None:
    settings_override(spend_cap_daily="5")  # the turn takes a hold: it must be settled, not left
    tag = uuid.uuid4().hex[:6]
    script(stack, {"reply": _reply(tag), "when_contains": f"cut {tag}", "tokens_per_s": 25},
           {"reply": _reply(tag), "when_contains": f"whole {tag}", "tokens_per_s": 1000})
    if mode == "tts":
        stack.set_faults([{"match": {"api": "tts_ws", "text_contains": tag},
                           "fault": {"kind": "slow_frames", "frame_delay_ms": 100}}])

    user = f"abandon-{mode}-{tag}"
    with stack.client(user) as client:
        _leave_mid_stream(stack, client, _body(f"cut {tag}", mode), mode)
        records = _records_when_settled(client)
        time.sleep(0.5)  # a second write, if any, would land by now
        records, today = _chat_records(client), client.get("/api/audio/usage").json()["data"]["today"]
    stack.clear_faults()
    with stack.client(f"whole-{mode}-{tag}") as client:
        whole = client.post("/v1/chat/completions", json=_body(f"whole {tag}", mode))
        events = [e for e in sse_events(whole.text) if isinstance(e, dict) and e.get("choices")]
        assert events[-1]["choices"][0]["finish_reason"] == "stop"
        whole_records = _records_when_settled(client)

    assert len(records) == 1, records  # one record for the turn
    cut = records[0]
    fields = json.loads(cut["input_data"])
    assert fields["abandoned"] is True
    assert fields["mode"] == mode and cut["model_name"] == "qwen-plus"
    assert today["in_flight"] == "0" and Decimal(today["spent"]) == Decimal(cut["bill"])  # settled, once
    assert len(whole_records) == 1 and "abandoned" not in json.loads(whole_records[0]["input_data"])
    assert 0 < Decimal(cut["bill"]) < Decimal(whole_records[0]["bill"])
    row = asyncio.run(stack.services.state.list_history(user, type="chat"))[0][0]
    reply_tokens = len(_reply(tag).split())
    assert 0 < row["completion_tokens"] < reply_tokens  # what was streamed, not the whole reply
    assert row["prompt_tokens"] > 0  # no usage came: estimated from the prompt
    if mode == "tts":
        assert 0 < row["characters"] < len(_reply(tag))  # the sentences spoken before the cut
    assert row["output_text"] and _reply(tag).startswith(row["output_text"])
    stored = json.dumps(cut, ensure_ascii=False)
    assert stack.settings.platform_api_key not in stored and "Bearer" not in stored
