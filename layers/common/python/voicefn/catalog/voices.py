"""System (preset) voices, the models each one works with, and OpenAI voice-name aliases.

``gender`` and ``primary_language`` ("zh", "en", "yue") are hints for the embedded local engine
(espeak-ng), which has no real voices: they choose its voice variant and language.

Sources, per voice (``source``):
- ``seed003``: seed 003 §4.1, every field verbatim.
- ``aliyun-doc``: voice id, name and trait confirmed in Alibaba Cloud's CosyVoice-V2 voice table
  (help.aliyun.com, "CosyVoice-V2音色": 龙橙 longcheng_v2 阳光男声, 龙华 longhua_v2 活泼女童,
  龙婉 longwan_v2 普通话女声, 龙小淳 longxiaochun_v2 温柔姐姐, 龙书 longshu_v2 新闻男声).
- ``doc-mirror``: ids seen only in third-party copies of DashScope's voice tables and in code
  that calls DashScope; not confirmed in an official page we could read.
- ``seed000``: seed 000's voice names for qwen3-tts-flash. Cherry (芊悦) and Eric (程川, Sichuan
  dialect) are in DashScope's Qwen-TTS voice list (names as copied by many DashScope clients);
  Amy, Wendy and Andy are seed 000's own names, not in that list, so they carry no invented traits.
Empty ``age`` means the source gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voicefn.catalog.models import tts_models

_V3 = ("cosyvoice-v3-flash", "cosyvoice-v3-plus")
_V2 = ("cosyvoice-v2",)
_QWEN = ("qwen3-tts-flash",)
_ZH_EN = ("中文(普通话)", "英文")


@dataclass(frozen=True)
class VoiceFeatures:
    ssml: bool
    instruct: bool
    timestamp: bool


@dataclass(frozen=True)
class SystemVoice:
    voice_id: str
    name: str
    trait: str
    age: str
    category: str
    languages: tuple[str, ...]
    models: tuple[str, ...]
    features: VoiceFeatures
    gender: str  # "female" | "male": engine hint
    primary_language: str  # "zh" | "en" | "yue": engine hint
    source: str

    def to_public(self) -> dict[str, Any]:
        """Exactly seed 003 §4.1's fields."""
        return {
            "voice_id": self.voice_id,
            "name": self.name,
            "trait": self.trait,
            "age": self.age,
            "category": self.category,
            "languages": list(self.languages),
            "models": list(self.models),
            "features": {"ssml": self.features.ssml, "instruct": self.features.instruct,
                         "timestamp": self.features.timestamp},
        }


def _v(voice_id: str, name: str, trait: str, age: str, category: str, languages: tuple[str, ...],
       models: tuple[str, ...], features: tuple[bool, bool, bool], gender: str, lang: str,
       source: str) -> SystemVoice:
    return SystemVoice(voice_id, name, trait, age, category, languages, models, VoiceFeatures(*features),
                       gender, lang, source)


_VOICES: tuple[SystemVoice, ...] = (
    # seed 003 §4.1
    _v("longanyang", "龙安洋", "阳光大男孩", "20~30岁", "社交陪伴", _ZH_EN, _V3, (True, True, False),
       "male", "zh", "seed003"),
    _v("longanhuan", "龙安欢", "欢脱元气女", "20~30岁", "社交陪伴", _ZH_EN, _V3, (True, True, False),
       "female", "zh", "seed003"),
    _v("longyingjing_v3", "龙应静", "低调冷静女", "20~30岁", "客服", _ZH_EN, _V3, (True, False, True),
       "female", "zh", "seed003"),
    # cosyvoice-v2: SSML and timestamps yes (doc table), no Instruct (a v3 feature)
    _v("longxiaochun_v2", "龙小淳", "温柔姐姐", "", "语音助手", _ZH_EN, _V2, (True, False, True),
       "female", "zh", "aliyun-doc"),
    _v("longwan_v2", "龙婉", "普通话女声", "", "语音助手", _ZH_EN, _V2, (True, False, True),
       "female", "zh", "aliyun-doc"),
    _v("longcheng_v2", "龙橙", "阳光男声", "", "客服", _ZH_EN, _V2, (True, False, True),
       "male", "zh", "aliyun-doc"),
    _v("longhua_v2", "龙华", "活泼女童", "", "童声", _ZH_EN, _V2, (True, False, True),
       "female", "zh", "aliyun-doc"),
    _v("longshu_v2", "龙书", "新闻男声", "", "有声书", _ZH_EN, _V2, (True, False, True),
       "male", "zh", "aliyun-doc"),
    # English- and Cantonese-leaning voices
    _v("loongabby_v2", "Abby", "美式英文女声", "", "出海营销", ("英文",), _V2, (True, False, True),
       "female", "en", "doc-mirror"),
    _v("loongabby_v3", "Abby", "美式英文女", "30~35岁", "出海营销", ("英文",), ("cosyvoice-v3-flash",),
       (True, False, False), "female", "en", "doc-mirror"),
    _v("loongandy_v3", "Andy", "美式英文男", "", "出海营销", ("英文",), ("cosyvoice-v3-flash",),
       (True, False, False), "male", "en", "doc-mirror"),
    _v("longjiayi_v3", "龙嘉怡", "知性粤语女", "25~30岁", "方言", ("中文(粤语)", "英文"), ("cosyvoice-v3-flash",),
       (True, False, False), "female", "yue", "doc-mirror"),
    # qwen3-tts-flash (seed 000); Cherry is its default
    _v("Cherry", "芊悦", "阳光积极、亲切自然小姐姐", "", "语音助手", _ZH_EN, _QWEN, (False, False, False),
       "female", "zh", "seed000"),
    _v("Amy", "Amy", "女声", "", "语音助手", _ZH_EN, _QWEN, (False, False, False), "female", "zh", "seed000"),
    _v("Wendy", "Wendy", "女声", "", "语音助手", _ZH_EN, _QWEN, (False, False, False), "female", "zh", "seed000"),
    _v("Eric", "程川", "四川话男声", "", "方言", ("中文(四川话)", "中文(普通话)", "英文"), _QWEN,
       (False, False, False), "male", "zh", "seed000"),
    _v("Andy", "Andy", "男声", "", "语音助手", _ZH_EN, _QWEN, (False, False, False), "male", "zh", "seed000"),
)

_BY_ID = {v.voice_id: v for v in _VOICES}

# The voice used when a request names none.
_DEFAULTS = {"cosyvoice-v3-flash": "longanyang", "cosyvoice-v3-plus": "longanyang",
             "cosyvoice-v2": "longxiaochun_v2", "qwen3-tts-flash": "Cherry"}

# OpenAI's voices by their (published) gender, onto seed 003 voices that speak both
# cosyvoice-v3 models, which is what tts-1 and tts-1-hd resolve to.
OPENAI_VOICE_MAP: dict[str, str] = {
    "alloy": "longyingjing_v3",
    "ash": "longanyang",
    "ballad": "longanyang",
    "coral": "longanhuan",
    "echo": "longanyang",
    "fable": "longanyang",
    "onyx": "longanyang",
    "nova": "longanhuan",
    "sage": "longyingjing_v3",
    "shimmer": "longanhuan",
    "verse": "longanyang",
}


def get_voice(voice_id: str) -> SystemVoice | None:
    return _BY_ID.get(voice_id)


def system_voices(model: str | None = None, category: str | None = None) -> list[SystemVoice]:
    """System voices in catalog order, optionally only those of one model and/or category."""
    return [v for v in _VOICES
            if (model is None or model in v.models) and (category is None or v.category == category)]


def cloned_voice_model(voice_id: str) -> str | None:
    """The target model a cloned voice id names: DashScope makes them ``<target_model>-<prefix>-<hash>``
    (seed 003 §3.1: ``cosyvoice-v3-plus-myvoice-xxxxxxxx``)."""
    ids = sorted((m.model_id for m in tts_models(family="cosyvoice")), key=len, reverse=True)
    return next((m for m in ids if voice_id.startswith(m + "-")), None)


def voice_supports_model(voice_id: str, model: str) -> bool:
    """A system voice listed for ``model``, or a cloned voice whose id names ``model``."""
    voice = _BY_ID.get(voice_id)
    if voice is not None:
        return model in voice.models
    return cloned_voice_model(voice_id) == model


def default_voice(model: str) -> str | None:
    return _DEFAULTS.get(model)


def resolve_openai_voice(name: str) -> str | None:
    """One of our voice ids as is, or an OpenAI voice name mapped by gender; else None."""
    key = (name or "").strip()
    if key in _BY_ID:
        return key
    return OPENAI_VOICE_MAP.get(key.lower())
