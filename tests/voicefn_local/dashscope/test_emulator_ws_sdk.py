"""The official SDK's CosyVoice WebSocket client (tts_v2.SpeechSynthesizer) against the emulator."""

from __future__ import annotations

import threading
import time

import pytest
from dashscope.audio.tts_v2 import AudioFormat, ResultCallback, SpeechSynthesizer
from dashscope.common.error import RequestFailure

from tests.voicefn_local.dashscope.ds_helpers import (audio_seconds, decode_audio, level,
                                                      set_faults, stats)
from voicefn.billing import billable_characters
from voicefn_local.engines.deterministic import expected_seconds

MODEL = "cosyvoice-v3-flash"
VOICE = "longanyang"


class Collector(ResultCallback):
    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.events: list[str] = []
        self.errors: list[str] = []
        self.done = threading.Event()

    def on_data(self, data: bytes) -> None:
        self.data.append(bytes(data))

    def on_event(self, message: str) -> None:
        self.events.append(message)

    def on_error(self, message: str) -> None:
        self.errors.append(message)
        self.done.set()

    def on_complete(self) -> None:
        self.done.set()


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("你好，欢迎使用语音合成服务。今天天气很好。", 1.5, 9.0),
     ("Hello, and welcome to the speech service. The weather is nice today.", 1.5, 9.0)],
    ids=["zh", "en"],
)
def test_call_returns_real_speech_mp3(espeak_emulator, point_sdk, text: str, low: float,
                                      high: float) -> None:
    point_sdk(espeak_emulator)
    synthesizer = SpeechSynthesizer(model=MODEL, voice=VOICE)
    audio = synthesizer.call(text)
    assert audio and (audio[:3] == b"ID3" or (audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0))
    samples, rate = decode_audio(audio, "mp3")
    assert rate == 22050  # "Default" format means mp3 at 22050 Hz
    assert low < len(samples) / rate < high
    assert level(samples) > 0.02
    usage = synthesizer.get_response()["payload"]["usage"]["characters"]
    assert usage == billable_characters(text)


@pytest.mark.parametrize(
    ("fmt", "audio_format"),
    [("wav", AudioFormat.WAV_16000HZ_MONO_16BIT), ("pcm", AudioFormat.PCM_24000HZ_MONO_16BIT),
     ("mp3", AudioFormat.MP3_44100HZ_MONO_256KBPS), ("opus", AudioFormat.OGG_OPUS_48KHZ_MONO_64KBPS)],
)
def test_formats(sdk, fmt: str, audio_format: AudioFormat) -> None:
    text = "格式测试。第二句话。"
    audio = SpeechSynthesizer(model=MODEL, voice=VOICE, format=audio_format).call(text)
    samples, rate = decode_audio(audio, fmt, audio_format.sample_rate)
    assert rate == audio_format.sample_rate
    expected = expected_seconds(text)
    if fmt in ("wav", "pcm"):
        assert len(samples) == round(expected * rate)  # lossless: exact
    else:
        assert len(samples) / rate == pytest.approx(expected, abs=0.12)  # codec padding
    assert level(samples) > 0.1


def test_streaming_call_makes_one_valid_file_of_the_expected_duration(sdk) -> None:
    callback = Collector()
    synthesizer = SpeechSynthesizer(model=MODEL, voice=VOICE, callback=callback,
                                    format=AudioFormat.WAV_22050HZ_MONO_16BIT)
    parts = ["第一句话。", "The second sentence. ", "第三句，最后一句。"]
    for part in parts:
        synthesizer.streaming_call(part)
    synthesizer.streaming_complete()
    assert not callback.errors
    audio = b"".join(callback.data)
    assert audio[:4] == b"RIFF" and audio.count(b"RIFF") == 1  # one header: chunks form ONE file
    expected = expected_seconds("".join(parts))
    assert audio_seconds(audio, "wav") == pytest.approx(expected, abs=1 / 22050)
    usage = synthesizer.get_response()["payload"]["usage"]["characters"]
    assert usage == billable_characters("".join(parts))
    assert len(callback.data) > 3  # streamed in several frames, not one blob


def test_streaming_mp3_chunks_concatenate_into_one_stream(sdk) -> None:
    callback = Collector()
    synthesizer = SpeechSynthesizer(model=MODEL, voice=VOICE, callback=callback)
    for part in ["你好。", "世界。", "再见。"]:
        synthesizer.streaming_call(part)
    synthesizer.streaming_complete()
    audio = b"".join(callback.data)
    assert audio_seconds(audio, "mp3") == pytest.approx(expected_seconds("你好。世界。再见。"),
                                                        abs=0.12)


def test_unknown_voice_fails_the_task(sdk) -> None:
    with pytest.raises(RequestFailure) as failure:
        SpeechSynthesizer(model="cosyvoice-v2", voice="fail").call("你好")
    assert failure.value.name == "InvalidParameter"


def test_voice_of_another_model_fails_the_task(sdk) -> None:
    with pytest.raises(RequestFailure) as failure:
        SpeechSynthesizer(model=MODEL, voice="Cherry").call("你好")  # a Qwen TTS voice
    assert failure.value.name == "InvalidParameter"


def test_unknown_model_fails_the_task(sdk) -> None:
    with pytest.raises(RequestFailure) as failure:
        SpeechSynthesizer(model="cosyvoice-v9", voice=VOICE).call("你好")
    assert failure.value.name == "ModelNotFound"


@pytest.mark.slow
def test_bad_key_is_refused_at_the_handshake(emulator, point_sdk) -> None:
    point_sdk(emulator, key="sk-invalid")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="websocket connection could not established"):
        SpeechSynthesizer(model=MODEL, voice=VOICE).call("你好")  # SDK 2.0.2 polls 5 s
    assert time.monotonic() - started >= 4
    assert stats(emulator)["auth_failures"] == 1
    assert stats(emulator)["tts_ws_tasks"] == 0


def test_streaming_cancel_stops_at_once(sdk, emulator) -> None:
    set_faults(emulator, [{"match": {"api": "tts_ws"},
                           "fault": {"kind": "slow_frames", "frame_delay_ms": 100}}])
    callback = Collector()
    synthesizer = SpeechSynthesizer(model=MODEL, voice=VOICE, callback=callback)
    synthesizer.streaming_call("很长的文本。" * 30)
    time.sleep(0.3)
    started = time.monotonic()
    synthesizer.streaming_cancel()
    assert time.monotonic() - started < 1.0
    assert callback.done.is_set()  # task-finished arrived
    frames = len(callback.data)
    time.sleep(0.4)
    assert len(callback.data) == frames
    assert stats(emulator)["engine_calls"] < 30
