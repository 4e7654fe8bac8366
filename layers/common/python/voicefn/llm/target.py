"""Where a chat request goes: which base URL, which key, which upstream model name.

By default DashScope's compatible mode (``Settings.dashscope_compat_url``) with the key every
DashScope call of this user runs on (:func:`voicefn.apikeys.resolve_api_key`); with
``VOICEFN_LLM_BASE_URL`` any OpenAI-compatible endpoint and ``VOICEFN_LLM_API_KEY``. The names a
client may ask for are the catalog's chat models plus the keys of ``VOICEFN_LLM_MODEL_MAP``,
which also renames models for the upstream (``gpt-4o=qwen-plus``,
``qwen-plus=Qwen/Qwen3-235B-A22B-Instruct-2507``). Anything else is a 404, before any call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voicefn.apikeys import resolve_api_key
from voicefn.auth.principal import Principal
from voicefn.catalog.models import chat_models
from voicefn.llm.errors import model_not_found
from voicefn.services import Services
from voicefn.settings import Settings


@dataclass(frozen=True)
class ChatTarget:
    base_url: str
    api_key: str = field(repr=False)
    model: str  # the upstream's name for it
    requested: str  # the client's name, echoed back in responses and bills


def known_chat_models(settings: Settings) -> list[str]:
    """The model names clients may use, catalog first."""
    names = [m.model_id for m in chat_models()]
    return names + [name for name in settings.llm_model_map if name not in names]


def check_model(settings: Settings, model: str) -> str:
    """The upstream model name for ``model``, or 404 model_not_found."""
    if model in settings.llm_model_map:
        return settings.llm_model_map[model]
    if model in known_chat_models(settings):
        return model
    raise model_not_found(model)


async def resolve_target(principal: Principal, services: Services, model: str) -> ChatTarget:
    """Check the model, then find the endpoint and key (403 NO_API_KEY if there is none)."""
    s = services.settings
    upstream = check_model(s, model)
    if s.llm_base_url:
        return ChatTarget(s.llm_base_url, s.llm_api_key or "", upstream, model)
    return ChatTarget(s.dashscope_compat_url, await resolve_api_key(principal, services), upstream, model)
