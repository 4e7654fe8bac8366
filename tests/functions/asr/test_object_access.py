"""Another user's audio through a URL of our own storage (issue 7).

An object of our store is read by URL only for its owner (their uploads, the audio made for
them) or when the URL carries a valid, unexpired signature. And no response hands anyone a
signed URL of an object they do not own: a transcription of someone else's (signed) URL works
on the caller's own copy.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.urls import with_query

from tests.functions.asr.audio_samples import script
from tests.stack import Stack


def synthesized(stack: Stack, user: str, text: str) -> str:
    with stack.client(user) as client:
        made = client.post("/api/audio/tts/synthesize", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text, "format": "wav",
            "sample_rate": 16000})
    assert made.status_code == 200, made.text
    url = made.json()["data"]["audio_url"]
    script(stack, stack.fetch(url), text)
    return url


def recognize(client: httpx.Client, url: str) -> httpx.Response:
    return client.post("/api/audio/asr/recognize", json={"model": "qwen3-asr-flash", "audio_url": url})



def expired_url(url: str) -> str:
    from voicefn.services import get_services

    objects = get_services().objects
    return objects.signed_get_url(objects.key_from_url(url), -60)


@pytest.mark.usefixtures("no_faults")
def test_someone_elses_audio_is_refused_unless_the_url_is_validly_signed(stack: Stack) -> None:
    url = synthesized(stack, "victim-a", "只属于我的声音。")
    signature = dict(parse_qsl(urlsplit(url).query))["signature"]
    refused = {
        "stripped": url.split("?", 1)[0],
        "altered": with_query(url, signature=("0" if signature[0] != "0" else "1") + signature[1:]),
        "no signature": with_query(url, signature=None),
        "expired": expired_url(url),
    }
    with stack.client("attacker-b") as attacker:
        for why, bad in refused.items():
            response = recognize(attacker, bad)
            assert response.status_code == 400, (why, response.text)
            assert response.json()["error"] == "INVALID_PARAMETER", why
            assert "只属于" not in response.text
        held = recognize(attacker, url)          # a valid signed URL is a capability
    assert held.status_code == 200 and held.json()["data"]["text"] == "只属于我的声音。"
    with stack.client("victim-a") as owner:      # the owner needs no signature
        mine = recognize(owner, url.split("?", 1)[0])
    assert mine.status_code == 200 and mine.json()["data"]["text"] == "只属于我的声音。"


@pytest.mark.usefixtures("no_faults")
def test_transcribing_someone_elses_key_is_refused(stack: Stack) -> None:
    url = synthesized(stack, "victim-c", "别人的长音频。")
    with stack.client("attacker-d") as attacker:
        response = attacker.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url.split("?", 1)[0]})
    assert response.status_code == 400 and response.json()["error"] == "INVALID_PARAMETER"


@pytest.mark.usefixtures("no_faults")
def test_a_transcription_of_a_signed_url_hands_out_only_the_callers_copy(stack: Stack) -> None:
    from voicefn.services import get_services

    objects = get_services().objects
    url = synthesized(stack, "victim-e", "签名链接的转写。")
    victim_key = objects.key_from_url(url)
    with stack.client("holder-f") as holder:
        task_id = holder.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]["task_id"]
        deadline = time.time() + 30
        while (task := holder.get(f"/api/audio/asr/task/{task_id}").json()["data"])["task_status"] not in (
                "SUCCEEDED", "FAILED") and time.time() < deadline:
            time.sleep(0.2)
    assert task["task_status"] == "SUCCEEDED", task
    assert task["result"]["transcripts"][0]["text"] == "签名链接的转写。"
    document = httpx.get(task["result"]["transcription_url"], timeout=10)   # served without auth
    handed = document.json()["file_url"]
    assert objects.key_from_url(handed) != victim_key and victim_key not in document.text
    assert objects.key_from_url(handed).startswith("audio/asr/")
