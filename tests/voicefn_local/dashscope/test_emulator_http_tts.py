"""HTTP TTS: CosyVoice's SpeechSynthesizer endpoint and Qwen TTS on multimodal-generation."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest
from dashscope import MultiModalConversation
from dashscope.audio.http_tts import HttpSpeechSynthesizer

from tests.voicefn_local.dashscope.ds_helpers import audio_seconds, decode_audio, level, stats
from voicefn.billing import billable_characters
from voicefn_local.engines.deterministic import expected_seconds

COSY = "cosyvoice-v3-flash"
KEY = {"Authorization": "Bearer sk-test"}
TEXT = "你好，世界。第二句话。"


def fetch(url: str) -> httpx.Response:
    response = httpx.get(url)  # result URLs need no auth, like DashScope's
    assert response.status_code == 200, response.text
    return response


def test_http_cosyvoice_returns_a_fetchable_url(sdk, emulator) -> None:
    result = HttpSpeechSynthesizer.call(model=COSY, text=TEXT, voice="longanyang")
    assert result.status_code == 200
    assert result.audio_url.startswith(f"{emulator.base_url}/files/")
    assert result.audio_id and result.expires_at > 0
    assert result.usage["characters"] == billable_characters(TEXT)
    response = fetch(result.audio_url)
    assert response.headers["content-type"] == "audio/wav"
    samples, rate = decode_audio(response.content, "wav")
    assert rate == 24000  # the SDK's default for this endpoint
    assert len(samples) == round(expected_seconds(TEXT) * rate)
    assert level(samples) > 0.1


def test_http_cosyvoice_mp3_at_another_rate(sdk) -> None:
    result = HttpSpeechSynthesizer.call(model=COSY, text=TEXT, voice="longanyang",
                                        audio_format="mp3", sample_rate=16000)
    data = fetch(result.audio_url).content
    assert audio_seconds(data, "mp3") == pytest.approx(expected_seconds(TEXT), abs=0.15)


def test_http_cosyvoice_sse_streams_pcm_then_the_url(sdk) -> None:
    results = list(HttpSpeechSynthesizer.call(model=COSY, text=TEXT, voice="longanyang",
                                              stream=True))
    chunks, final = results[:-1], results[-1]
    assert len(chunks) >= 4 and all(r.audio_url is None for r in chunks)
    pcm = b"".join(r.audio_data for r in chunks)
    assert len(pcm) // 2 == round(expected_seconds(TEXT) * 24000)
    assert final.audio_data == pcm  # the SDK joins the chunks
    assert final.usage["characters"] == billable_characters(TEXT)
    wav = fetch(final.audio_url).content
    samples, _ = decode_audio(wav, "wav")
    assert np.array_equal(np.round(samples * 32768).astype(np.int16),
                          np.frombuffer(pcm, dtype="<i2"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({"model": COSY, "input": {"text": "你好", "voice": "fail"}}, 400, "InvalidParameter"),
     ({"model": "cosyvoice-v9", "input": {"text": "你好", "voice": "longanyang"}}, 404,
      "ModelNotFound"),
     ({"model": COSY, "input": {"text": "", "voice": "longanyang"}}, 400, "BadRequest.EmptyInput"),
     ({"model": COSY, "input": {"text": "你好", "voice": "longanyang", "format": "aac"}}, 400,
      "InvalidParameter")],
)
def test_http_errors_in_native_format(emulator, body: dict, status: int, code: str) -> None:
    response = httpx.post(f"{emulator.base_url}/api/v1/services/audio/tts/SpeechSynthesizer",
                          json=body, headers={"Authorization": "Bearer sk-test"})
    assert response.status_code == status
    payload = response.json()
    assert payload["code"] == code and payload["message"] and payload["request_id"]


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer sk-invalid"}, {}])
def test_http_bad_key_is_401(emulator, headers: dict) -> None:
    response = httpx.post(f"{emulator.base_url}/api/v1/services/audio/tts/SpeechSynthesizer",
                          json={"model": COSY, "input": {"text": "你好", "voice": "longanyang"}},
                          headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "InvalidApiKey"
    assert stats(emulator)["tts_http"] == 0  # refused before it counts as a call


def test_sdk_sees_the_bad_key(emulator, point_sdk) -> None:
    point_sdk(emulator, key="sk-invalid")
    result = HttpSpeechSynthesizer.call(model=COSY, text="你好", voice="longanyang")
    assert result.status_code == 401 and result.code == "InvalidApiKey"
    response = MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="Cherry")
    assert response.status_code == 401 and response.code == "InvalidApiKey"


def test_qwen_tts_returns_a_wav_url(sdk, emulator) -> None:
    response = MultiModalConversation.call(model="qwen3-tts-flash", text=TEXT, voice="Cherry",
                                           language_type="Chinese")
    assert response.status_code == 200
    audio = response.output.audio
    assert audio.data == "" and audio.id and audio.expires_at > 0
    assert response.output.finish_reason == "stop"
    assert response.usage.characters == billable_characters(TEXT)
    samples, rate = decode_audio(fetch(audio.url).content, "wav")
    assert rate == 24000
    assert len(samples) == round(expected_seconds(TEXT) * rate)
    assert level(samples) > 0.1
    assert stats(emulator)["qwen_tts"] == 1


def test_qwen_tts_streams_base64_pcm_then_the_url(sdk) -> None:
    parts = list(MultiModalConversation.call(model="qwen3-tts-flash", text=TEXT, voice="Cherry",
                                             stream=True))
    assert all(p.status_code == 200 for p in parts)
    *chunks, final = parts
    pcm = b"".join(base64.b64decode(p.output.audio.data) for p in chunks)
    assert len(pcm) // 2 == round(expected_seconds(TEXT) * 24000)
    assert final.output.finish_reason == "stop"
    assert final.usage.characters == billable_characters(TEXT)
    assert audio_seconds(fetch(final.output.audio.url).content, "wav") == pytest.approx(
        expected_seconds(TEXT), abs=1 / 24000)


def test_qwen_tts_through_the_audio_module(sdk) -> None:
    from dashscope.audio.qwen_tts import SpeechSynthesizer as QwenSynthesizer

    parts = list(QwenSynthesizer.call(model="qwen3-tts-flash", text="你好", voice="Cherry",
                                      stream=True))
    assert parts[-1].output.finish_reason == "stop"
    assert parts[-1].output.audio["url"]


def test_qwen_tts_rejects_voices_of_other_models(sdk) -> None:
    response = MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="longanyang")
    assert response.status_code == 400 and response.code == "InvalidParameter"


def test_multimodal_dispatches_on_the_model_family(emulator, sdk) -> None:
    response = MultiModalConversation.call(model="qwen-vl-plus", messages=[
        {"role": "user", "content": [{"text": "hi"}]}])
    assert response.status_code == 404 and response.code == "ModelNotFound"

    from starlette.responses import JSONResponse

    async def echo(request, body, stream):  # type: ignore[no-untyped-def]
        return JSONResponse({"request_id": "r", "output": {"choices": [], "echo": body["model"]},
                             "usage": {}})

    emulator.app.state.emulator.multimodal.register("vl", lambda m: m.startswith("qwen-vl"), echo)
    response = MultiModalConversation.call(model="qwen-vl-plus", messages=[
        {"role": "user", "content": [{"text": "hi"}]}])
    assert response.status_code == 200 and response.output["echo"] == "qwen-vl-plus"


def test_unknown_file_or_path_is_404(emulator) -> None:
    assert httpx.get(f"{emulator.base_url}/files/audio_nope.wav").status_code == 404
    response = httpx.post(f"{emulator.base_url}/api/v1/services/nothing/here", headers=KEY)
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_qwen_tts_family_is_dispatched_and_voices_checked_per_model(sdk) -> None:
    # qwen-tts is handled by the Qwen TTS handler; the catalog lists Cherry for qwen3-tts-flash
    response = MultiModalConversation.call(model="qwen-tts", text="你好", voice="Cherry")
    assert response.status_code == 400 and response.code == "InvalidParameter"
    assert "qwen-tts" in response.message


def test_qwen_tts_with_real_speech(espeak_emulator, point_sdk) -> None:
    point_sdk(espeak_emulator)
    response = MultiModalConversation.call(model="qwen3-tts-flash", text="Hello there, friend.",
                                           voice="Cherry")
    samples, rate = decode_audio(fetch(response.output.audio.url).content, "wav")
    assert rate == 24000 and 0.5 < len(samples) / rate < 5
    assert level(samples) > 0.02
