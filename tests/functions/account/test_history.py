"""GET /api/audio/history (seed 003 §5): records, filters, pages, and nobody else's rows."""

from __future__ import annotations

import json

import pytest

from tests.stack import Stack


@pytest.mark.usefixtures("no_faults")
def test_history_lists_tts_records_newest_first_with_pages(stack: Stack) -> None:
    with stack.client("history-user") as client:
        for i in range(3):
            r = client.post("/api/audio/tts/synthesize",
                            json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": f"历史{i}。"})
            assert r.status_code == 200
        page1 = client.get("/api/audio/history", params={"page": 1, "page_size": 2}).json()["data"]
        page2 = client.get("/api/audio/history", params={"page": 2, "page_size": 2}).json()["data"]
        asr_only = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
        bad = client.get("/api/audio/history", params={"type": "video"})
    assert page1["total"] == 3 and page1["page"] == 1 and page1["page_size"] == 2
    first, second = page1["items"]
    assert first["id"] > second["id"]
    assert json.loads(first["input_data"])["text"] == "历史2。"
    assert first["type"] == "tts" and first["model_name"] == "cosyvoice-v3-flash"
    assert first["output_url"].startswith("http") and first["duration"] > 0 and first["bill"] != "0"
    assert "T" in first["created_at"]
    assert len(page2["items"]) == 1
    assert asr_only == {"items": [], "total": 0, "page": 1, "page_size": 20}
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_PARAMETER"
    with stack.client("another-user") as other:
        assert other.get("/api/audio/history").json()["data"]["total"] == 0


def test_history_input_never_holds_a_key(stack: Stack) -> None:
    with stack.client("history-user") as client:
        items = client.get("/api/audio/history").json()["data"]["items"]
    for item in items:
        assert "sk-" not in item["input_data"]
