"""TtsService and long synthesis against a fake DashScope client: typed parameters reach the
client, the cache answers repeats, long text is synthesized in order under a bound."""

from __future__ import annotations

from voicefn.auth.principal import Principal
from voicefn.billing import billable_characters
from voicefn.dashscope.tts_ws_messages import CosyVoiceParams
from voicefn.services import Services
from voicefn.tts.long import synthesize_long
from voicefn.tts.params import TtsParams, VoiceSettings
from voicefn.tts.service import TtsService

from .conftest import FakeDashScope, frame

SETTINGS = VoiceSettings(model="cosyvoice-v3-flash", voice="longanyang", format="pcm", sample_rate=8000,
                         speech_rate=1.25, pitch_rate=0.75)


def test_voice_settings_map_to_dashscopes_names() -> None:
    assert SETTINGS.cosyvoice() == CosyVoiceParams(
        model="cosyvoice-v3-flash", voice="longanyang", format="pcm", sample_rate=8000, volume=50,
        rate=1.25, pitch=0.75, instruction=None, enable_ssml=False)
    params = SETTINGS.with_text("<speak>你好</speak>")
    assert params.cosyvoice().enable_ssml and not params.cosyvoice("plain").enable_ssml


def test_the_cache_key_is_the_same_flat_fields_as_before_the_split() -> None:
    import hashlib
    import json

    params = SETTINGS.with_text("你好")
    flat = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "你好", "format": "pcm",
            "sample_rate": 8000, "volume": 50, "speech_rate": 1.25, "pitch_rate": 0.75, "instruction": None}
    expected = "tts:" + hashlib.sha256(json.dumps(flat, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert params.cache_key("你好") == expected


async def test_synthesize_stores_bills_and_then_serves_from_the_cache(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    service = TtsService(services)
    first = await service.synthesize(principal, SETTINGS.with_text("你好。"))
    again = await service.synthesize(principal, SETTINGS.with_text("你好。"))
    assert fake_dashscope.bytes_calls == ["你好。"]
    assert first.characters == billable_characters("你好。") and float(first.bill) > 0
    assert again.cached and again.bill == "0" and again.object_key == first.object_key
    assert await services.objects.get(first.object_key) == b"".join(frame("你好。", k) for k in range(3))


async def test_long_text_is_split_synthesized_and_joined_in_order(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    text = "".join(f"第{i}句。" for i in range(30))
    progress: list[tuple[int, int]] = []

    async def on_progress(done: int, total: int) -> None:
        progress.append((done, total))

    result = await synthesize_long(services, principal, TtsParams(SETTINGS, text), "sk-platform",
                                   on_progress=on_progress, segment_chars=20)
    segments = fake_dashscope.bytes_calls
    assert "".join(segments) == text and len(segments) == result.result.segments > 1
    stored = await services.objects.get(result.result.object_key)
    assert stored == b"".join(frame(s, k) for s in segments for k in range(3))
    assert progress[-1] == (len(segments), len(segments))
