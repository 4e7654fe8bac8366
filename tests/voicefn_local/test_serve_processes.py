"""`voicefn serve` with the real recognizer leaves nothing behind: after SIGTERM no process it
started (recognizer workers, a multiprocessing resource tracker) is left running, and it stops
promptly even in the middle of a long transcription."""

from __future__ import annotations

import base64
import io
import os
import signal
import time
import uuid
import wave
from pathlib import Path

import httpx
import pytest

from tests.stack import ServeProcess

MARK = "VOICEFN_PROCESS_PROBE"
SENTENCE = "The library opens at nine and closes late on Fridays."


class MarkedServe(ServeProcess):
    """A server whose environment carries a mark every process it starts inherits."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, engine="espeak")
        self.mark = uuid.uuid4().hex

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, MARK: self.mark}


def marked_processes(mark: str) -> list[int]:
    """Every live process whose environment holds the mark (orphans re-parented to 1 included)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone, or not ours to read
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def long_wav(one: bytes, times: int) -> bytes:
    with wave.open(io.BytesIO(one)) as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        frames = w.readframes(w.getnframes())  # (to the end, whatever size the header claims)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels), w.setsampwidth(width), w.setframerate(rate)
        w.writeframes(frames * times)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_transcription_stops_promptly_and_leaves_no_process(tmp_path, signum) -> None:
    server = MarkedServe(tmp_path / "data").start()
    try:
        with server.client("processes") as client:
            made = client.post("/api/audio/tts/synthesize", json={
                "model": "cosyvoice-v3-flash", "voice": "longanhuan", "text": SENTENCE,
                "format": "wav", "sample_rate": 16000}).json()["data"]
            audio = httpx.get(made["audio_url"]).content
            heard = client.post("/api/audio/asr/recognize", json={
                "model": "qwen3-asr-flash", "language": "en",
                "audio_base64": base64.b64encode(audio).decode()}).json()["data"]
            assert "library" in heard["text"].lower(), heard
            # about 5 minutes of speech, transcribed through the upload's event: most of a
            # minute of decoding is still to come when the signal arrives
            made = client.post("/api/audio/tts/synthesize", json={
                "model": "cosyvoice-v3-flash", "voice": "longanhuan", "text": " ".join([SENTENCE] * 32),
                "format": "wav", "sample_rate": 16000}).json()["data"]
            audio = long_wav(httpx.get(made["audio_url"]).content, 3)
            ticket = client.post("/api/audio/uploads", json={
                "purpose": "asr", "filename": "long.wav", "content_type": "audio/wav",
                "size": len(audio)}).json()["data"]
            httpx.put(ticket["put_url"], content=audio,
                      headers={"Content-Type": "audio/wav"}).raise_for_status()
            deadline = time.time() + 60
            while True:
                seen = client.get(f"/api/audio/uploads/{ticket['ticket_id']}").json()["data"]
                task_id = seen.get("task_id")
                if task_id and client.get(f"/api/audio/asr/task/{task_id}").json()["data"][
                        "task_status"] == "RUNNING":
                    break
                assert time.time() < deadline and seen["status"] != "REJECTED", seen
                time.sleep(0.2)
            time.sleep(1.5)  # the recognizer is busy with the long file
        assert server.proc is not None
        started = time.monotonic()
        server.proc.send_signal(signum)
        server.proc.wait(timeout=60)
        stopped_in = time.monotonic() - started
        server.proc = None
    finally:
        server.stop()
    print(f"\nvoicefn serve stopped {stopped_in:.1f} s after {signum.name}")
    assert stopped_in < 8  # not after the rest of the file
    deadline = time.time() + 5
    while (left := marked_processes(server.mark)) and time.time() < deadline:
        time.sleep(0.2)
    assert left == [], f"processes left running after voicefn serve stopped: {left}"
