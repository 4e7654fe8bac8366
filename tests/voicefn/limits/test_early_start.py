"""A stream's upstream task starts beside its limits' round trip (voicefn.limits.early): a
refused request sends DashScope no text, bills nothing, and a user just refused starts nothing
early."""

from __future__ import annotations

import uuid

import pytest

from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")

SYNTH = "/api/audio/tts/synthesize"


def _stream(i: int) -> dict[str, object]:
    return {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": f"提前开始第{i}句。", "stream": True}


def test_a_refused_stream_sends_no_text_and_the_next_one_starts_nothing_early(
        stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (1, 1)})  # one a minute
    user = f"early-{uuid.uuid4().hex[:8]}"
    with stack.client(user) as client:
        first = client.post(SYNTH, json=_stream(1))
        assert first.status_code == 200 and first.content
        before = stack.stats()

        refused = client.post(SYNTH, json=_stream(2))  # started early: the limits then said no
        assert refused.status_code == 429 and refused.json()["error"] == "RATE_LIMITED"
        assert int(refused.headers["Retry-After"]) >= 1
        after_refusal = stack.stats()
        assert after_refusal["tts_ws_tasks"] == before["tts_ws_tasks"] + 1
        assert after_refusal["characters"] == before["characters"]  # no text went up: nothing to bill

        again = client.post(SYNTH, json=_stream(3))  # refused a moment ago: nothing starts early
        assert again.status_code == 429
        assert stack.stats()["tts_ws_tasks"] == after_refusal["tts_ws_tasks"]

        items = client.get("/api/audio/history", params={"type": "tts"}).json()["data"]["items"]
        assert len(items) == 1
        usage = client.get("/api/audio/usage").json()["data"]
        assert usage["today"]["in_flight"] == "0"
