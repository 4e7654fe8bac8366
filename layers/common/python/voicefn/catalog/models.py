"""TTS and ASR models, as seed 003 lists them, with the prices bills are computed from.

Prices are decimal strings and stay strings/Decimals: money never goes through float.
Currency: seed 003 labels its prices 元 but quotes DashScope's international (USD) list prices
(cosyvoice-v3-flash 0.14335 is the Intl $ price; Beijing is ¥1). We keep the seed's numbers and
take the other models' prices from the same (international) price list, so bills are consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class TtsModel:
    model_id: str
    model_name: str
    description: str
    price_per_10k_chars: str
    features: tuple[str, ...]
    family: str  # "cosyvoice" (seed 003's list) or "qwen-tts" (seed 000's model)

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_per_10k_chars)

    def to_public(self) -> dict[str, Any]:
        """Exactly seed 003 §1.2's fields."""
        return {
            "model_id": self.model_id,
            "model_name": self.model_name,
            "description": self.description,
            "price_per_10k_chars": self.price_per_10k_chars,
            "features": list(self.features),
        }


@dataclass(frozen=True)
class AsrModel:
    model_id: str
    model_name: str
    description: str
    call_type: str  # "sync" or "async"
    features: tuple[str, ...]
    price_per_second: str  # not in seed 003's list; what asr bills use

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_per_second)

    def to_public(self) -> dict[str, Any]:
        """Exactly seed 003 §2.0's fields."""
        return {
            "model_id": self.model_id,
            "model_name": self.model_name,
            "description": self.description,
            "call_type": self.call_type,
            "features": list(self.features),
        }


_TTS: tuple[TtsModel, ...] = (
    # seed 003 §1.2, verbatim
    TtsModel("cosyvoice-v3-flash", "CosyVoice V3 Flash", "平衡效果与成本,性价比高", "0.14335",
             ("快速合成", "支持SSML", "支持Instruct"), "cosyvoice"),
    TtsModel("cosyvoice-v3-plus", "CosyVoice V3 Plus", "最高质量,最佳表现力", "0.286706",
             ("高质量", "支持SSML", "支持Instruct"), "cosyvoice"),
    TtsModel("cosyvoice-v2", "CosyVoice V2", "兼容旧版,稳定可靠", "0.286706",
             ("稳定", "支持SSML"), "cosyvoice"),
    # seed 000's model. Price: DashScope international list price for qwen3-tts-flash,
    # $0.1 / 10k characters (secondary source: a DashScope price summary; the realtime variant
    # is $0.13, reference/dashscope_protocol.md §6).
    TtsModel("qwen3-tts-flash", "Qwen3 TTS Flash", "通义千问3语音合成,多语种多方言,低延迟", "0.1",
             ("多语种", "方言", "流式输出"), "qwen-tts"),
)

# Prices per second: reference/dashscope_protocol.md §6, international list ($0.000035/s for
# qwen3-asr-flash and its filetrans variant). qwen-audio-asr has no published price in our
# references: priced like qwen3-asr-flash [assumption, review before billing real money].
_ASR: tuple[AsrModel, ...] = (
    AsrModel("qwen3-asr-flash", "通义千问3-ASR-Flash", "快速识别,支持上下文增强", "sync",
             ("上下文增强", "情感识别", "多语种"), "0.000035"),
    AsrModel("qwen-audio-asr", "通义千问Audio ASR", "通用语音识别", "sync",
             ("通用识别", "多语种"), "0.000035"),
    AsrModel("qwen3-asr-flash-filetrans", "通义千问3-ASR-Flash-Filetrans", "长音频转写,支持多音轨", "async",
             ("长音频", "多音轨", "时间戳"), "0.000035"),
)

_TTS_BY_ID = {m.model_id: m for m in _TTS}
_ASR_BY_ID = {m.model_id: m for m in _ASR}

# OpenAI speech model names -> ours: the cheap model for tts-1, the best for the HD/newer ones.
OPENAI_TTS_MODEL_MAP: dict[str, str] = {
    "tts-1": "cosyvoice-v3-flash",
    "tts-1-hd": "cosyvoice-v3-plus",
    "gpt-4o-mini-tts": "cosyvoice-v3-plus",
}


def get_tts_model(model_id: str) -> TtsModel | None:
    return _TTS_BY_ID.get(model_id)


def tts_models(family: str | None = None) -> list[TtsModel]:
    """All TTS models, or one family's (``"cosyvoice"`` is seed 003's list)."""
    return [m for m in _TTS if family is None or m.family == family]


def get_asr_model(model_id: str) -> AsrModel | None:
    return _ASR_BY_ID.get(model_id)


def asr_models(call_type: str | None = None) -> list[AsrModel]:
    return [m for m in _ASR if call_type is None or m.call_type == call_type]


def resolve_openai_tts_model(name: str) -> str | None:
    """An OpenAI model name (``tts-1``...) or one of our model ids -> our model id; else None."""
    key = (name or "").strip()
    if key in _TTS_BY_ID:
        return key
    return OPENAI_TTS_MODEL_MAP.get(key.lower())


# -- chat models (issue 9) ---------------------------------------------------------------------

@dataclass(frozen=True)
class ChatModel:
    model_id: str
    description: str
    input_price_per_1m_tokens: str
    output_price_per_1m_tokens: str

    def price(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return (Decimal(self.input_price_per_1m_tokens) * prompt_tokens
                + Decimal(self.output_price_per_1m_tokens) * completion_tokens) / Decimal(1_000_000)


# Prices in USD per million tokens, like the TTS/ASR prices above taken from DashScope's
# international list (Model Studio "Models and pricing", Singapore region, non-thinking mode,
# the lowest context tier). Not in reference/: [secondary, review before billing real money].
_CHAT: tuple[ChatModel, ...] = (
    ChatModel("qwen-plus", "通义千问Plus: balanced quality, speed and cost", "0.4", "1.2"),
    ChatModel("qwen-turbo", "通义千问Turbo: fastest and cheapest", "0.05", "0.2"),
    ChatModel("qwen-max", "通义千问Max: the strongest Qwen 2.5 model", "1.6", "6.4"),
    ChatModel("qwen-flash", "通义千问Flash: low latency", "0.05", "0.4"),
    ChatModel("qwen3-max", "Qwen3 Max", "1.2", "6"),
    ChatModel("qwen3-235b-a22b", "Qwen3 235B-A22B (open weights)", "0.7", "2.8"),
    ChatModel("qwen3-235b-a22b-instruct-2507", "Qwen3 235B-A22B Instruct 2507 (seed 000's model)", "0.7", "2.8"),
    ChatModel("qwen3-32b", "Qwen3 32B (open weights)", "0.7", "2.8"),
    ChatModel("qwen3-30b-a3b", "Qwen3 30B-A3B (open weights)", "0.2", "0.8"),
    ChatModel("qwen3-14b", "Qwen3 14B (open weights)", "0.35", "1.4"),
    ChatModel("qwen3-8b", "Qwen3 8B (open weights)", "0.18", "0.7"),
    # vision (issue 10, /v1/chat/vlm): image parts in compatible mode
    ChatModel("qwen-vl-plus", "通义千问VL-Plus: images and text", "1.5", "4.5"),
    ChatModel("qwen-vl-max", "通义千问VL-Max: the strongest Qwen VL model", "3", "9"),
)
_CHAT_BY_ID = {m.model_id: m for m in _CHAT}


def get_chat_model(model_id: str) -> ChatModel | None:
    return _CHAT_BY_ID.get(model_id)


def chat_models() -> list[ChatModel]:
    return list(_CHAT)
