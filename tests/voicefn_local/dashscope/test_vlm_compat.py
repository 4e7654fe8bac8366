"""qwen-vl in compatible mode: the emulator looks at the picture and streams what it measured."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.voicefn_local.dashscope.chat_helpers import post_chat, script_header, sse_events, stats
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerHandle]:
    with run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic", data_dir=None))) as server:
        yield server


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (320, 200), fmt: str = "PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(out.getvalue()).decode()}"


def vl_body(image: str, question: str, stream: bool = True) -> dict:
    return {"model": "qwen-vl-plus", "stream": stream, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}},
                                                      {"type": "text", "text": question}]}]}


def streamed_text(response) -> tuple[str, dict]:
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    return text, next(e["usage"] for e in events[:-1] if e.get("usage"))


def test_english_question_gets_the_dominant_colour_size_and_orientation(emulator) -> None:
    response = post_chat(emulator, vl_body(picture((30, 60, 220)), "What colour is this picture?"))
    assert response.status_code == 200, response.text
    text, usage = streamed_text(response)
    assert "mostly blue" in text and "320 by 200 pixels" in text and "landscape" in text
    assert usage["completion_tokens"] > 5


def test_chinese_question_is_answered_in_chinese_and_jpeg_is_read(emulator) -> None:
    red_jpeg = picture((220, 30, 30), (100, 300), "JPEG")
    response = post_chat(emulator, vl_body(red_jpeg, "图片是什么颜色？", stream=False))
    assert response.status_code == 200, response.text
    text = response.json()["choices"][0]["message"]["content"]
    assert "红色" in text and "竖向" in text


def test_a_script_replaces_the_description_and_calls_are_counted(emulator) -> None:
    before = stats(emulator).get("vlm_calls", 0)
    response = post_chat(emulator, vl_body(picture((0, 200, 0)), "colour?"), headers=script_header(reply="Scripted."))
    assert streamed_text(response)[0] == "Scripted."
    assert stats(emulator)["vlm_calls"] == before + 1


def test_missing_or_broken_image_is_a_400(emulator) -> None:
    no_image = {"model": "qwen-vl-max", "messages": [{"role": "user", "content": "hi"}]}
    assert post_chat(emulator, no_image).status_code == 400
    broken = post_chat(emulator, vl_body("data:image/png;base64," + base64.b64encode(b"nope").decode(), "x"))
    assert broken.status_code == 400 and "image" in broken.json()["error"]["message"]


def test_faults_match_the_vlm_api(emulator) -> None:
    import httpx

    from tests.voicefn_local.dashscope.ds_helpers import admin

    rules = [{"match": {"api": "vlm"}, "fault": {"kind": "throttle", "times": 1}}]
    httpx.post(f"{emulator.base_url}/_admin/faults", json=rules, headers=admin(emulator)).raise_for_status()
    try:
        assert post_chat(emulator, vl_body(picture((0, 0, 0)), "colour?")).status_code == 429
        assert post_chat(emulator, vl_body(picture((0, 0, 0)), "colour?")).status_code == 200
    finally:
        httpx.delete(f"{emulator.base_url}/_admin/faults", headers=admin(emulator))
