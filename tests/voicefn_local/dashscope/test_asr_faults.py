"""Fault injection and counters of the ASR APIs: ``asr_sync``, ``asr_filetrans``, ``tasks``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from dashscope import MultiModalConversation
from dashscope.audio.qwen_asr import QwenTranscription

from tests.voicefn_local.dashscope.ds_helpers import set_faults, stats
from tests.voicefn_local.dashscope.test_asr_support import (ASYNC, KEY, MULTIMODAL, TRANSCRIPTION,
                                                            FileServer, asr_body, data_uri,
                                                            get_task, submit, tone_pcm, wait_task,
                                                            wav)
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread

AUDIO = data_uri(wav(tone_pcm(1.0)))


@pytest.fixture
def asr(point_sdk) -> Iterator[ServerHandle]:  # type: ignore[no-untyped-def]
    config = EmulatorConfig(engine="deterministic", data_dir=None)
    with run_in_thread(create_dashscope_app(config)) as server:
        point_sdk(server)
        yield server


@pytest.fixture
def files() -> Iterator[FileServer]:
    with FileServer() as server:
        yield server


def rule(kind: str, api: str, **fault: object) -> dict:
    match = {"api": api, **{k: fault.pop(k) for k in ("model", "text_contains") if k in fault}}
    return {"match": match, "fault": {"kind": kind, **fault}}


def sync(server: ServerHandle, headers: dict[str, str] | None = None,
         model: str = "qwen3-asr-flash") -> httpx.Response:
    return httpx.post(f"{server.base_url}{MULTIMODAL}", json=asr_body(AUDIO, model=model),
                      headers={**KEY, **(headers or {})})


def filetrans(url: str) -> dict:
    return {"model": "qwen3-asr-flash-filetrans", "input": {"file_url": url}}


# ---- sync ---------------------------------------------------------------------------------

def test_sync_throttle_error_and_task_failed(asr) -> None:
    set_faults(asr, [rule("throttle", "asr_sync", times=1), rule("error", "asr_sync", times=1),
                     rule("task_failed", "asr_sync", times=1)])
    for status, code in ((429, "Throttling.RateQuota"), (500, "InternalError"),
                         (500, "InternalError.Algo")):
        result = MultiModalConversation.call(
            model="qwen3-asr-flash", messages=[{"role": "user", "content": [{"audio": AUDIO}]}])
        assert (result.status_code, result.code) == (status, code)
    assert sync(asr).status_code == 200  # the rules are used up
    assert stats(asr)["faults_applied"] == 3


def test_sync_latency_and_model_match(asr) -> None:
    set_faults(asr, [rule("latency", "asr_sync", model="qwen-audio-asr", latency_ms=400)])
    started = time.monotonic()
    assert sync(asr).status_code == 200
    assert time.monotonic() - started < 0.4
    started = time.monotonic()
    assert sync(asr, model="qwen-audio-asr").status_code == 200
    assert time.monotonic() - started >= 0.4


def test_sync_fault_matched_on_the_audio_url(asr, files) -> None:
    set_faults(asr, [rule("error", "asr_sync", text_contains="broken")])
    ok = files.put("fine.wav", wav(tone_pcm(0.5)))
    bad = files.put("broken.wav", wav(tone_pcm(0.5)))

    def post(url: str) -> httpx.Response:
        return httpx.post(f"{asr.base_url}{MULTIMODAL}", json=asr_body(url), headers=KEY)

    assert post(ok).status_code == 200
    assert post(bad).status_code == 500


def test_sync_fault_header_and_drop(asr) -> None:
    assert sync(asr, {"X-Fake-Fault": "throttle"}).status_code == 429
    with pytest.raises(httpx.RemoteProtocolError):
        sync(asr, {"X-Fake-Fault": "drop"})
    stream = httpx.post(f"{asr.base_url}{MULTIMODAL}", json=asr_body(AUDIO),
                        headers={**KEY, "X-DashScope-SSE": "enable", "X-Fake-Fault": "task_failed"})
    assert "event:error" in stream.text and "InternalError.Algo" in stream.text


# ---- file transcription -----------------------------------------------------------------

def test_submission_throttle_and_error(asr, files) -> None:
    set_faults(asr, [rule("throttle", "asr_filetrans", times=1), rule("error", "asr_filetrans", times=1)])
    url = files.put("a.wav", wav(tone_pcm(0.5)))
    throttled = QwenTranscription.async_call(model="qwen3-asr-flash-filetrans", file_url=url)
    assert (throttled.status_code, throttled.code) == (429, "Throttling.RateQuota")
    failed = QwenTranscription.async_call(model="qwen3-asr-flash-filetrans", file_url=url)
    assert (failed.status_code, failed.code) == (500, "InternalError")
    assert QwenTranscription.async_call(model="qwen3-asr-flash-filetrans",
                                        file_url=url).status_code == 200


def test_task_failed_ends_the_task_failed(asr, files) -> None:
    set_faults(asr, [rule("task_failed", "asr_filetrans")])
    task = QwenTranscription.async_call(model="qwen3-asr-flash-filetrans",
                                        file_url=files.put("a.wav", wav(tone_pcm(0.5))))
    assert task.status_code == 200
    output = wait_task(asr, task.output.task_id)["output"]
    assert output["task_status"] == "FAILED" and output["code"] == "InternalError.Algo"
    assert "task_failed" in output["message"] and "result" not in output


def test_stuck_tasks_stay_running_so_clients_time_out(asr, files) -> None:
    task_id = submit(asr, filetrans(files.put("a.wav", wav(tone_pcm(0.5)))),
                     {**ASYNC, "X-Fake-Fault": "stuck"})
    wait_task(asr, task_id, ("RUNNING",))
    timed_out = QwenTranscription.wait(task_id, wait_timeout=1)
    assert (timed_out.status_code, timed_out.code) == (408, "WaitTaskTimeout")
    assert get_task(asr, task_id)["output"]["task_status"] == "RUNNING"


def test_latency_keeps_the_task_running(asr, files) -> None:
    set_faults(asr, [rule("latency", "asr_filetrans", latency_ms=500)])
    started = time.monotonic()
    task_id = submit(asr, filetrans(files.put("a.wav", wav(tone_pcm(0.5)))))
    assert time.monotonic() - started < 0.4  # the submission itself answers at once
    wait_task(asr, task_id, ("RUNNING",))
    assert wait_task(asr, task_id)["output"]["task_status"] == "SUCCEEDED"
    assert time.monotonic() - started >= 0.5


def test_dropped_submission_still_makes_a_task(asr, files) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{asr.base_url}{TRANSCRIPTION}", json=filetrans(files.url("a.wav")),
                   headers={**ASYNC, "X-Fake-Fault": "drop"})
    assert stats(asr)["asr_filetrans_tasks"] == 1


def test_task_queries_can_be_throttled(asr, files) -> None:
    task_id = submit(asr, filetrans(files.put("a.wav", wav(tone_pcm(0.5)))))
    set_faults(asr, [rule("throttle", "tasks", times=1), rule("error", "tasks", times=1)])
    url = f"{asr.base_url}/api/v1/tasks/{task_id}"
    assert httpx.get(url, headers=KEY).status_code == 429
    assert httpx.get(url, headers=KEY).status_code == 500
    assert httpx.get(url, headers=KEY).status_code == 200


def test_bad_keys_are_refused_everywhere(asr) -> None:
    bad = {"Authorization": "Bearer sk-invalid"}
    assert httpx.get(f"{asr.base_url}/api/v1/tasks/x", headers=bad).status_code == 401
    assert httpx.post(f"{asr.base_url}{TRANSCRIPTION}", json=filetrans("http://x/a.wav"),
                      headers={**bad, "X-DashScope-Async": "enable"}).status_code == 401
    assert sync(asr, bad).status_code == 401
    assert stats(asr)["auth_failures"] == 3


# ---- counters -----------------------------------------------------------------------------

def test_counters(asr, files) -> None:
    assert sync(asr).status_code == 200                                     # 1.0 s -> 1
    assert httpx.post(f"{asr.base_url}{MULTIMODAL}", json=asr_body(data_uri(b"junk")),
                      headers=KEY).status_code == 400                       # counted, not billed
    task_id = submit(asr, filetrans(files.put("a.wav", wav(tone_pcm(2.5)))))  # 2.5 s -> 3
    wait_task(asr, task_id)
    counts = stats(asr)
    assert counts["asr_sync"] == 2
    assert counts["asr_filetrans_tasks"] == 1
    assert counts["asr_seconds"] == 1 + 3
    assert counts["asr_engine_calls"] == 2
    assert counts["task_queries"] >= 1
