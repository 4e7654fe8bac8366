"""Voice enrollment on the embedded DashScope, through the official SDK's VoiceEnrollmentService
(reference §2): create/list/query/update/delete, the id format, status, quota, accounts, bad
samples, bad input and fault injection."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from dashscope.audio.tts_v2 import VoiceEnrollmentService

from tests.voicefn_local.dashscope.ds_helpers import set_faults, stats
from tests.voicefn_local.dashscope.test_asr_support import FileServer, data_uri, wav
from tests.voicefn_local.dashscope.voice_helpers import (error_of, speechlike_pcm, speechlike_wav,
                                                         wait_status)
from voicefn.audio.encode import encode_pcm
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread

MODEL = "cosyvoice-v3-plus"
CUSTOMIZATION = "/api/v1/services/audio/tts/customization"


def start(**options: object) -> object:
    settings: dict[str, object] = {"data_dir": None, "voice_deploy_delay_s": 0.0, **options}
    config = EmulatorConfig(engine="deterministic", **settings)  # type: ignore[arg-type]
    return run_in_thread(create_dashscope_app(config))


@pytest.fixture
def ds(point_sdk) -> Iterator[ServerHandle]:  # type: ignore[no-untyped-def]
    with start() as server:
        point_sdk(server)
        yield server


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    with FileServer() as server:
        server.put("sample.wav", speechlike_wav(150.0))
        server.put("other.wav", speechlike_wav(230.0))
        yield server


def post(server: ServerHandle, data: dict[str, object], key: str = "sk-test") -> httpx.Response:
    body = {"model": "voice-enrollment", "parameters": {}, "input": data}
    return httpx.post(f"{server.base_url}{CUSTOMIZATION}", json=body,
                      headers={"Authorization": f"Bearer {key}"})


def test_sdk_create_list_query_update_delete(ds, files) -> None:
    service = VoiceEnrollmentService()
    voice_id = service.create_voice(target_model=MODEL, prefix="myvoice",
                                    url=files.url("sample.wav"), language_hints=["zh"])
    assert re.fullmatch(rf"{MODEL}-myvoice-[0-9a-f]{{32}}", voice_id)
    voice = wait_status(service, voice_id)
    assert voice["status"] == "OK"
    assert voice["target_model"] == MODEL and voice["resource_link"] == files.url("sample.wav")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", voice["gmt_create"])

    second = service.create_voice(target_model="cosyvoice-v2", prefix="other",
                                  url=files.url("sample.wav"))
    listed = service.list_voices()
    assert [v["voice_id"] for v in listed] == [second, voice_id]  # newest first
    assert set(listed[0]) >= {"voice_id", "gmt_create", "gmt_modified", "status"}
    assert [v["voice_id"] for v in service.list_voices(prefix="myvoice")] == [voice_id]
    assert [len(service.list_voices(page_index=i, page_size=1)) for i in range(3)] == [1, 1, 0]

    time.sleep(1.0)  # gmt_modified has a resolution of one second
    assert service.update_voice(voice_id, files.url("other.wav")) is None
    updated = wait_status(service, voice_id)
    assert updated["status"] == "OK" and updated["resource_link"] == files.url("other.wav")
    assert updated["gmt_modified"] > updated["gmt_create"]

    assert service.delete_voice(voice_id) is None
    assert [v["voice_id"] for v in service.list_voices()] == [second]
    assert error_of(service.query_voice, voice_id)[:2] == (404, "VoiceNotFound")
    assert error_of(service.delete_voice, voice_id)[:2] == (404, "VoiceNotFound")
    assert stats(ds)["voice_enrollment"] >= 10


def test_status_is_deploying_until_the_delay_has_passed(point_sdk, files) -> None:
    with start(voice_deploy_delay_s=1.0) as server:
        point_sdk(server)
        service = VoiceEnrollmentService()
        began = time.monotonic()
        voice_id = service.create_voice(target_model=MODEL, prefix="slow", url=files.url("sample.wav"))
        assert service.query_voice(voice_id)["status"] == "DEPLOYING"
        assert service.list_voices()[0]["status"] == "DEPLOYING"
        assert wait_status(service, voice_id)["status"] == "OK"
        assert time.monotonic() - began >= 0.95
        service.update_voice(voice_id, files.url("other.wav"))  # a new sample: deploying again
        assert service.query_voice(voice_id)["status"] == "DEPLOYING"
        assert wait_status(service, voice_id)["status"] == "OK"


def test_quota_per_account_and_deleting_frees_a_slot(point_sdk, files) -> None:
    with start(voice_quota=2) as server:
        point_sdk(server)
        service = VoiceEnrollmentService()
        first = service.create_voice(target_model=MODEL, prefix="a", url=files.url("sample.wav"))
        service.create_voice(target_model="cosyvoice-v2", prefix="b", url=files.url("sample.wav"))
        status, code, message = error_of(service.create_voice, target_model=MODEL, prefix="c",
                                         url=files.url("sample.wav"))
        assert (status, code) == (400, "VoiceLimitExceeded") and "2 voices" in message
        # another account has its own quota
        assert post(server, {"action": "create_voice", "target_model": MODEL, "prefix": "c",
                             "url": files.url("sample.wav")}, key="sk-other").status_code == 200
        service.delete_voice(first)
        assert service.create_voice(target_model=MODEL, prefix="c", url=files.url("sample.wav"))
        assert len(service.list_voices()) == 2


def test_voices_belong_to_the_key_that_enrolled_them(ds, files) -> None:
    voice_id = VoiceEnrollmentService().create_voice(target_model=MODEL, prefix="mine",
                                                     url=files.url("sample.wav"))
    other = "sk-someone-else"
    listed = post(ds, {"action": "list_voice", "page_index": 0, "page_size": 10}, key=other)
    assert listed.status_code == 200 and listed.json()["output"]["voice_list"] == []
    for action in ({"action": "query_voice"}, {"action": "delete_voice"},
                   {"action": "update_voice", "url": files.url("other.wav")}):
        response = post(ds, {**action, "voice_id": voice_id}, key=other)
        assert response.status_code == 404 and response.json()["code"] == "VoiceNotFound"
    assert wait_status(VoiceEnrollmentService(), voice_id)["status"] == "OK"  # untouched


def _tone_wav(seconds: float, rate: int = 16000) -> bytes:
    from voicefn.audio.pcm import tone

    return encode_pcm(tone(seconds, rate, 200.0, 0.3), "wav", rate)


@pytest.mark.parametrize("name, sample, reason", [
    ("silent.wav", wav(b"\0\0" * 16000 * 12), "silent"),
    ("fake.wav", b"this is not audio at all, just text pretending" * 100, "not audio"),
    ("narrow.wav", speechlike_wav(150.0, rate=8000), "at least 16000 Hz"),
    ("long.wav", speechlike_wav(150.0, seconds=61.0), "at most 60 s"),
    ("short.wav", speechlike_wav(150.0, seconds=3.0), "at least 5 s"),
    ("beep.wav", _tone_wav(12.0), "no voice"),
    ("missing.wav", None, "could not be downloaded"),
])
def test_unusable_samples_end_undeployed_with_the_reason(ds, files, name, sample, reason) -> None:
    url = files.put(name, sample) if sample is not None else files.url("absent.wav")
    service = VoiceEnrollmentService()
    voice_id = service.create_voice(target_model=MODEL, prefix="bad", url=url)
    voice = wait_status(service, voice_id)
    assert voice["status"] == "UNDEPLOYED"
    assert reason in voice["message"]


def _wav_8bit(seconds: float, rate: int = 16000) -> bytes:
    import io
    import wave

    pcm = np.frombuffer(speechlike_pcm(150.0, seconds, rate), dtype="<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(((pcm.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes())
    return buffer.getvalue()


def test_an_mp3_sample_deploys_and_an_8_bit_wav_does_not(ds, files) -> None:
    service = VoiceEnrollmentService()
    mp3 = encode_pcm(speechlike_pcm(150.0, 12.0, 24000), "mp3", 24000)
    good = service.create_voice(target_model=MODEL, prefix="mp3", url=files.put("s.mp3", mp3))
    bad = service.create_voice(target_model=MODEL, prefix="wav8", url=files.put("s8.wav", _wav_8bit(12.0)))
    assert wait_status(service, good)["status"] == "OK"
    voice = wait_status(service, bad)
    assert voice["status"] == "UNDEPLOYED" and "16-bit" in voice["message"]


def test_a_data_uri_sample_is_read_too(ds) -> None:
    service = VoiceEnrollmentService()
    voice_id = service.create_voice(target_model=MODEL, prefix="inline",
                                    url=data_uri(speechlike_wav(150.0)))
    assert wait_status(service, voice_id)["status"] == "OK"


@pytest.mark.parametrize("data, status, code", [
    ({"action": "create_voice", "target_model": MODEL, "prefix": "waytoolongprefix"}, 400,
     "InvalidParameter"),
    ({"action": "create_voice", "target_model": MODEL, "prefix": "bad-dash"}, 400, "InvalidParameter"),
    ({"action": "create_voice", "target_model": "qwen3-tts-flash", "prefix": "p"}, 400,
     "InvalidParameter"),
    ({"action": "create_voice", "prefix": "p"}, 400, "InvalidParameter"),
    ({"action": "create_voice", "target_model": MODEL, "prefix": "p", "url": None}, 400,
     "InvalidParameter"),
    ({"action": "create_voice", "target_model": MODEL, "prefix": "p", "url": "ftp://x/a.wav"}, 400,
     "InvalidURL"),
    ({"action": "create_voice", "target_model": MODEL, "prefix": "p", "language_hints": ["zh", "en"]},
     400, "InvalidLanguageHints"),
    ({"action": "list_voice", "page_size": 0}, 400, "InvalidParameter"),
    ({"action": "query_voice"}, 400, "InvalidParameter"),
    ({"action": "query_voice", "voice_id": "nope"}, 404, "VoiceNotFound"),
    ({"action": "rename_voice"}, 400, "InvalidParameter"),
])
def test_bad_input_answers_dashscope_errors(ds, files, data, status, code) -> None:
    data = {"url": files.url("sample.wav"), **data}
    response = post(ds, data)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"] and body["request_id"]
    assert post(ds, {"action": "list_voice"}).json()["output"]["voice_list"] == []  # none stored


def test_bad_model_and_bad_key(ds) -> None:
    body = {"model": "voice-cloning", "input": {"action": "list_voice"}}
    response = httpx.post(f"{ds.base_url}{CUSTOMIZATION}", json=body,
                          headers={"Authorization": "Bearer sk-test"})
    assert (response.status_code, response.json()["code"]) == (404, "ModelNotFound")
    assert post(ds, {"action": "list_voice"}, key="sk-invalid").status_code == 401
    assert error_of(VoiceEnrollmentService(api_key="sk-invalid").list_voices)[:2] == \
        (401, "InvalidApiKey")


def rule(kind: str, **match: object) -> dict[str, object]:
    return {"match": {"api": "voice_enrollment", **match}, "fault": {"kind": kind, "times": 1}}


def test_fault_injection(ds, files) -> None:
    service = VoiceEnrollmentService()
    url = files.url("sample.wav")
    set_faults(ds, [rule("throttle"), rule("error")])
    assert error_of(service.list_voices)[:2] == (429, "Throttling.RateQuota")
    assert error_of(service.create_voice, target_model=MODEL, prefix="e", url=url)[:2] == \
        (500, "InternalError")
    assert service.list_voices() == []  # the failed create stored nothing

    set_faults(ds, [rule("task_failed", model="cosyvoice-v2"), rule("stuck", text_contains="other")])
    failed = service.create_voice(target_model="cosyvoice-v2", prefix="f", url=url)
    stuck = service.create_voice(target_model=MODEL, prefix="s", url=files.url("other.wav"))
    assert wait_status(service, failed)["status"] == "UNDEPLOYED"
    time.sleep(0.5)
    assert service.query_voice(stuck)["status"] == "DEPLOYING"
    service.update_voice(stuck, url)  # the rule is used up: a new sample deploys
    assert wait_status(service, stuck)["status"] == "OK"

    set_faults(ds, [{"match": {"api": "voice_enrollment"}, "fault": {"kind": "latency",
                                                                      "latency_ms": 300, "times": 1}},
                    rule("drop")])
    began = time.monotonic()
    service.list_voices()
    assert time.monotonic() - began >= 0.3
    with pytest.raises(httpx.HTTPError):
        post(ds, {"action": "list_voice"}).json()


def test_voices_survive_a_restart_with_a_data_dir(point_sdk, files, tmp_path) -> None:
    with start(data_dir=tmp_path) as server:
        point_sdk(server)
        service = VoiceEnrollmentService()
        kept = service.create_voice(target_model=MODEL, prefix="kept", url=files.url("sample.wav"))
        assert wait_status(service, kept)["status"] == "OK"
    assert "sk-test" not in next(tmp_path.glob("*.json")).read_text()  # keys are not kept
    with start(data_dir=tmp_path) as server:
        point_sdk(server)
        service = VoiceEnrollmentService()
        assert [v["voice_id"] for v in service.list_voices()] == [kept]
        assert service.query_voice(kept)["status"] == "OK"
