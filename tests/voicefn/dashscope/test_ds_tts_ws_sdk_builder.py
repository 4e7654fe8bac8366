"""voicefn's CosyVoice frames, byte for byte against SDK 2.0.2's own message builder.

The capture (test_ds_tts_ws_conformance.py) covers what the SDK was recorded sending; this covers
combinations it lacks (opus bit rates, language_hints, extra parameters) by asking the SDK's
``tts_v2.Request`` directly. The SDK is a dev dependency (pinned dashscope==2.0.2), never shipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from voicefn.dashscope.tts_ws import build_continue_task, build_finish_task, build_run_task
from voicefn.dashscope.tts_ws_messages import encode

sdk_tts = pytest.importorskip("dashscope.audio.tts_v2.speech_synthesizer",
                              reason="the dev extra pins dashscope==2.0.2")

GRID = [
    dict(format="pcm", sample_rate=22050),
    dict(format="Default", sample_rate=0),
    dict(format="opus", sample_rate=48000, bit_rate=64),
    dict(format="opus", sample_rate=16000, bit_rate=16),
    dict(format="mp3", sample_rate=24000, instruction="请用广东话表达。"),
    dict(format="wav", sample_rate=16000, language_hints=["en"]),
    dict(format="wav", sample_rate=16000, enable_ssml=True, instruction="快一点",
         language_hints=["zh"]),
    dict(format="opus", sample_rate=24000, bit_rate=32, enable_ssml=True,
         extra={"word_timestamp_enabled": True, "hot_fix": {"replace": [{"a": "b"}]}}),
    dict(format="pcm", sample_rate=8000, volume=80, rate=1.5, pitch=0.8, extra={"seed": 7}),
]


@pytest.mark.parametrize("options", GRID, ids=lambda o: "-".join(map(str, o.values()))[:40])
def test_run_task_is_byte_identical_to_the_sdks(options: dict[str, Any]) -> None:
    """The text frame itself, byte for byte, against SDK 2.0.2's Request builder."""
    o = {"volume": 50, "rate": 1.0, "pitch": 1.0, **options}
    request = sdk_tts.Request(apikey="k", model="cosyvoice-v3-plus", voice="longanyang",
                              format=o["format"], sample_rate=o["sample_rate"],
                              bit_rate=o.get("bit_rate", 0), volume=o["volume"],
                              speech_rate=o["rate"], pitch_rate=o["pitch"],
                              instruction=o.get("instruction"),
                              language_hints=o.get("language_hints"))
    # SpeechSynthesizer.call() appends enable_ssml to additional_params, as our builder does.
    additional = dict(o.get("extra") or {})
    if o.get("enable_ssml"):
        additional["enable_ssml"] = True
    theirs = request.get_start_request(additional or None)
    ours = encode(build_run_task(request.task_id, model="cosyvoice-v3-plus", voice="longanyang",
                                 format=o["format"], sample_rate=o["sample_rate"],
                                 volume=o["volume"], rate=o["rate"], pitch=o["pitch"],
                                 instruction=o.get("instruction"),
                                 language_hints=o.get("language_hints"),
                                 enable_ssml=o.get("enable_ssml", False),
                                 bit_rate=o.get("bit_rate"), extra=o.get("extra")))
    assert ours == theirs
    assert encode(build_continue_task(request.task_id, "cosyvoice-v3-plus", "你好。")) == \
        request.get_continue_request("你好。")
    assert encode(build_finish_task(request.task_id)) == request.get_finish_request()
    assert encode(build_finish_task(request.task_id, cancel=True)) == \
        request.get_finish_request(directive="cancel")
