"""POST /api/audio/asr/transcribe never hands a user's URL to DashScope (issue 7, SSRF).

voicefn fetches the URL itself through its guard (pinned address, every redirect re-checked)
into the user's own storage, and DashScope (here the embedded one) gets a signed URL of that
copy. "The internet" is played by a fake resolver and a connection seam: requests addressed to
the one public IP below are answered by ``Web``; anything else would be recorded as reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.functions.asr.audio_samples import script, wav
from tests.functions.asr.test_transcribe import wait_task
from tests.stack import Stack

PUBLIC_IP = "93.184.216.34"


class Web:
    """A connection seam for ``safe_fetch``: answers for PUBLIC_IP, records every request."""

    def __init__(self, audio: bytes, internal_port: int) -> None:
        self.audio = audio
        self.internal_port = internal_port
        self.seen: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        if request.url.host != PUBLIC_IP:  # only a guard that let a private address through gets here
            return httpx.Response(200, content=b"internal secret")
        if request.url.path == "/talk.wav":
            return httpx.Response(200, content=self.audio, headers={"Content-Type": "audio/wav"})
        if request.url.path == "/hop.wav":
            return httpx.Response(302, headers={"Location": f"http://127.0.0.1:{self.internal_port}/secret.wav"})
        return httpx.Response(404, content=b"no such file on the internal admin server")

    @property
    def hosts(self) -> list[str]:
        return [httpx.URL(u).host for u in self.seen]


class Rebinding:
    """DNS that answers a public address ``public_times`` times, then 127.0.0.1."""

    def __init__(self, public_times: int) -> None:
        self.public_times = public_times
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [PUBLIC_IP] if self.calls <= self.public_times else ["127.0.0.1"]


@pytest.fixture
def web(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    from voicefn.asr import intake

    audio = wav(1.2, freq=410.0)
    script(stack, audio, "from the public internet")
    port = httpx.URL(stack.base_url).port or 80
    seam = Web(audio, port)
    monkeypatch.setattr(intake.SEAMS, "transport", httpx.MockTransport(seam.handle))
    monkeypatch.setattr(intake.SEAMS, "resolver", Rebinding(public_times=10**6))
    yield seam


def submit(client: httpx.Client, url: str) -> dict:
    response = client.post("/api/audio/asr/transcribe", json={"model": "qwen3-asr-flash-filetrans", "file_url": url})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def upstream_submissions(stack: Stack) -> int:
    return stack.stats().get("asr_filetrans", 0)


@pytest.mark.usefixtures("no_faults")
def test_a_public_url_is_copied_and_dashscope_gets_only_our_signed_url(stack: Stack, web: Web) -> None:
    from voicefn.services import get_services

    with stack.client("ssrf-copy") as client:
        task = wait_task(client, submit(client, "http://audio.example/talk.wav")["task_id"])
    assert task["task_status"] == "SUCCEEDED", task
    assert task["result"]["transcripts"][0]["text"] == "from the public internet"
    # what DashScope was given (the emulator's result document echoes it): our own store's URL
    document = httpx.get(task["result"]["transcription_url"], timeout=10).json()
    given = document["file_url"]
    key = get_services().objects.key_from_url(given)
    assert key is not None and key.startswith("audio/asr/") and "audio.example" not in given
    assert web.hosts == [PUBLIC_IP]


@pytest.mark.usefixtures("no_faults")
def test_dns_rebinding_after_the_check_cannot_reach_loopback(stack: Stack, web: Web,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn.asr import intake

    # the route's check sees a public address; every later lookup says 127.0.0.1
    monkeypatch.setattr(intake.SEAMS, "resolver", Rebinding(public_times=1))
    before = upstream_submissions(stack)
    with stack.client("ssrf-rebind") as client:
        task = wait_task(client, submit(client, "http://rebind.example/talk.wav")["task_id"])
    assert task["task_status"] == "FAILED"
    assert task["error"]["message"].startswith("file_url could not be fetched")
    assert "127.0.0.1" not in task["error"]["message"] and "loopback" not in task["error"]["message"]
    assert web.seen == []                                # nothing was dialed at all
    assert upstream_submissions(stack) == before         # DashScope never heard of the URL


@pytest.mark.usefixtures("no_faults")
def test_a_redirect_to_loopback_is_refused_without_an_oracle(stack: Stack, web: Web) -> None:
    before = upstream_submissions(stack)
    with stack.client("ssrf-redirect") as client:
        task = wait_task(client, submit(client, "http://audio.example/hop.wav")["task_id"])
        record = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]["items"][0]
    assert task["task_status"] == "FAILED"
    message = task["error"]["message"]
    assert message.startswith("file_url could not be fetched")
    assert "secret" not in message and "302" not in message and "127.0.0.1" not in message
    assert web.hosts == [PUBLIC_IP]                      # the hop to 127.0.0.1 was never followed
    assert upstream_submissions(stack) == before
    assert record["status"] == "FAILED" and record["bill"] == "0"


@pytest.mark.usefixtures("no_faults")
def test_a_url_that_is_not_audio_fails_the_task_as_invalid_audio(stack: Stack, web: Web) -> None:
    web.audio = b"<html>not audio</html>"
    with stack.client("ssrf-not-audio") as client:
        task = wait_task(client, submit(client, "http://audio.example/talk.wav")["task_id"])
    assert task["task_status"] == "FAILED" and task["error"]["code"] == "INVALID_AUDIO"
