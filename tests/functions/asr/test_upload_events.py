"""Upload with a ticket → OSS event → transcription task, once however often the event comes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.functions.asr.audio_samples import script, wav
from tests.functions.asr.test_transcribe import wait_task
from tests.stack import Stack


def wait_ticket(client: httpx.Client, ticket_id: str, timeout_s: float = 30) -> dict:
    deadline = time.time() + timeout_s
    while True:
        ticket = client.get(f"/api/audio/uploads/{ticket_id}").json()["data"]
        if ticket.get("task_id") or ticket["status"] in ("REJECTED", "DONE") or time.time() > deadline:
            return ticket
        time.sleep(0.1)


def upload(client: httpx.Client, audio: bytes, *, form: bool = False) -> dict:
    ticket = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "meeting.wav",
                                                     "content_type": "audio/wav", "size": len(audio)}).json()["data"]
    assert ticket["key"].startswith("uploads/asr/") and ticket["key"].endswith(f"{ticket['ticket_id']}.wav")
    if form:  # what wx.uploadFile does: a multipart POST with the policy fields, file last
        response = httpx.post(ticket["post"]["url"], data=ticket["post"]["fields"],
                              files={"file": ("meeting.wav", audio, "audio/wav")})
    else:
        response = httpx.put(ticket["put_url"], content=audio, headers={"Content-Type": "audio/wav"})
    assert response.status_code in (200, 204), response.text
    return ticket


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("form", [False, True], ids=["put", "post-form"])
def test_an_upload_is_transcribed_through_its_oss_event(stack: Stack, form: bool) -> None:
    audio = wav(2.0, freq=420 + form)
    script(stack, audio, "上传之后自动转写。")
    with stack.client("uploader") as client:
        ticket = upload(client, audio, form=form)
        seen = wait_ticket(client, ticket["ticket_id"])
        assert seen.get("task_id"), seen
        task = wait_task(client, seen["task_id"])
        final = client.get(f"/api/audio/uploads/{ticket['ticket_id']}").json()["data"]
    assert task["task_status"] == "SUCCEEDED", task
    assert task["result"]["transcripts"][0]["text"] == "上传之后自动转写。"
    assert final["task_id"] == seen["task_id"] and final["status"] == "DONE"


@pytest.mark.usefixtures("no_faults")
def test_the_same_event_three_times_gives_one_task_one_record_one_bill(stack: Stack) -> None:
    from voicefn.services import get_services
    from voicefn_asr.events import on_oss_event
    from voicefn_local.oss_events import build_oss_event

    audio = wav(1.0, freq=610)
    script(stack, audio, "重复的事件。")
    with stack.client("dedupe-user") as client:
        ticket = upload(client, audio)
        task_id = wait_ticket(client, ticket["ticket_id"])["task_id"]
        first = wait_task(client, task_id)
        upstream_tasks = stack.stats()["asr_filetrans_tasks"]
        info = asyncio.run(get_services().objects.head(ticket["key"]))
        event = build_oss_event(bucket=get_services().objects.bucket, key=ticket["key"], size=info.size,
                                etag=info.etag)
        outcomes = [asyncio.run(on_oss_event(event)) for _ in range(3)]
        history = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
        again = wait_task(client, task_id)
    assert first["task_status"] == "SUCCEEDED"
    assert all(o["handled"][0] == {"task_id": task_id, "duplicate": True} for o in outcomes)
    assert stack.stats()["asr_filetrans_tasks"] == upstream_tasks   # no new DashScope task
    assert history["total"] == 1 and history["items"][0]["bill"] == first["bill"]
    assert again == first


@pytest.mark.usefixtures("no_faults")
def test_a_fake_audio_upload_is_rejected_without_a_task(stack: Stack) -> None:
    fake = b"not audio at all, " * 100
    with stack.client("fake-uploader") as client:
        ticket = upload(client, fake)
        seen = wait_ticket(client, ticket["ticket_id"])
        history = client.get("/api/audio/history").json()["data"]
    assert seen["status"] == "REJECTED" and "task_id" not in seen and seen["error"]
    assert history["total"] == 0


def test_tickets_check_content_type_and_size(stack: Stack) -> None:
    with stack.client("uploader") as client:
        bad_type = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "a.exe",
                                                           "content_type": "application/x-msdownload", "size": 10})
        too_big = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "a.wav",
                                                          "content_type": "audio/wav", "size": 10 ** 10})
        private_cb = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "a.wav",
                                                             "content_type": "audio/wav", "size": 10,
                                                             "callback_url": "http://192.168.0.1/cb"})
    for response in (bad_type, too_big, private_cb):
        assert response.status_code == 400 and response.json()["code"] == 400


@pytest.mark.usefixtures("no_faults")
def test_a_second_object_at_a_used_ticket_key_starts_no_task_and_no_bill(stack: Stack) -> None:
    from voicefn.services import get_services
    from voicefn_asr.events import on_oss_event
    from voicefn_local.oss_events import build_oss_event

    audio, other = wav(1.0, freq=640), wav(1.0, freq=880)  # other bytes, other eTag, the same size
    script(stack, audio, "第一个文件。")
    script(stack, other, "第二个文件。")
    services = get_services()
    with stack.client("one-ticket-user") as client:
        ticket = upload(client, audio)
        task_id = wait_ticket(client, ticket["ticket_id"])["task_id"]
        first = wait_task(client, task_id)
        upstream_tasks = stack.stats()["asr_filetrans_tasks"]
        # the same presigned PUT again, with another file: the store takes it, as OSS would
        response = httpx.put(ticket["put_url"], content=other, headers={"Content-Type": "audio/wav"})
        assert response.status_code == 200
        info = asyncio.run(services.objects.head(ticket["key"]))
        second_key = f"oss:{services.objects.bucket}/{ticket['key']}/{info.etag}"
        deadline = time.time() + 10
        while asyncio.run(services.state.get_event(second_key)) is None and time.time() < deadline:
            time.sleep(0.05)  # the store's own event for the second object has reached the intake
        event = build_oss_event(bucket=services.objects.bucket, key=ticket["key"], size=info.size, etag=info.etag)
        outcome = asyncio.run(on_oss_event(event))["handled"][0]
        time.sleep(0.3)
        tasks = asyncio.run(services.state.list_tasks(owner="one-ticket-user", kind="asr_filetrans"))
        history = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
        final = client.get(f"/api/audio/uploads/{ticket['ticket_id']}").json()["data"]
        again = wait_task(client, task_id)
    assert asyncio.run(services.state.get_event(second_key)) is not None
    assert outcome == {"skipped": "the ticket was used by an earlier upload", "task_id": task_id}
    assert [t["task_id"] for t in tasks] == [task_id]                  # one task in the tasks table
    assert stack.stats()["asr_filetrans_tasks"] == upstream_tasks      # no second DashScope task
    assert history["total"] == 1 and history["items"][0]["bill"] == first["bill"]
    assert final["status"] == "DONE" and final["task_id"] == task_id  # the ticket keeps its first outcome
    assert again == first and again["result"]["transcripts"][0]["text"] == "第一个文件。"
