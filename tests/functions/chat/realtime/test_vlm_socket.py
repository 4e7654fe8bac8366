"""seed 002's WS /v1/chat/vlm: a PNG and a spoken question, a spoken answer about the picture."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.functions.chat.realtime.helpers import audio_of, names, open_socket, packets, recv, send_all, until
from tests.stack import Stack
from tests.voicefn.asr.conftest import wav
from voicefn.audio.probe import audio_info

pytestmark = pytest.mark.usefixtures("no_faults")
VLM_PACKET = 50 * 1024


def png(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 7):  # some texture, so the PNG needs several packets
        image.putpixel((x, (x * 13) % size[1]), (x % 256, 0, 255 - x % 256))
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def test_a_picture_and_a_question_get_a_spoken_answer_naming_its_colour(stack: Stack) -> None:
    picture, question = png((30, 60, 220)), wav(1.7)
    with open_socket(stack, "/v1/chat/vlm", "rt-vlm") as ws:
        name, connected = recv(ws)
        assert name == "connected" and connected["session_id"]
        image_acks = send_all(ws, packets(picture, VLM_PACKET, type="image"))
        audio_acks = send_all(ws, packets(question, VLM_PACKET, type="audio"))
        assert len(image_acks) > 1 and {a["type"] for a in image_acks} == {"image"}
        assert audio_acks[-1] == {"seq": len(audio_acks), "type": "audio", "received": len(audio_acks),
                                  "total": len(audio_acks)}
        ws.send(json.dumps({"type": "end"}))
        events = until(ws, "vlm_complete")
    order = names(events)
    assert order[:3] == ["transcription_started", "vlm_chat_started", "vlm_chat_chunk"]
    assert order[-4:] == ["audio_stream:data", "audio_stream:finished", "vlm_chat_tts_complete", "vlm_complete"]
    assert "tts_started" in order
    started = dict(events)["vlm_chat_started"]
    assert started["user_message"] == "audio of 1.7 seconds"
    assert stack.fetch(started["image_url"]) == picture
    reply = dict(events)["vlm_complete"]["vlm_response"]
    assert "mostly blue" in reply and "640 by 480" in reply
    chunks = [d for n, d in events if n == "vlm_chat_chunk"]
    assert chunks[-1]["full_response"] == reply and len(chunks) > 3
    tts_done = dict(events)["vlm_chat_tts_complete"]
    assert tts_done["assistant_response"] == reply and tts_done["user_message"] == "audio of 1.7 seconds"
    mp3 = audio_of(events)
    assert tts_done["audio_chunks"] == len([1 for n, d in events if n == "audio_stream" and d["event"] == "data"])
    assert audio_info(mp3).format == "mp3" and audio_info(mp3).duration > 2
    complete = dict(events)["vlm_complete"]
    assert complete["image_size"] == len(picture) and complete["audio_size"] == len(question)
    assert complete["image_file"].endswith(".png") and complete["duration"] == pytest.approx(1.7, abs=0.05)
    assert complete["transcription"] == "audio of 1.7 seconds"


def test_not_an_image_and_an_early_end_are_error_events(stack: Stack) -> None:
    with open_socket(stack, "/v1/chat/vlm", "rt-vlm-bad", header=True) as ws:
        assert recv(ws)[0] == "connected"
        ws.send(json.dumps({"type": "end"}))
        name, data = recv(ws)
        assert name == "error" and "end before" in data["message"]
        send_all(ws, packets(b"GIF89a" + b"\0" * 100, VLM_PACKET, type="image"))
        send_all(ws, packets(wav(1.0), VLM_PACKET, type="audio"))
        ws.send(json.dumps({"seq": 1, "total": 1, "type": "video", "data": "AAAA"}))
        assert recv(ws)[0] == "error"
        ws.send(json.dumps({"type": "end"}))
        name, data = recv(ws)
        assert name == "error" and "JPEG, PNG or WebP" in data["message"]
