"""Seed 004's accelerator: a streamed completion with ``tts_enabled`` pre-generates each
sentence's speech; ``/v1/audio/speech`` and the announced ``audio_url`` are then served from the
cache (waiting while the synthesis is in flight), with no second upstream synthesis."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.functions.chat.helpers import script, sse_events
from tests.stack import Stack
from voicefn.audio.probe import audio_info

pytestmark = pytest.mark.usefixtures("no_faults")


def stream_with_tts(stack: Stack, user: str, question: str, **extra: Any) -> list[Any]:
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": question}], "stream": True,
            "tts_enabled": True, **extra}
    with stack.client(user) as client:
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_events(response.text)


def test_tts_chunks_then_speech_is_served_from_the_cache(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    reply = f"Hello traveller {tag}, welcome to Hunan. Yuelu Mountain is lovely in spring. Try the tofu!"
    script(stack, {"reply": reply, "when_contains": tag, "tokens_per_s": 200})
    before = stack.stats()["tts_ws_syntheses"]
    events = stream_with_tts(stack, "seed004-user", f"plan a trip {tag}")
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    assert text == reply  # the client's text is the LLM's, unchanged
    announced = [e["tts"] for e in events[:-1] if "tts" in e]
    assert all(e["choices"] == [] for e in events[:-1] if "tts" in e)
    assert [t["index"] for t in announced] == list(range(len(announced)))
    assert len(announced) >= 3
    assert "".join(t["text"] for t in announced).replace(" ", "") == reply.replace(" ", "")
    synthesized = stack.stats()["tts_ws_syntheses"] - before
    assert synthesized == len(announced)  # one upstream synthesis per sentence

    stats_before = httpx.get(f"{stack.base_url}/cache/stats").json()
    with stack.client("seed004-user") as client:
        for tts in announced:
            speech = client.post("/v1/audio/speech", json={"model": "tts-1", "input": tts["text"]})
            assert speech.status_code == 200
            assert speech.headers["x-voicefn-cache"] == "hit"
            info = audio_info(speech.content)
            assert info.format == "mp3"
            assert info.duration == pytest.approx(0.2 * len(tts["text"]), abs=0.15)  # deterministic engine
            linked = httpx.get(tts["audio_url"])  # no Authorization: the link is signed
            assert linked.status_code == 200 and linked.content == speech.content
    assert stack.stats()["tts_ws_syntheses"] - before == synthesized  # no second synthesis
    forged = httpx.get(announced[0]["audio_url"].replace("signature=", "signature=0"))
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
    stats = httpx.get(f"{stack.base_url}/cache/stats").json()
    assert stats["hits"] - stats_before["hits"] == 2 * len(announced)
    assert stats["entries"] >= len(announced) and stats["bytes"] > 0
    assert stats["in_flight"] == 0


def test_speech_requested_during_the_synthesis_waits_for_it(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    first = f"Slow sentence {tag} is on its way."
    script(stack, {"reply": first + " And a second one.", "when_contains": tag, "tokens_per_s": 200})
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": tag},
                       "fault": {"kind": "latency", "latency_ms": 1500}}])
    before = stack.stats()["tts_ws_syntheses"]
    seen: dict[str, Any] = {}

    def fetch_when_announced(url_holder: threading.Event) -> None:
        url_holder.wait(10)
        started = time.monotonic()
        with stack.client("seed004-wait") as client:
            seen["speech"] = client.post("/v1/audio/speech", json={"model": "cosyvoice-v3-flash",
                                                                   "input": seen["text"]})
        seen["waited"] = time.monotonic() - started

    def follow_link_when_announced(url_holder: threading.Event) -> None:
        url_holder.wait(10)
        seen["linked"] = httpx.get(seen["url"], timeout=20)

    announced = threading.Event()
    fetcher = threading.Thread(target=fetch_when_announced, args=(announced,))
    linker = threading.Thread(target=follow_link_when_announced, args=(announced,))
    fetcher.start()
    linker.start()
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": tag}], "stream": True, "tts_enabled": True}
    with stack.client("seed004-wait") as client, client.stream("POST", "/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"tts"' in line and not announced.is_set():
                import json

                tts = json.loads(line[6:])["tts"]
                seen["text"], seen["url"] = tts["text"], tts["audio_url"]
                announced.set()
                in_flight = httpx.get(f"{stack.base_url}/cache/stats").json()["in_flight"]
                assert in_flight >= 1
    fetcher.join(20)
    linker.join(20)
    assert seen["linked"].status_code == 200 and seen["linked"].content == seen["speech"].content
    assert seen["speech"].status_code == 200
    assert seen["speech"].headers["x-voicefn-cache"] == "hit"
    assert seen["waited"] > 0.5  # it waited for the synthesis in flight...
    assert stack.stats()["tts_ws_syntheses"] - before == 2  # ...instead of starting a third


def test_tts_enabled_defaults_to_off(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    script(stack, {"reply": f"No audio here {tag}. None at all.", "when_contains": tag})
    before = stack.stats()["tts_ws_tasks"]
    events = stream_with_tts(stack, "seed004-off", tag, tts_enabled=None)
    assert not [e for e in events[:-1] if "tts" in e]
    assert stack.stats()["tts_ws_tasks"] == before


def test_cache_clear_needs_a_service_key(stack: Stack, settings_override: Any) -> None:
    with stack.client("seed004-user") as client:
        refused = client.post("/cache/clear")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    settings_override(service_keys={"sk-ops-service-key": "ops"})
    tag = uuid.uuid4().hex[:6]
    with stack.client("seed004-user") as client:
        spoken = client.post("/v1/audio/speech", json={"model": "tts-1", "input": f"Cache me {tag}."})
        assert spoken.status_code == 200
    assert httpx.get(f"{stack.base_url}/cache/stats").json()["entries"] >= 1
    cleared = httpx.post(f"{stack.base_url}/cache/clear", headers={"Authorization": "Bearer sk-ops-service-key"})
    assert cleared.status_code == 200 and cleared.json()["cleared"] >= 1
    assert httpx.get(f"{stack.base_url}/cache/stats").json()["entries"] == 0
    with stack.client("seed004-user") as client:
        again = client.post("/v1/audio/speech", json={"model": "tts-1", "input": f"Cache me {tag}."})
    assert again.headers["x-voicefn-cache"] == "miss"


def test_models_and_service_info(stack: Stack) -> None:
    models = httpx.get(f"{stack.base_url}/v1/models").json()
    assert models["object"] == "list"
    ids = {m["id"] for m in models["data"]}
    assert {"qwen-plus", "qwen-turbo", "qwen-max", "cosyvoice-v3-flash", "qwen3-tts-flash"} <= ids
    info = httpx.get(f"{stack.base_url}/").json()
    assert info["endpoints"]["chat"] == "/v1/chat/completions"


def test_a_sentence_said_before_is_not_synthesized_again(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    script(stack, {"reply": f"Same words {tag} again. And again.", "when_contains": tag, "tokens_per_s": 300})
    first = stream_with_tts(stack, "seed004-again", tag)
    before = stack.stats()["tts_ws_tasks"]
    second = stream_with_tts(stack, "seed004-again", tag)
    assert [e["tts"]["text"] for e in second[:-1] if "tts" in e] == [e["tts"]["text"] for e in first[:-1] if "tts" in e]
    assert stack.stats()["tts_ws_tasks"] == before  # served from the cache
    for tts in [e["tts"] for e in second[:-1] if "tts" in e]:
        assert httpx.get(tts["audio_url"]).status_code == 200


def test_one_failed_sentence_loses_only_its_own_audio(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    broken = f"broken{tag}"
    reply = f"The first sentence {tag} is fine. The second one is {broken} for good. The third is fine too."
    script(stack, {"reply": reply, "when_contains": tag, "tokens_per_s": 200})
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": broken}, "fault": {"kind": "error"}}])
    events = stream_with_tts(stack, "seed004-broken", f"three sentences {tag}")
    assert events[-1] == "[DONE]"  # the reply and the other sentences went on
    assert not [e for e in events[:-1] if "error" in e]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    assert text == reply
    announced = [e["tts"] for e in events[:-1] if "tts" in e]
    failed = [t for t in announced if broken in t["text"]]
    assert len(failed) == 1 and len(announced) >= 3
    gone = httpx.get(failed[0]["audio_url"], timeout=20)
    assert gone.status_code == 404 and "failed" in gone.text
    for tts in announced:
        if tts is not failed[0]:
            spoken = httpx.get(tts["audio_url"], timeout=20)
            assert spoken.status_code == 200 and audio_info(spoken.content).format == "mp3"
