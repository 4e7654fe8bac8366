"""voicefn's CosyVoice messages equal what the official SDK 2.0.2 sent (the recorded capture).

Every run-task / continue-task / finish-task the SDK sent to a fake is rebuilt by the builders and
replayed through CosyVoiceSession; comparisons use the serialised JSON, so key order counts too.
(test_ds_tts_ws_sdk_builder.py compares with the SDK's own builder, byte for byte.)
"""

from __future__ import annotations

import json
from typing import Any

from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.tts_ws import (
    CosyVoiceSession,
    build_continue_task,
    build_finish_task,
    build_run_task,
)


def inputs_of(run_task: dict) -> dict[str, Any]:
    """The builder arguments that reproduce a captured run-task."""
    p = run_task["payload"]["parameters"]
    known = {"voice", "volume", "text_type", "sample_rate", "rate", "format", "pitch", "seed",
             "type", "enable_ssml", "instruction", "language_hints", "bit_rate"}
    return dict(model=run_task["payload"]["model"], voice=p["voice"], format=p["format"],
                sample_rate=p["sample_rate"], volume=p["volume"], rate=p["rate"],
                pitch=p["pitch"], instruction=p.get("instruction"),
                language_hints=p.get("language_hints"), enable_ssml=p.get("enable_ssml", False),
                bit_rate=p.get("bit_rate"),
                extra={k: v for k, v in p.items() if k not in known} or None)


def same(ours: dict, theirs: dict) -> None:
    assert json.dumps(ours, ensure_ascii=False) == json.dumps(theirs, ensure_ascii=False)


def test_builders_rebuild_every_captured_frame(captured_ws: dict) -> None:
    frames = captured_ws["frames"]
    run = frames[0]
    assert run["header"]["action"] == "run-task"
    task_id = run["header"]["task_id"]
    same(build_run_task(task_id, **inputs_of(run)), run)
    for frame in frames[1:]:
        action = frame["header"]["action"]
        if action == "continue-task":
            rebuilt = build_continue_task(task_id, frame["payload"]["model"],
                                          frame["payload"]["input"]["text"])
        else:
            assert action == "finish-task"
            cancel = frame["payload"]["input"].get("directive") == "cancel"
            rebuilt = build_finish_task(task_id, cancel=cancel)
        same(rebuilt, frame)


def without_task_id(frame: dict) -> dict:
    return {**frame, "header": {**frame["header"], "task_id": "-"}}


async def test_session_sends_what_the_sdk_sent(cosyvoice, captured_ws: dict) -> None:
    """Replay each captured SDK session through CosyVoiceSession: same frames reach the server."""
    frames = captured_ws["frames"]
    texts = [f["payload"]["input"]["text"] for f in frames
             if f["header"]["action"] == "continue-task"]
    inputs = inputs_of(frames[0])
    try:
        async with CosyVoiceSession(cosyvoice.url, "sk-test", **inputs, connect_timeout_s=2.0,
                                    idle_timeout_s=2.0) as s:
            for text in texts:
                await s.send_text(text)
            await s.finish()
            [chunk async for chunk in s.audio()]
    except UpstreamError as e:
        assert inputs["voice"] == "fail" and e.code == "InvalidParameter"  # as the SDK saw it
    ours = [without_task_id(m) for m in cosyvoice.messages()]
    theirs = [without_task_id(f) for f in frames]
    assert [json.dumps(m, ensure_ascii=False) for m in ours] == \
        [json.dumps(m, ensure_ascii=False) for m in theirs]
    assert len({m["header"]["task_id"] for m in cosyvoice.messages()}) == 1


async def test_handshake_carries_bearer_and_our_user_agent(cosyvoice, capture) -> None:
    sdk_headers = next(r["headers"] for r in capture if r["kind"] == "ws-open")
    async with CosyVoiceSession(cosyvoice.url, "sk-test", model="cosyvoice-v3-flash",
                                voice="longanyang", format="mp3", sample_rate=22050) as s:
        await s.finish()
        [c async for c in s.audio()]
    ours = cosyvoice.handshakes[-1]
    assert ours["Authorization"] == sdk_headers["Authorization"] == "Bearer sk-test"
    assert ours["User-Agent"].startswith("voicefn/")
    assert sdk_headers["User-Agent"].startswith("dashscope/")
    # No extension the SDK does not offer (permessage-deflate would only cost CPU on audio).
    assert "Sec-WebSocket-Extensions" not in ours
