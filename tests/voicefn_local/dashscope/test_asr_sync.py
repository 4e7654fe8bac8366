"""Sync ASR (qwen3-asr-flash, qwen-audio-asr) on multimodal-generation and in compatible mode."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest
from dashscope import MultiModalConversation

from tests.voicefn_local.dashscope.test_asr_support import (KEY, MULTIMODAL, FileServer, asr_body,
                                                            data_uri, set_scripts, tone_pcm, wav,
                                                            word_error_rate)
from voicefn.audio.pcm import silence
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines import get_engine
from voicefn_local.engines.asr_deterministic import pcm_sha256
from voicefn_local.servers import ServerHandle, run_in_thread

SCRIPT = "Hello, world. This is a scripted transcript."


@pytest.fixture
def asr(point_sdk) -> Iterator[ServerHandle]:  # type: ignore[no-untyped-def]
    """A deterministic emulator (tasks in memory), the SDK pointed at it."""
    config = EmulatorConfig(engine="deterministic", data_dir=None)
    with run_in_thread(create_dashscope_app(config)) as server:
        point_sdk(server)
        yield server


def post(server: ServerHandle, body: dict, path: str = MULTIMODAL) -> httpx.Response:
    return httpx.post(f"{server.base_url}{path}", json=body, headers=KEY, timeout=30)


def test_sdk_gets_the_scripted_text(asr) -> None:
    pcm = tone_pcm(2.4)
    set_scripts(asr, {pcm_sha256(pcm): SCRIPT})
    messages = [{"role": "system", "content": [{"text": "context: Alibaba Cloud"}]},
                {"role": "user", "content": [{"audio": data_uri(wav(pcm))}]}]
    result = MultiModalConversation.call(model="qwen3-asr-flash", messages=messages,
                                         asr_options={"language": "en", "enable_itn": True})
    assert result.status_code == 200, result.message
    message = result.output.choices[0].message
    assert message.content == [{"text": SCRIPT}]
    assert message.annotations == [{"type": "audio_info", "language": "en", "emotion": "neutral"}]
    assert result.output.choices[0].finish_reason == "stop"
    assert result.usage["seconds"] == 3  # 2.4 s, rounded up
    assert result.usage["input_tokens_details"] == {"text_tokens": 4}  # context : Alibaba Cloud
    assert result.usage["output_tokens_details"] == {"text_tokens": 10}


def test_unscripted_audio_from_a_url_at_any_rate(asr) -> None:
    with FileServer() as files:
        url = files.put("a.wav", wav(tone_pcm(1.5, 22050), 22050))
        response = post(asr, asr_body(url, model="qwen-audio-asr"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"]["choices"][0]["message"]["content"] == [{"text": "audio of 1.5 seconds"}]
    assert body["usage"]["seconds"] == 2 and body["request_id"]


def test_mp3_and_a_language_hint(asr) -> None:
    from voicefn.audio.encode import encode_pcm

    mp3 = encode_pcm(tone_pcm(1.0, 16000), "mp3", 16000)
    response = post(asr, asr_body(data_uri(mp3, "audio/mpeg"), language="zh"))
    assert response.status_code == 200, response.text
    message = response.json()["output"]["choices"][0]["message"]
    assert message["annotations"][0]["language"] == "zh"
    assert message["content"][0]["text"].startswith("audio of 1.")


@pytest.mark.parametrize("audio", [
    data_uri(b"this is not audio at all"),
    "data:audio/wav;base64,UklGRiQAAABXQVZF",       # the capture's truncated WAV header
])
def test_undecodable_audio_is_invalid_parameter(asr, audio) -> None:
    response = post(asr, asr_body(audio))
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameter"
    assert "could not be decoded" in response.json()["message"]


@pytest.mark.parametrize("audio, hint", [
    ("file:///tmp/a.wav", "unsupported audio source"),
    ("oss://bucket/a.wav", "unsupported audio source"),
    ("data:audio/wav,plain", "data URI"),
])
def test_unsupported_audio_sources(asr, audio, hint) -> None:
    response = post(asr, asr_body(audio))
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameter"
    assert hint in response.json()["message"]


def test_a_url_that_cannot_be_fetched(asr) -> None:
    with FileServer() as files:
        response = post(asr, asr_body(files.url("missing.wav")))
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameter"
    assert "HTTP 404" in response.json()["message"]


def test_missing_audio_and_bad_options(asr) -> None:
    no_audio = {"model": "qwen3-asr-flash", "parameters": {},
                "input": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}
    assert post(asr, no_audio).json()["code"] == "InvalidParameter"
    bad = asr_body(data_uri(wav(tone_pcm(0.5))))
    bad["parameters"] = {"asr_options": "en"}
    assert post(asr, bad).status_code == 400


def test_audio_over_10_mib_is_too_large(asr) -> None:
    big = wav(bytes(11 * 1024 * 1024), 16000)
    response = post(asr, asr_body(data_uri(big)))
    assert response.status_code == 413
    assert response.json()["code"] == "BadRequest.TooLarge"
    with FileServer() as files:
        response = post(asr, asr_body(files.put("big.wav", big)))
    assert response.status_code == 413


def test_audio_over_5_minutes_is_refused(asr) -> None:
    long = wav(silence(301, 8000), 8000)  # 4.8 MB: under the size limit
    response = post(asr, asr_body(data_uri(long)))
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameter"
    assert "qwen3-asr-flash-filetrans" in response.json()["message"]
    assert post(asr, asr_body(data_uri(wav(silence(299, 8000), 8000)))).status_code == 200


def test_sdk_stream_gives_sentences_then_the_whole_text(asr) -> None:
    pcm = tone_pcm(2.0)
    set_scripts(asr, {pcm_sha256(pcm): SCRIPT})
    messages = [{"role": "user", "content": [{"audio": data_uri(wav(pcm))}]}]
    chunks = list(MultiModalConversation.call(model="qwen3-asr-flash", messages=messages,
                                              stream=True))
    assert all(c.status_code == 200 for c in chunks)
    texts = [c.output.choices[0].message.content[0]["text"] for c in chunks]
    assert texts == ["Hello, world.", SCRIPT, SCRIPT]
    assert [c.output.choices[0].finish_reason for c in chunks] == ["null", "null", "stop"]
    assert chunks[-1].usage["seconds"] == 2
    incremental = list(MultiModalConversation.call(model="qwen3-asr-flash", messages=messages,
                                                   stream=True, incremental_output=True))
    assert [c.output.choices[0].message.content[0]["text"] for c in incremental] == [
        "Hello, world.", "This is a scripted transcript.", ""]


def test_compatible_mode_with_the_openai_client(asr) -> None:
    from openai import BadRequestError, OpenAI

    pcm = tone_pcm(1.2)
    set_scripts(asr, {pcm_sha256(pcm): SCRIPT})
    client = OpenAI(api_key="sk-test", base_url=f"{asr.base_url}/compatible-mode/v1")
    messages = [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": data_uri(wav(pcm))}}]}]
    completion = client.chat.completions.create(model="qwen3-asr-flash", messages=messages,
                                                extra_body={"asr_options": {"language": "en"}})
    assert completion.choices[0].message.content == SCRIPT
    message = completion.choices[0].message.model_dump(exclude_none=True)
    assert message["annotations"] == [{"type": "audio_info", "language": "en", "emotion": "neutral"}]
    assert completion.usage is not None and completion.usage.completion_tokens == 10
    stream = client.chat.completions.create(model="qwen3-asr-flash", messages=messages,
                                            stream=True, stream_options={"include_usage": True})
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == SCRIPT
    bad = [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": data_uri(b"junk, not audio")}}]}]
    with pytest.raises(BadRequestError) as failure:
        client.chat.completions.create(model="qwen3-asr-flash", messages=bad)
    assert failure.value.code == "invalid_parameter_error"


def test_compatible_mode_unknown_model_and_key(asr) -> None:
    body = {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}
    response = post(asr, body, "/compatible-mode/v1/chat/completions")
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"
    response = httpx.post(f"{asr.base_url}/compatible-mode/v1/chat/completions", json=body,
                          headers={"Authorization": "Bearer sk-invalid"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


@pytest.fixture(scope="module")
def whisper() -> Iterator[ServerHandle]:
    config = EmulatorConfig(engine="espeak", asr_engine="whisper", data_dir=None)
    with run_in_thread(create_dashscope_app(config)) as server:
        yield server


@pytest.mark.slow
def test_sdk_recognises_espeak_speech_with_whisper(whisper, point_sdk) -> None:
    point_sdk(whisper)
    text = "Please call me tomorrow morning at the office. We are going to the market."
    pcm = get_engine("espeak").synthesize(text, language="en", gender="female",
                                          sample_rate=16000, rate=0.8)
    messages = [{"role": "user", "content": [{"audio": data_uri(wav(pcm))}]}]
    result = MultiModalConversation.call(model="qwen3-asr-flash", messages=messages,
                                         asr_options={"language": "en"})
    assert result.status_code == 200, result.message
    heard = result.output.choices[0].message.content[0]["text"]
    wer = word_error_rate(text, heard)
    print(f"heard {heard!r}; WER {wer:.0%}")
    assert wer <= 0.15
    assert result.output.choices[0].message.annotations[0]["language"] == "en"
    assert result.usage["seconds"] == math.ceil(len(pcm) / 32000)


@pytest.mark.slow
def test_chinese_hint_is_answered_empty_not_with_invented_english(whisper, point_sdk) -> None:
    point_sdk(whisper)
    pcm = get_engine("espeak").synthesize("今天天气很好。", language="zh", gender="female",
                                          sample_rate=16000)
    messages = [{"role": "user", "content": [{"audio": data_uri(wav(pcm))}]}]
    result = MultiModalConversation.call(model="qwen3-asr-flash", messages=messages,
                                         asr_options={"language": "zh"})
    assert result.status_code == 200, result.message
    assert result.output.choices[0].message.content[0]["text"] == ""
    assert result.output.choices[0].message.annotations[0]["language"] == "zh"
