"""File transcription: async submission, ``GET /tasks/{id}``, result files, cancel (§0, §3.2, §3.3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from dashscope.audio.asr import Transcription
from dashscope.audio.qwen_asr import QwenTranscription

from tests.voicefn_local.dashscope.test_asr_support import (ASYNC, KEY, TRANSCRIPTION, FileServer,
                                                            get_task, set_scripts, submit,
                                                            tone_pcm, wait_task, wav)
from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.encode import encode_pcm
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.asr_deterministic import pcm_sha256
from voicefn_local.servers import ServerHandle, run_in_thread

TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")
SCRIPT = "Good morning. Welcome to the meeting."


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


def filetrans(url: str, **parameters: object) -> dict:
    return {"model": "qwen3-asr-flash-filetrans", "input": {"file_url": url},
            "parameters": parameters}


def test_sdk_filetrans_succeeds_with_a_result_file(asr, files) -> None:
    pcm = tone_pcm(3.2)
    set_scripts(asr, {pcm_sha256(pcm): SCRIPT})
    url = files.put("meeting.wav", wav(pcm))
    task = QwenTranscription.async_call(model="qwen3-asr-flash-filetrans", file_url=url,
                                        channel_id=[0], enable_itn=False, enable_words=True)
    assert task.status_code == 200 and task.output.task_status == "PENDING"
    done = QwenTranscription.wait(task)
    assert done.status_code == 200 and done.output.task_status == "SUCCEEDED"
    output = done.output
    assert output.task_id == task.output.task_id
    assert all(TIME.match(output[k]) for k in ("submit_time", "scheduled_time", "end_time"))
    assert done.usage["seconds"] == 4
    result_url = output["result"]["transcription_url"]
    assert result_url.startswith(f"{asr.base_url}/files/asr/")
    response = httpx.get(result_url)  # no auth, like DashScope's result URLs
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["file_url"] == url
    assert document["audio_info"] == {"format": "wav", "sample_rate": 16000}
    [transcript] = document["transcripts"]
    assert transcript["channel_id"] == 0 and transcript["text"] == SCRIPT
    first, second = transcript["sentences"]
    assert first["sentence_id"] == 0 and second["sentence_id"] == 1
    assert (first["begin_time"], second["end_time"]) == (0, 3200)
    assert first["end_time"] == second["begin_time"]
    assert first["text"] == "Good morning." and first["language"] == "en"
    assert first["emotion"] == "neutral"
    assert [(w["text"], w["punctuation"]) for w in first["words"]] == [("Good", ""), ("morning", ".")]


def test_words_only_when_asked_and_language_from_parameters(asr, files) -> None:
    task_id = submit(asr, filetrans(files.put("a.wav", wav(tone_pcm(1.0))), language="fr"))
    body = wait_task(asr, task_id)
    document = httpx.get(body["output"]["result"]["transcription_url"]).json()
    [sentence] = document["transcripts"][0]["sentences"]
    assert "words" not in sentence and sentence["language"] == "fr"


def test_sdk_fun_asr_file_urls_with_a_failing_file(asr, files) -> None:
    good = files.put("good.wav", wav(tone_pcm(2.5, 8000), 8000))
    missing = files.url("missing.wav")
    task = Transcription.async_call(model="fun-asr", file_urls=[good, missing],
                                    language_hints=["en"])
    done = Transcription.wait(task)
    assert done.status_code == 200 and done.output.task_status == "SUCCEEDED"
    ok, failed = done.output["results"]
    assert ok["file_url"] == good and ok["subtask_status"] == "SUCCEEDED"
    assert failed == {"file_url": missing, "subtask_status": "FAILED", "code": "FILE_404_NOT_FOUND",
                      "message": f"GET {missing} answered HTTP 404"}
    assert done.output["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 1, "FAILED": 1}
    assert done.usage["duration"] == 3
    document = httpx.get(ok["transcription_url"]).json()
    assert document["properties"] == {"audio_format": "wav", "channels": [0],
                                      "original_sampling_rate": 8000,
                                      "original_duration_in_milliseconds": 2500}
    [transcript] = document["transcripts"]
    assert transcript["content_duration_in_milliseconds"] == 2500
    [sentence] = transcript["sentences"]
    assert sentence["sentence_id"] == 1 and sentence["text"] == "audio of 2.5 seconds"
    assert [w["text"] for w in sentence["words"]] == ["audio", "of", "2.5", "seconds"]


def test_a_task_whose_only_file_fails_is_failed(asr, files) -> None:
    task_id = submit(asr, filetrans(files.put("junk.wav", b"RIFF not really a wave file")))
    output = wait_task(asr, task_id)["output"]
    assert output["task_status"] == "FAILED" and output["code"] == "FILE_PARSE_FAILED"
    assert "decode" in output["message"] and "result" not in output
    all_missing = submit(asr, {"model": "paraformer-v2", "input": {"file_urls": [files.url("x")]}})
    output = wait_task(asr, all_missing)["output"]
    assert output["task_status"] == "FAILED" and output["code"] == "FILE_404_NOT_FOUND"
    assert output["task_metrics"] == {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 1}


def test_only_channel_0_the_mix_is_transcribed(asr, files) -> None:
    stereo = np.stack([np.frombuffer(tone_pcm(1.0), "<i2")] * 2, axis=1)
    import io

    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, stereo, 16000, format="WAV", subtype="PCM_16")
    task_id = submit(asr, filetrans(files.put("stereo.wav", buffer.getvalue()), channel_id=[0, 1]))
    body = wait_task(asr, task_id)
    document = httpx.get(body["output"]["result"]["transcription_url"]).json()
    assert [t["channel_id"] for t in document["transcripts"]] == [0]
    assert body["usage"] == {"seconds": 1}


def test_the_async_header_is_required(asr, files) -> None:
    response = httpx.post(f"{asr.base_url}{TRANSCRIPTION}", headers=KEY,
                          json=filetrans(files.url("a.wav")))
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"
    assert response.json()["message"] == "current user api does not support synchronous calls"


@pytest.mark.parametrize("body, status, code", [
    ({"model": "no-such-asr", "input": {"file_url": "http://x/a.wav"}}, 404, "ModelNotFound"),
    ({"model": "paraformer-realtime-v2", "input": {"file_urls": ["http://x/a.wav"]}}, 404,
     "ModelNotFound"),
    ({"model": "qwen3-asr-flash-filetrans", "input": {"file_urls": ["http://x/a.wav"]}}, 400,
     "InvalidParameter"),
    ({"model": "fun-asr", "input": {"file_url": "http://x/a.wav"}}, 400, "InvalidParameter"),
    ({"model": "fun-asr", "input": {"file_urls": []}}, 400, "InvalidParameter"),
    ({"model": "qwen3-asr-flash-filetrans", "input": {"file_url": "ftp://x/a.wav"}}, 400,
     "InvalidParameter"),
    ({"model": "qwen3-asr-flash-filetrans", "input": {"file_url": "http://x/a.wav"},
      "parameters": {"channel_id": 0}}, 400, "InvalidParameter"),
    ({"input": {"file_url": "http://x/a.wav"}}, 400, "BadRequest.EmptyModel"),
])
def test_bad_submissions(asr, body, status, code) -> None:
    response = httpx.post(f"{asr.base_url}{TRANSCRIPTION}", headers=ASYNC, json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_unknown_and_expired_tasks_are_unknown(asr, point_sdk) -> None:
    fetched = QwenTranscription.fetch("no-such-task")
    assert fetched.status_code == 200
    assert (fetched.output.task_id, fetched.output.task_status) == ("no-such-task", "UNKNOWN")
    with FileServer() as files, run_in_thread(create_dashscope_app(
            EmulatorConfig(engine="deterministic", data_dir=None, task_ttl_s=0))) as expiring:
        task_id = submit(expiring, filetrans(files.put("a.wav", wav(tone_pcm(0.5)))))
        assert get_task(expiring, task_id)["output"]["task_status"] == "UNKNOWN"


def test_cancel_works_while_pending_only(point_sdk, files) -> None:
    stuck_first = {"match": {"api": "asr_filetrans"}, "fault": {"kind": "stuck", "times": 1}}
    config = EmulatorConfig(engine="deterministic", data_dir=None, max_running_tasks=1,
                            faults=[stuck_first])
    with run_in_thread(create_dashscope_app(config)) as server:
        point_sdk(server)
        url = files.put("a.wav", wav(tone_pcm(0.5)))
        running = submit(server, filetrans(url))
        wait_task(server, running, ("RUNNING",))
        waiting = submit(server, filetrans(url))
        assert get_task(server, waiting)["output"]["task_status"] == "PENDING"  # no free slot
        canceled = QwenTranscription.cancel(waiting)
        assert canceled.status_code == 200
        output = get_task(server, waiting)["output"]
        assert output["task_status"] == "CANCELED" and TIME.match(output["end_time"])
        refused = QwenTranscription.cancel(running)
        assert refused.status_code == 400 and refused.code == "UnsupportedOperation"
        assert QwenTranscription.cancel("no-such-task").status_code == 400
        assert get_task(server, running)["output"]["task_status"] == "RUNNING"


def test_result_files_are_not_guessable(asr) -> None:
    response = httpx.get(f"{asr.base_url}/files/asr/nothing-here.json")
    assert response.status_code == 404 and response.json()["code"] == "NoSuchKey"
    assert httpx.get(f"{asr.base_url}/files/asr/..%2Ftasks").status_code == 404


def test_mp3_files(asr, files) -> None:
    mp3 = encode_pcm(tone_pcm(2.0, 24000), "mp3", 24000)
    pcm, rate = decode_to_pcm(mp3)
    set_scripts(asr, {pcm_sha256(pcm): SCRIPT})  # scripts key on the decoded PCM
    body = wait_task(asr, submit(asr, filetrans(files.put("a.mp3", mp3))))
    document = httpx.get(body["output"]["result"]["transcription_url"]).json()
    assert document["audio_info"] == {"format": "mp3", "sample_rate": rate}
    assert document["transcripts"][0]["text"] == SCRIPT
