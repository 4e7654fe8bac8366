"""What a spoken turn leaves behind: the client's text unchanged, only readable text spoken
(no markdown, code, emoji or URLs), and one ``chat`` history record with one bill, no secret."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from tests.functions.chat.helpers import script, sse_events
from tests.stack import Stack
from voicefn.billing import billable_characters, tts_bill
from voicefn.catalog.models import get_chat_model

pytestmark = pytest.mark.usefixtures("no_faults")

MARKDOWN = ("# Two days in Changsha\n\nHere is a **short** plan with *three* stops 😀:\n\n"
            "1. Walk up `Yuelu Mountain` in the morning.\n"
            "2. See https://example.com/changsha-food for the best stinky tofu.\n\n"
            "```python\nprint('pack an umbrella')\n```\n\nEnjoy the trip! 🎉")


def test_markdown_reply_is_spoken_clean_and_billed_once(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    script(stack, {"reply": MARKDOWN + f" ({tag})", "when_contains": tag, "tokens_per_s": 500})
    user = f"record-{tag}"
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": f"plan {tag}"}], "stream": True,
            "stream_options": {"include_usage": True}, "tts_enabled": True, "voice": "longanyang"}
    with stack.client(user) as client:
        events = sse_events(client.post("/v1/chat/completions", json=body).text)
        history = client.get("/api/audio/history", params={"type": "chat"}).json()["data"]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    assert text == MARKDOWN + f" ({tag})"  # what the client reads is the LLM's text
    spoken = [e["tts"]["text"] for e in events[:-1] if "tts" in e]
    said = " ".join(spoken)
    for unreadable in ("**", "`", "#", "😀", "🎉", "https://", "example.com", "print(", "```"):
        assert unreadable not in said
    assert "Yuelu Mountain" in said and "Enjoy the trip!" in said and "stinky tofu" in said
    usage = events[-2]["usage"]

    assert history["total"] == 1  # one record for the turn, not one per sentence
    item = history["items"][0]
    characters = sum(billable_characters(s) for s in spoken)
    price = get_chat_model("qwen-plus")
    assert price is not None
    expected = price.price(usage["prompt_tokens"], usage["completion_tokens"]) + tts_bill("cosyvoice-v3-flash",
                                                                                          characters)
    assert Decimal(item["bill"]) == expected.quantize(Decimal("0.000001"))
    assert item["model_name"] == "qwen-plus"
    stored = json.dumps(item, ensure_ascii=False)
    assert stack.settings.platform_api_key not in stored and "Bearer" not in stored
