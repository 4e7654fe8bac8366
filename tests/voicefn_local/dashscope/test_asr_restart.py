"""Transcription tasks survive a restart of the emulator when it has a data directory."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from dashscope.audio.qwen_asr import QwenTranscription

from tests.voicefn_local.dashscope.test_asr_support import (FileServer, get_task, submit, tone_pcm,
                                                            wait_task, wav)
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import run_in_thread

MODEL = "qwen3-asr-flash-filetrans"


def body(url: str) -> dict:
    return {"model": MODEL, "input": {"file_url": url}, "parameters": {"enable_words": True}}


def record_on_disk(data_dir: Path, task_id: str) -> dict:
    return json.loads((data_dir / "tasks" / f"{task_id}.json").read_text())


def test_a_task_interrupted_by_a_restart_finishes_after_it(tmp_path, point_sdk) -> None:
    slow = {"match": {"api": "asr_filetrans"}, "fault": {"kind": "latency", "latency_ms": 30000}}
    with FileServer() as files:
        url = files.put("a.wav", wav(tone_pcm(2.0)))
        first = run_in_thread(create_dashscope_app(
            EmulatorConfig(engine="deterministic", data_dir=tmp_path, faults=[slow])))
        with first:
            point_sdk(first)
            task = QwenTranscription.async_call(model=MODEL, file_url=url, enable_words=True)
            task_id = task.output.task_id
            wait_task(first, task_id, ("RUNNING",))
        # stopped mid-task: the record on disk still says RUNNING
        assert record_on_disk(tmp_path, task_id)["status"] == "RUNNING"

        with run_in_thread(create_dashscope_app(
                EmulatorConfig(engine="deterministic", data_dir=tmp_path))) as second:
            point_sdk(second)
            done = QwenTranscription.wait(task_id)
            assert done.output.task_status == "SUCCEEDED", done
            document = httpx.get(done.output["result"]["transcription_url"]).json()
            assert document["transcripts"][0]["text"] == "audio of 2.0 seconds"
            assert done.usage["seconds"] == 2


def test_pending_and_running_tasks_are_all_taken_up(tmp_path) -> None:
    stuck = {"match": {"api": "asr_filetrans"}, "fault": {"kind": "stuck", "times": 1}}
    with FileServer() as files:
        url = files.put("a.wav", wav(tone_pcm(1.0)))
        with run_in_thread(create_dashscope_app(EmulatorConfig(
                engine="deterministic", data_dir=tmp_path, max_running_tasks=1,
                faults=[stuck]))) as first:
            running = submit(first, body(url))
            wait_task(first, running, ("RUNNING",))
            pending = submit(first, body(url))
            assert get_task(first, pending)["output"]["task_status"] == "PENDING"
        with run_in_thread(create_dashscope_app(
                EmulatorConfig(engine="deterministic", data_dir=tmp_path))) as second:
            for task_id in (running, pending):
                assert wait_task(second, task_id)["output"]["task_status"] == "SUCCEEDED"


def test_finished_tasks_and_results_survive_and_failures_too(tmp_path) -> None:
    config = EmulatorConfig(engine="deterministic", data_dir=tmp_path)
    with FileServer() as files:
        url = files.put("a.wav", wav(tone_pcm(1.0)))
        with run_in_thread(create_dashscope_app(config)) as first:
            ok = wait_task(first, submit(first, body(url)))
            failed = wait_task(first, submit(first, body(files.url("missing.wav"))))
        with run_in_thread(create_dashscope_app(config)) as second:
            again = get_task(second, ok["output"]["task_id"])["output"]
            assert {k: again[k] for k in ("task_status", "submit_time", "end_time")} == {
                k: ok["output"][k] for k in ("task_status", "submit_time", "end_time")}
            url_now = again["result"]["transcription_url"]
            assert url_now.startswith(second.base_url)  # on the server that answers now
            assert httpx.get(url_now).json()["transcripts"][0]["text"] == "audio of 1.0 seconds"
            lost = get_task(second, failed["output"]["task_id"])["output"]
            assert (lost["task_status"], lost["code"]) == ("FAILED", "FILE_404_NOT_FOUND")


def test_without_a_data_dir_tasks_are_forgotten() -> None:
    config = EmulatorConfig(engine="deterministic", data_dir=None)
    with FileServer() as files:
        with run_in_thread(create_dashscope_app(config)) as first:
            task_id = wait_task(first, submit(first, body(files.put("a.wav", wav(tone_pcm(0.5))))))[
                "output"]["task_id"]
        with run_in_thread(create_dashscope_app(config)) as second:
            assert get_task(second, task_id)["output"]["task_status"] == "UNKNOWN"


def test_expired_tasks_are_pruned_at_startup(tmp_path) -> None:
    with FileServer() as files:
        with run_in_thread(create_dashscope_app(
                EmulatorConfig(engine="deterministic", data_dir=tmp_path))) as first:
            done = wait_task(first, submit(first, body(files.put("a.wav", wav(tone_pcm(0.5))))))
    assert len(list((tmp_path / "results").iterdir())) == 1
    with run_in_thread(create_dashscope_app(
            EmulatorConfig(engine="deterministic", data_dir=tmp_path, task_ttl_s=0))) as second:
        assert get_task(second, done["output"]["task_id"])["output"]["task_status"] == "UNKNOWN"
    assert list((tmp_path / "tasks").iterdir()) == []
    assert list((tmp_path / "results").iterdir()) == []
