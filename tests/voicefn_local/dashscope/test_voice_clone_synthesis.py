"""Synthesis with cloned voices: who may use one, with which model, in which state; and what the
cloning engine imitates (the sample's median F0 and pace, on espeak-ng; not its timbre)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from dashscope.audio.http_tts import HttpSpeechSynthesizer
from dashscope.audio.tts_v2 import AudioFormat, SpeechSynthesizer, VoiceEnrollmentService

from tests.voicefn_local.dashscope.ds_helpers import WsSession, run_task, set_faults
from tests.voicefn_local.dashscope.test_asr_support import FileServer
from tests.voicefn_local.dashscope.voice_helpers import speechlike_wav, wait_status
from voicefn.audio.decode import decode_to_pcm
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.pace import syllables_per_second
from voicefn_local.engines.pitch import median_f0
from voicefn_local.servers import ServerHandle, run_in_thread

MODEL = "cosyvoice-v3-flash"
SYNTH = "/api/v1/services/audio/tts/SpeechSynthesizer"


def serve(engine: str) -> object:
    return run_in_thread(create_dashscope_app(EmulatorConfig(engine=engine, data_dir=None,
                                                             voice_deploy_delay_s=0.0)))


@pytest.fixture
def ds(point_sdk) -> Iterator[ServerHandle]:  # type: ignore[no-untyped-def]
    with serve("deterministic") as server:
        point_sdk(server)
        yield server


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    with FileServer() as server:
        server.put("150.wav", speechlike_wav(150.0))
        yield server


def enroll(url: str, model: str = MODEL, prefix: str = "clone") -> str:
    service = VoiceEnrollmentService()
    voice_id = service.create_voice(target_model=model, prefix=prefix, url=url)
    assert wait_status(service, voice_id)["status"] == "OK"
    return voice_id


def http_speech(text: str, voice: str, model: str = MODEL, **options: object) -> tuple[bytes, int]:
    result = HttpSpeechSynthesizer.call(model=model, text=text, voice=voice, **options)
    assert result.status_code == 200, result
    return decode_to_pcm(httpx.get(result.audio_url).content)


def synth_error(server: ServerHandle, voice: str, model: str = MODEL,
                key: str = "sk-test") -> dict[str, str]:
    response = httpx.post(f"{server.base_url}{SYNTH}", headers={"Authorization": f"Bearer {key}"},
                          json={"model": model, "input": {"text": "你好。", "voice": voice}})
    assert response.status_code == 400, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_clone_speaks_at_its_samples_pitch_on_http_and_websocket(ds, files) -> None:
    voice = enroll(files.url("150.wav"))
    pcm, rate = http_speech("你好，世界。", voice)
    assert median_f0(pcm, rate) == pytest.approx(150.0, rel=0.01)  # the deterministic engine's tone
    ws_pcm = SpeechSynthesizer(model=MODEL, voice=voice,
                               format=AudioFormat.PCM_16000HZ_MONO_16BIT).call("你好，世界。")
    assert median_f0(ws_pcm, 16000) == pytest.approx(150.0, rel=0.01)
    high, rate = http_speech("你好，世界。", voice, pitch=1.5)  # DashScope's pitch still applies
    assert median_f0(high, rate) == pytest.approx(225.0, rel=0.01)


def test_a_clone_works_only_with_its_target_model(ds, files) -> None:
    voice = enroll(files.url("150.wav"), model="cosyvoice-v3-plus")
    assert http_speech("你好。", voice, model="cosyvoice-v3-plus")[0]
    error = synth_error(ds, voice, model=MODEL)
    assert error["code"] == "InvalidParameter" and "418" in error["message"]
    assert "cosyvoice-v3-plus" in error["message"]
    with pytest.raises(Exception, match="InvalidParameter"):  # the SDK's WS path fails too
        SpeechSynthesizer(model=MODEL, voice=voice).call("你好。")


def test_another_accounts_clone_is_not_found(ds, files) -> None:
    voice = enroll(files.url("150.wav"))
    error = synth_error(ds, voice, key="sk-someone-else")
    assert error["code"] == "InvalidParameter" and "voice not found" in error["message"]
    async def over_ws() -> dict[str, object]:
        async with WsSession(ds, key="sk-someone-else") as ws:
            await ws.send(run_task("t1", model=MODEL, voice=voice))
            return await ws.recv()  # type: ignore[no-any-return]

    header = asyncio.run(over_ws())["header"]
    assert header["event"] == "task-failed" and "voice not found" in header["error_message"]


def test_a_clone_not_ok_or_deleted_cannot_speak(ds, files) -> None:
    service = VoiceEnrollmentService()
    set_faults(ds, [{"match": {"api": "voice_enrollment"}, "fault": {"kind": "stuck", "times": 1}},
                    {"match": {"api": "voice_enrollment"}, "fault": {"kind": "task_failed", "times": 1}}])
    deploying = service.create_voice(target_model=MODEL, prefix="d", url=files.url("150.wav"))
    undeployed = service.create_voice(target_model=MODEL, prefix="u", url=files.url("150.wav"))
    assert wait_status(service, undeployed)["status"] == "UNDEPLOYED"
    assert "DEPLOYING" in synth_error(ds, deploying)["message"]
    assert "UNDEPLOYED" in synth_error(ds, undeployed)["message"]
    ok = enroll(files.url("150.wav"))
    service.delete_voice(ok)
    assert "voice not found" in synth_error(ds, ok)["message"]


# ---- what espeak-ng imitates -------------------------------------------------------------

SAMPLE_TEXT = ("今天天气很好，我们一起去公园散步吧。小明说他明天要去北京出差，大概一个星期以后回来。"
               "请记得带上雨伞，因为下午可能会下雨。晚上我们吃火锅，好不好？")
CLONE_TEXT = "欢迎使用语音服务。这是用复刻的声音合成的一段话，听起来怎么样？我们下次再见。"


@pytest.fixture(scope="module")
def espeak_ds() -> Iterator[ServerHandle]:
    with serve("espeak") as server:
        yield server


def sample_of(server: ServerHandle, voice: str, **options: object) -> tuple[str, float, float]:
    """A 15-20 s sample spoken by a system voice: its URL (a result file), median F0 and pace."""
    result = HttpSpeechSynthesizer.call(model=MODEL, text=SAMPLE_TEXT, voice=voice, **options)
    pcm, rate = decode_to_pcm(httpx.get(result.audio_url).content)
    return result.audio_url, median_f0(pcm, rate) or 0.0, syllables_per_second(pcm, rate) or 0.0


def test_clones_of_a_low_and_a_high_voice_speak_low_and_high(espeak_ds, point_sdk) -> None:
    point_sdk(espeak_ds)
    figures = {}
    for label, system_voice in (("low", "longanyang"), ("high", "longanhuan")):
        url, sample_f0, sample_pace = sample_of(espeak_ds, system_voice)
        clone = enroll(url, prefix=label)
        pcm, rate = http_speech(CLONE_TEXT, clone)
        ws_pcm = SpeechSynthesizer(model=MODEL, voice=clone,
                                   format=AudioFormat.PCM_22050HZ_MONO_16BIT).call(CLONE_TEXT)
        clone_f0, ws_f0 = median_f0(pcm, rate), median_f0(ws_pcm, 22050)
        assert clone_f0 is not None and ws_f0 is not None
        clone_pace = syllables_per_second(pcm, rate) or 0.0
        figures[label] = (system_voice, sample_f0, clone_f0, ws_f0, sample_pace, clone_pace)
        print(f"{label}: sample ({system_voice}) F0 {sample_f0:.1f} Hz, pace {sample_pace:.2f} syl/s"
              f" -> clone F0 {clone_f0:.1f} Hz (HTTP), {ws_f0:.1f} Hz (WS), pace {clone_pace:.2f}"
              f" syl/s ({clone_f0 / sample_f0 - 1:+.1%} F0, {clone_pace / sample_pace - 1:+.1%} pace)")
        assert clone_f0 == pytest.approx(sample_f0, rel=0.20)
        assert ws_f0 == pytest.approx(sample_f0, rel=0.20)
    low, high = figures["low"][2], figures["high"][2]
    print(f"high clone / low clone F0: {high / low:.2f}")
    assert high >= 1.3 * low


def test_clones_of_a_slow_and_a_fast_sample_keep_their_pace(espeak_ds, point_sdk) -> None:
    point_sdk(espeak_ds)
    paces, sample_paces = {}, {}
    for label, rate in (("slow", 0.7), ("fast", 1.5)):
        url, _, sample_pace = sample_of(espeak_ds, "longanyang", rate=rate)
        sample_paces[label] = sample_pace
        started = time.monotonic()
        pcm, sr = http_speech(CLONE_TEXT, enroll(url, prefix=label))
        clone_pace = syllables_per_second(pcm, sr) or 0.0
        print(f"{label} (rate {rate}): sample pace {sample_pace:.2f} syl/s -> clone {clone_pace:.2f}"
              f" syl/s, {len(pcm) / 2 / sr:.1f} s of speech ({time.monotonic() - started:.2f} s)")
        assert clone_pace == pytest.approx(sample_pace, rel=0.25)
        paces[label] = clone_pace
    # the clones differ in pace as much as their samples do
    assert paces["fast"] / paces["slow"] >= 0.8 * sample_paces["fast"] / sample_paces["slow"]
