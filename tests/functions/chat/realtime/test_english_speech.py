"""seed 002's /v1/chat/audio with real engines: an English question spoken by the embedded TTS,
cut into 8 KB packets, recognized by Whisper; the spoken answer is one MP3 Whisper understands."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from tests.functions.chat.realtime.helpers import PACKET, audio_of, names
from tests.stack import ServeProcess, admin_headers

QUESTION = "Where is the train station? Please tell me how to get there."
REPLY = "The train station is near the river. Walk north for ten minutes and you will see it."


class EnglishServe(ServeProcess):
    @property
    def env(self) -> dict[str, str]:
        # the scripted LLM: the point is the speech around it; an English voice for the reply
        return {**super().env, "VOICEFN_FAKE_LLM_ENGINE": "scripted", "VOICEFN_CHAT_TTS_VOICE": "longanhuan"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_english_question_and_answer_are_real_speech(tmp_path) -> None:
    from websockets.sync.client import connect

    server = EnglishServe(tmp_path / "data", engine="espeak").start()
    try:
        httpx.post(f"{server.base_url}/dashscope/_admin/chat-scripts", headers=admin_headers(server.data_dir),
                   json=[{"reply": REPLY, "when_contains": "station"}]).raise_for_status()
        with server.client("rt-english") as client:
            made = client.post("/api/audio/tts/synthesize", json={
                "model": "cosyvoice-v3-flash", "voice": "longanhuan", "text": QUESTION, "format": "wav",
                "sample_rate": 16000, "speech_rate": 0.8}).json()["data"]
            question = httpx.get(made["audio_url"]).content
            ws_url = f"ws://127.0.0.1:{server.port}/v1/chat/audio?token={server.token('rt-english')}"
            events = []
            with connect(ws_url, open_timeout=10, max_size=None) as ws:
                assert "connected" in json.loads(ws.recv(timeout=10))
                pieces = [question[i:i + PACKET] for i in range(0, len(question), PACKET)]
                for seq, piece in enumerate(pieces, 1):
                    ws.send(json.dumps({"seq": seq, "total": len(pieces), "data": base64.b64encode(piece).decode()}))
                    assert "packet_ack" in json.loads(ws.recv(timeout=10))
                while not events or events[-1][0] != "audio_complete":
                    (name, data), = json.loads(ws.recv(timeout=120)).items()
                    assert name != "error", data
                    events.append((name, data))
            mp3 = audio_of(events)
            heard = client.post("/v1/audio/transcriptions", data={"model": "whisper-1"},
                                files={"file": ("reply.mp3", mp3, "audio/mpeg")}).json()["text"]
    finally:
        server.stop()
    assert len(words(QUESTION) & words(dict(events)["chat_started"]["user_message"])) >= 6
    assert names(events)[:4] == ["transcription_started", "chat_started", "chat_chunk", "tts_started"]
    assert dict(events)["audio_complete"]["assistant_response"] == REPLY
    assert len(words(REPLY) & words(heard)) >= 9, heard  # the answer's audio is the answer, spoken
