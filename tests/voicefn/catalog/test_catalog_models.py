"""Model catalog: seed 003's lists verbatim, prices, lookups and OpenAI aliases."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from voicefn.catalog import asr_models, get_asr_model, get_tts_model, resolve_openai_tts_model, tts_models

SEED_TTS = [
    {"model_id": "cosyvoice-v3-flash", "model_name": "CosyVoice V3 Flash", "description": "平衡效果与成本,性价比高",
     "price_per_10k_chars": "0.14335", "features": ["快速合成", "支持SSML", "支持Instruct"]},
    {"model_id": "cosyvoice-v3-plus", "model_name": "CosyVoice V3 Plus", "description": "最高质量,最佳表现力",
     "price_per_10k_chars": "0.286706", "features": ["高质量", "支持SSML", "支持Instruct"]},
    {"model_id": "cosyvoice-v2", "model_name": "CosyVoice V2", "description": "兼容旧版,稳定可靠",
     "price_per_10k_chars": "0.286706", "features": ["稳定", "支持SSML"]},
]
SEED_ASR = [
    {"model_id": "qwen3-asr-flash", "model_name": "通义千问3-ASR-Flash", "description": "快速识别,支持上下文增强",
     "call_type": "sync", "features": ["上下文增强", "情感识别", "多语种"]},
    {"model_id": "qwen-audio-asr", "model_name": "通义千问Audio ASR", "description": "通用语音识别",
     "call_type": "sync", "features": ["通用识别", "多语种"]},
    {"model_id": "qwen3-asr-flash-filetrans", "model_name": "通义千问3-ASR-Flash-Filetrans",
     "description": "长音频转写,支持多音轨", "call_type": "async", "features": ["长音频", "多音轨", "时间戳"]},
]


def test_seed_003_tts_list_is_the_cosyvoice_family_verbatim():
    assert [m.to_public() for m in tts_models(family="cosyvoice")] == SEED_TTS


def test_seed_000_model_is_known_but_not_in_the_seed_003_list():
    qwen = get_tts_model("qwen3-tts-flash")
    assert qwen is not None and qwen.family == "qwen-tts"
    assert qwen in tts_models() and qwen not in tts_models(family="cosyvoice")
    assert qwen.price == Decimal("0.1")


def test_seed_003_asr_list_verbatim_with_per_second_prices():
    assert [m.to_public() for m in asr_models()] == SEED_ASR
    assert [m.model_id for m in asr_models(call_type="async")] == ["qwen3-asr-flash-filetrans"]
    assert get_asr_model("qwen3-asr-flash").price == Decimal("0.000035")
    assert "price_per_second" not in get_asr_model("qwen3-asr-flash").to_public()


def test_prices_are_exact_decimals():
    for model in tts_models():
        assert isinstance(model.price, Decimal) and str(model.price) == model.price_per_10k_chars
    assert get_tts_model("cosyvoice-v3-flash").price == Decimal("0.14335")


def test_lookups_and_immutability():
    assert get_tts_model("nope") is None and get_asr_model("nope") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_tts_model("cosyvoice-v2").price_per_10k_chars = "0"


@pytest.mark.parametrize("name,expected", [
    ("tts-1", "cosyvoice-v3-flash"),
    ("TTS-1-HD", "cosyvoice-v3-plus"),
    ("gpt-4o-mini-tts", "cosyvoice-v3-plus"),
    ("cosyvoice-v2", "cosyvoice-v2"),
    ("qwen3-tts-flash", "qwen3-tts-flash"),
    ("whisper-1", None),
    ("", None),
])
def test_openai_model_aliases(name, expected):
    assert resolve_openai_tts_model(name) == expected
