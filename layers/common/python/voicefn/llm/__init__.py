"""OpenAI-compatible chat for the functions that talk (DESIGN §3a): DashScope's compatible mode
by default, on the user's own DashScope key, or any OpenAI-compatible endpoint from settings.

- :mod:`~voicefn.llm.target` decides where a request goes: base URL, key and upstream model;
- :mod:`~voicefn.llm.client` speaks the wire format (one JSON reply, or SSE deltas);
- :mod:`~voicefn.llm.errors` turns what the upstream said into OpenAI's error statuses.
"""

from __future__ import annotations

from voicefn.llm.client import ChatClient, LlmChunk, Usage
from voicefn.llm.target import ChatTarget, known_chat_models, resolve_target

__all__ = ["ChatClient", "ChatTarget", "LlmChunk", "Usage", "known_chat_models", "resolve_target"]
