"""The README's promise, as a user runs it: `voicefn serve`, `voicefn token`, curl → real speech.

A real server process with the real espeak-ng engine; the audio is decoded and must be speech-like
(not silent, of plausible length for the text) in Chinese and in English.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

from tests.stack import ServeProcess
from voicefn.audio.encode import decode_to_pcm
from voicefn.audio.pcm import rms


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    server = ServeProcess(tmp_path_factory.mktemp("quickstart"), engine="espeak").start()
    try:
        yield server.base_url, server.token("demo")
    finally:
        server.stop()


def curl_json(url: str, token: str, body: dict) -> dict:
    if shutil.which("curl"):
        out = subprocess.run(["curl", "-sS", "-X", "POST", url, "-H", f"Authorization: Bearer {token}",
                              "-H", "Content-Type: application/json", "-d", json.dumps(body)],
                             capture_output=True, check=True)
        return json.loads(out.stdout)
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60).json()


@pytest.mark.slow
@pytest.mark.parametrize("text, voice, low, high", [
    ("你好，欢迎使用语音合成服务！今天天气很好。", "longanyang", 1.5, 10.0),
    ("Hello, and welcome to the voice service. The weather is nice today.", "longanyang", 2.0, 10.0),
])
def test_serve_token_curl_gives_real_speech(served, text: str, voice: str, low: float, high: float) -> None:
    base, token = served
    body = curl_json(f"{base}/api/audio/tts/synthesize", token,
                     {"model": "cosyvoice-v3-flash", "voice": voice, "text": text})
    assert body["code"] == 200, body
    audio = httpx.get(body["data"]["audio_url"], timeout=30).content
    pcm, rate = decode_to_pcm(audio)
    seconds = len(pcm) / 2 / rate
    assert low < seconds < high
    assert rms(pcm) > 0.02  # speech, not silence
    # speech has pauses: the loudness varies a lot across 50 ms windows, unlike a tone
    window = rate // 20 * 2
    levels = [rms(pcm[i:i + window]) for i in range(0, len(pcm) - window, window)]
    assert min(levels) < 0.25 * max(levels)
