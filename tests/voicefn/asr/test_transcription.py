"""File transcription tasks against a fake DashScope client: only the lease holder submits,
and only once; a finished task is stored and billed once; upstream failure, the deadline and an
unfetchable URL end the task FAILED with the reason; upstream only ever gets a signed URL of an
object of ours."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from voicefn.asr.transcription import (KIND, advance, check_file_url, create_transcription,
                                       public_transcription, refresh)
from voicefn.auth.principal import Principal
from voicefn.billing import asr_bill, format_money
from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.results import TranscriptionTask
from voicefn.errors import ApiError
from voicefn.jobs.lease import claim, release
from voicefn.services import Services
from voicefn.storage.owners import grant

from .conftest import PUBLIC_IP, RESULT_URL, FakeDashScope, UserServer, running, succeeded, wav

MODEL = "qwen3-asr-flash-filetrans"
USER_URL = "https://files.example.com/meeting.wav?token=secret"


async def job_run(services: Services, task_id: str) -> dict[str, Any] | None:
    """One slice of the asr job as the runner does it: claim the task's lease, advance holding
    it (polling once), give the lease up so the next delivery may take the task on."""
    task = await services.state.get_task(task_id)
    assert task is not None
    got = await claim(services.state, task, lease_s=60)
    assert got is not None, "the lease is free between runs"
    lease, _ = got
    try:
        return await advance(services, task_id, poll_for_s=0, interval_s=0, holds_lease=True)
    finally:
        await release(services.state, lease)


async def own_upload(services: Services, principal: Principal, data: bytes) -> str:
    key = f"uploads/asr/{principal.user_id}/meeting.wav"
    await services.objects.put(key, data)
    await grant(services.state, key, principal.user_id)
    return key


async def new_task(services: Services, principal: Principal, source: dict[str, Any]) -> dict[str, Any]:
    return await create_transcription(services, principal, model=MODEL, source=source, channel_id=[0])


def assert_own_signed_url(services: Services, url: str, key: str) -> None:
    assert services.objects.key_from_url(url) == key
    assert services.objects.signed_key_from_url(url) == key


async def test_submitted_once_polled_then_stored_and_billed_once(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    key = await own_upload(services, principal, wav(3.0))
    source = await check_file_url(services, services.objects.signed_get_url(key), principal.user_id)
    assert source == {"object_key": key}
    task = await new_task(services, principal, source)
    assert public_transcription(task)["task_status"] == "PENDING"

    fake_dashscope.statuses = [running("up-1")]
    first = await job_run(services, task["task_id"])
    assert first is not None and first["status"] == "RUNNING" and first["upstream_task_id"] == "up-1"
    (submitted,) = fake_dashscope.called("submit_transcription")
    assert_own_signed_url(services, submitted["file_url"], key)
    assert submitted["model"] == MODEL and submitted["api_key"] == "sk-platform"

    await job_run(services, task["task_id"])  # a later slice (or a redelivery) only polls
    assert len(fake_dashscope.called("submit_transcription")) == 1
    assert [c["task_id"] for c in fake_dashscope.called("get_transcription_task")] == ["up-1", "up-1"]

    fake_dashscope.statuses = [succeeded("up-1", seconds=90)]
    done = await job_run(services, task["task_id"])
    assert done is not None
    shown = public_transcription(done)
    bill = format_money(asr_bill(MODEL, 90))
    assert shown["task_status"] == "SUCCEEDED" and shown["bill"] == bill and shown["usage"] == {"seconds": 90}
    assert shown["result"] == {"transcription_url": RESULT_URL,
                               "transcripts": [{"channel_id": 0, "text": "转写完成"}]}
    assert fake_dashscope.called("fetch_transcription")[0]["url"] == RESULT_URL

    # the finished task: advancing again changes nothing and calls nobody
    calls = len(fake_dashscope.calls)
    again = await advance(services, task["task_id"], poll_for_s=0, holds_lease=True)
    assert again is not None and again["status"] == "SUCCEEDED" and len(fake_dashscope.calls) == calls

    items, total = await services.state.list_history(principal.user_id)
    assert total == 1
    row = await services.state.get_history(principal.user_id, task["record_id"])
    assert row is not None
    assert row["bill"] == bill and row["status"] == "SUCCEEDED" and row["output_text"] == "转写完成"
    assert row["duration"] == 90


async def test_two_runs_finishing_together_record_one_bill(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    fake_dashscope.statuses = [running("up-1")]
    await job_run(services, task["task_id"])
    fake_dashscope.statuses = [succeeded("up-1", seconds=30)]
    current = await services.state.get_task(task["task_id"])
    assert current is not None
    # the job's next slice and a client's GET both see SUCCEEDED upstream and both finish it
    await asyncio.gather(job_run(services, task["task_id"]), refresh(services, current))
    assert len(fake_dashscope.called("fetch_transcription")) >= 1
    items, total = await services.state.list_history(principal.user_id)
    assert total == 1 and items[0]["bill"] == format_money(asr_bill(MODEL, 30))
    final = await services.state.get_task(task["task_id"])
    assert final is not None and final["status"] == "SUCCEEDED" and final["bill"] == items[0]["bill"]
    assert len(fake_dashscope.called("submit_transcription")) == 1


async def test_a_read_without_the_lease_never_submits(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    polled = await advance(services, task["task_id"], poll_for_s=0)
    refreshed = await refresh(services, task)
    assert polled is not None and polled["status"] == "PENDING" and not polled.get("upstream_task_id")
    assert refreshed["status"] == "PENDING"
    assert fake_dashscope.calls == []


async def test_upstream_failure_ends_the_task_failed_with_its_reason_unbilled(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    fake_dashscope.statuses = [TranscriptionTask(task_id="up-1", status="FAILED", code="InvalidFile",
                                                 message="the file is not decodable")]
    done = await job_run(services, task["task_id"])
    assert done is not None
    shown = public_transcription(done)
    assert shown["task_status"] == "FAILED" and "bill" not in shown
    assert shown["error"] == {"code": "UPSTREAM_ERROR",
                              "message": "transcription failed: the file is not decodable"}
    row = await services.state.get_history(principal.user_id, task["record_id"])
    assert row is not None and row["status"] == "FAILED" and row["bill"] == "0"
    assert fake_dashscope.called("fetch_transcription") == []


async def test_a_throttled_submit_is_retried_by_the_next_run_and_submitted_once(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    fake_dashscope.submissions = [UpstreamError("Throttling.RateQuota", "slow down", http_status=429), "up-9"]
    with pytest.raises(ApiError) as caught:  # the runner classifies it: another attempt
        await job_run(services, task["task_id"])
    assert caught.value.code == "RATE_LIMITED"
    between = await services.state.get_task(task["task_id"])
    assert between is not None and between["status"] == "RUNNING" and not between.get("upstream_task_id")

    fake_dashscope.statuses = [succeeded("up-9", seconds=10)]
    done = await job_run(services, task["task_id"])
    assert done is not None and done["status"] == "SUCCEEDED" and done["upstream_task_id"] == "up-9"
    assert len(fake_dashscope.called("submit_transcription")) == 2  # one refused, one task upstream


async def test_a_final_upstream_error_on_submit_is_an_input_error(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    fake_dashscope.submissions = [UpstreamError("InvalidURL", "cannot download the file", http_status=400)]
    with pytest.raises(ApiError) as caught:
        await job_run(services, task["task_id"])
    assert caught.value.code == "INVALID_PARAMETER" and caught.value.status == 400


async def test_past_its_deadline_the_task_fails_with_timeout(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    task = await new_task(services, principal, {"object_key": await own_upload(services, principal, wav(2.0))})
    fake_dashscope.statuses = [running("up-1")]
    await job_run(services, task["task_id"])
    await services.state.update_task(task["task_id"], {"submit_time": "2020-01-01T00:00:00Z"})
    calls = len(fake_dashscope.calls)

    done = await job_run(services, task["task_id"])
    assert done is not None and done["status"] == "FAILED"
    assert done["error"]["code"] == "TIMEOUT"
    assert f"within {services.settings.asr_task_deadline_s} s" in done["error"]["message"]
    assert len(fake_dashscope.calls) == calls  # upstream is not even asked
    row = await services.state.get_history(principal.user_id, task["record_id"])
    assert row is not None and row["status"] == "FAILED" and row["bill"] == "0"


async def test_a_users_url_is_copied_to_our_storage_and_only_our_signed_url_goes_upstream(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope,
        user_server: UserServer) -> None:
    data = wav(3.0)
    user_server.respond = lambda request: httpx.Response(200, content=data)
    source = await check_file_url(services, USER_URL, principal.user_id)
    assert source == {"file_url": USER_URL}
    task = await new_task(services, principal, source)
    assert user_server.requests == []  # creating the task fetches nothing: the job does

    # a client's GET never waits for the download, nor submits
    assert (await refresh(services, task))["status"] == "PENDING" and fake_dashscope.calls == []

    fake_dashscope.statuses = [succeeded("up-1", seconds=3)]
    done = await job_run(services, task["task_id"])
    assert done is not None and done["status"] == "SUCCEEDED"
    # fetched once, over a connection pinned to the address the guard checked
    assert user_server.requests == [f"https://{PUBLIC_IP}/meeting.wav?token=secret"]
    key = done["object_key"]
    assert key.startswith("audio/asr/") and key.endswith(f"{task['task_id']}.wav")
    assert await services.objects.get(key) == data
    (submitted,) = fake_dashscope.called("submit_transcription")
    assert_own_signed_url(services, submitted["file_url"], key)
    assert "files.example.com" not in repr(fake_dashscope.calls)

    # history shows where the audio came from, without the URL's secrets
    row = await services.state.get_history(principal.user_id, task["record_id"])
    assert row is not None and "token=secret" not in row["input_data"]
    assert "https://files.example.com/meeting.wav" in row["input_data"]


@pytest.mark.parametrize(("answer", "code", "says"), [
    (httpx.Response(404, text="no such file on the internal wiki"), "INVALID_PARAMETER", "could not be fetched"),
    (httpx.Response(200, content=b"<html>a login page</html>"), "INVALID_AUDIO", "not a supported audio file"),
])
async def test_an_unfetchable_url_ends_the_task_failed_without_an_upstream_call(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope,
        user_server: UserServer, answer: httpx.Response, code: str, says: str) -> None:
    user_server.respond = lambda request: answer
    task = await new_task(services, principal, await check_file_url(services, USER_URL, principal.user_id))
    done = await job_run(services, task["task_id"])
    assert done is not None and done["status"] == "FAILED"
    assert done["error"]["code"] == code and says in done["error"]["message"]
    assert "internal wiki" not in done["error"]["message"]  # never what the server behind it said
    assert fake_dashscope.calls == []
    assert done.get("object_key") is None
    row = await services.state.get_history(principal.user_id, task["record_id"])
    assert row is not None and row["status"] == "FAILED" and row["bill"] == "0"


async def test_a_private_address_is_refused_when_the_task_is_created(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    with pytest.raises(ApiError) as caught:
        await check_file_url(services, "http://127.0.0.1:8080/a.wav", principal.user_id)
    assert caught.value.status == 400 and caught.value.param == "file_url"
    assert fake_dashscope.calls == []


def test_the_task_kind_is_the_asr_jobs() -> None:
    assert KIND == "asr_filetrans"
