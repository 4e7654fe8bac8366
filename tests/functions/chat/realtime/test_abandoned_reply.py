"""A realtime reply cut by barge-in or by the socket closing is still billed for what it used:
one ``chat`` record for it, marked abandoned, with the recognition, the tokens streamed and the
characters spoken so far, below what the whole reply would have cost."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal
from typing import Any, Iterator

import pytest

from tests.functions.chat.helpers import script
from tests.functions.chat.realtime.helpers import open_socket, packets, recv, send_all, until
from tests.stack import Stack
from tests.voicefn.asr.conftest import wav
from voicefn.billing import asr_bill, billable_characters, tts_bill

pytestmark = pytest.mark.usefixtures("no_faults")
LONG = " ".join(f"Sentence number {n} of a very long answer." for n in range(200))


@pytest.fixture(autouse=True)
def _forget_cancelled_calls(stack: Stack) -> Iterator[None]:
    """The emulator's call log is the session's: the generations cut here must not count as
    cancelled in a later test that looks for its own."""
    yield
    stack.emulator("/_admin/chat-calls", "DELETE").raise_for_status()


def _records(stack: Stack, user: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items, _ = asyncio.run(stack.services.state.list_history(user, type="chat"))
        if len(items) >= count:
            time.sleep(0.3)  # a second record of the same turn, if any, would land by now
            return asyncio.run(stack.services.state.list_history(user, type="chat"))[0]
        assert time.monotonic() < deadline, f"{len(items)} records, {count} expected"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["barge-in", "close"])
def test_a_cut_reply_is_billed_once_for_what_it_used(stack: Stack, how: str) -> None:
    tag = uuid.uuid4().hex[:6]
    user = f"rt-abandon-{how}-{tag}"
    script(stack, {"reply": LONG, "token_delay_ms": 20, "when_contains": "audio of 1.3 seconds"},
           {"reply": "Short second answer.", "when_contains": "audio of 1.6 seconds"})
    with open_socket(stack, "/v1/chat/audio", user) as ws:
        assert recv(ws)[0] == "connected"
        send_all(ws, packets(wav(1.3)))
        while recv(ws)[0] != "audio_stream":  # the first reply is speaking
            pass
        if how == "barge-in":
            second = packets(wav(1.6))
            ws.send(json.dumps(second[0]))
            while recv(ws)[0] != "packet_ack":
                pass
            send_all(ws, second[1:])
            until(ws, "audio_complete")
    records = _records(stack, user, 2 if how == "barge-in" else 1)

    cut = [r for r in records if json.loads(r["input_data"]).get("abandoned")]
    whole = [r for r in records if not json.loads(r["input_data"]).get("abandoned")]
    assert len(cut) == 1 and len(whole) == (1 if how == "barge-in" else 0), records
    row = cut[0]
    assert LONG.startswith(row["output_text"]) and row["output_text"]
    assert 0 < row["completion_tokens"] < len(LONG.split())
    assert 0 < row["characters"] < billable_characters(LONG)
    settings = stack.settings
    recognition = asr_bill(settings.realtime_asr_model, row["asr_seconds"])
    speech = tts_bill(settings.chat_tts_model, row["characters"])
    assert Decimal(row["bill"]) >= recognition + speech  # recognition, speech and tokens: one bill
    assert Decimal(row["bill"]) < recognition + tts_bill(settings.chat_tts_model, billable_characters(LONG))
    assert settings.platform_api_key not in json.dumps(row, ensure_ascii=False, default=str)
