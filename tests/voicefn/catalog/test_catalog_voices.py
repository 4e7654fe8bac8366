"""Voice catalog: seed 003 §4.1 verbatim, model support, engine hints, OpenAI voice names."""

from __future__ import annotations

import pytest

from voicefn.catalog import (
    OPENAI_VOICE_MAP,
    default_voice,
    get_tts_model,
    get_voice,
    resolve_openai_voice,
    system_voices,
    voice_supports_model,
)
from voicefn.catalog.voices import cloned_voice_model

SEED_VOICES = [
    {"voice_id": "longanyang", "name": "龙安洋", "trait": "阳光大男孩", "age": "20~30岁", "category": "社交陪伴",
     "languages": ["中文(普通话)", "英文"], "models": ["cosyvoice-v3-flash", "cosyvoice-v3-plus"],
     "features": {"ssml": True, "instruct": True, "timestamp": False}},
    {"voice_id": "longanhuan", "name": "龙安欢", "trait": "欢脱元气女", "age": "20~30岁", "category": "社交陪伴",
     "languages": ["中文(普通话)", "英文"], "models": ["cosyvoice-v3-flash", "cosyvoice-v3-plus"],
     "features": {"ssml": True, "instruct": True, "timestamp": False}},
    {"voice_id": "longyingjing_v3", "name": "龙应静", "trait": "低调冷静女", "age": "20~30岁", "category": "客服",
     "languages": ["中文(普通话)", "英文"], "models": ["cosyvoice-v3-flash", "cosyvoice-v3-plus"],
     "features": {"ssml": True, "instruct": False, "timestamp": True}},
]


def test_seed_003_voices_verbatim_and_first():
    assert [v.to_public() for v in system_voices()[:3]] == SEED_VOICES
    assert set(SEED_VOICES[0]) == set(system_voices()[5].to_public())  # every voice has the same fields


def test_every_voice_is_complete_and_consistent():
    voices = system_voices()
    assert len({v.voice_id for v in voices}) == len(voices)
    for voice in voices:
        assert voice.gender in ("female", "male")
        assert voice.primary_language in ("zh", "en", "yue")
        assert voice.models and all(get_tts_model(m) is not None for m in voice.models)
        assert voice.name and voice.trait and voice.category and voice.languages
        assert voice.source in ("seed003", "aliyun-doc", "doc-mirror", "seed000")


def test_seed_000_qwen_voices():
    qwen = [v.voice_id for v in system_voices(model="qwen3-tts-flash")]
    assert qwen == ["Cherry", "Amy", "Wendy", "Eric", "Andy"]
    assert default_voice("qwen3-tts-flash") == "Cherry"
    assert [get_voice(v).gender for v in qwen] == ["female", "female", "female", "male", "male"]


def test_there_are_english_and_cantonese_voices_for_the_engine():
    assert any(v.primary_language == "en" for v in system_voices(model="cosyvoice-v2"))
    assert any(v.primary_language == "yue" for v in system_voices())


def test_filters():
    v2 = system_voices(model="cosyvoice-v2")
    assert {"longxiaochun_v2", "longwan_v2", "longcheng_v2", "longhua_v2"} <= {v.voice_id for v in v2}
    assert all("cosyvoice-v2" in v.models for v in v2)
    service = system_voices(category="客服")
    assert "longyingjing_v3" in [v.voice_id for v in service] and all(v.category == "客服" for v in service)
    assert [v.voice_id for v in system_voices(model="cosyvoice-v3-plus", category="社交陪伴")] == [
        "longanyang", "longanhuan"]
    assert system_voices(model="no-such-model") == []


def test_voice_supports_model():
    assert voice_supports_model("longanyang", "cosyvoice-v3-plus")
    assert not voice_supports_model("longanyang", "cosyvoice-v2")
    assert not voice_supports_model("Cherry", "cosyvoice-v3-flash")
    # cloned voices carry their target model in their id (DashScope's naming)
    assert voice_supports_model("cosyvoice-v3-plus-myvoice-0a1b2c3d", "cosyvoice-v3-plus")
    assert not voice_supports_model("cosyvoice-v3-plus-myvoice-0a1b2c3d", "cosyvoice-v3-flash")
    assert cloned_voice_model("cosyvoice-v2-abc-123") == "cosyvoice-v2"
    assert cloned_voice_model("unknown") is None
    assert not voice_supports_model("nobody", "cosyvoice-v2")


def test_defaults_speak_their_model():
    for model in ("cosyvoice-v3-flash", "cosyvoice-v3-plus", "cosyvoice-v2", "qwen3-tts-flash"):
        assert voice_supports_model(default_voice(model), model)
    assert default_voice("nope") is None


FEMALE = {"alloy", "coral", "nova", "sage", "shimmer"}


@pytest.mark.parametrize("name", sorted(OPENAI_VOICE_MAP))
def test_openai_voices_map_by_gender_to_voices_of_the_openai_models(name):
    voice = get_voice(resolve_openai_voice(name))
    assert voice.gender == ("female" if name in FEMALE else "male")
    assert "cosyvoice-v3-flash" in voice.models and "cosyvoice-v3-plus" in voice.models


def test_resolve_openai_voice():
    assert set(OPENAI_VOICE_MAP) == {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova",
                                     "sage", "shimmer", "verse"}
    assert resolve_openai_voice("Nova") == "longanhuan"
    assert resolve_openai_voice("longwan_v2") == "longwan_v2"  # our own ids pass through
    assert resolve_openai_voice("Cherry") == "Cherry"
    assert resolve_openai_voice("marin") is None and resolve_openai_voice("") is None
