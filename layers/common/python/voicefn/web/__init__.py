"""The HTTP/WebSocket shell every function shares: app factory, middlewares, FC entries.

Names are loaded on first use so that ``import voicefn.web.fc_event`` (an OSS-only handler)
does not pay for FastAPI until an HTTP event actually arrives.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "build_app": "voicefn.web.app",
    "ok": "voicefn.web.responses",
    "error_response": "voicefn.web.responses",
    "current_principal": "voicefn.web.deps",
    "principal_from_websocket": "voicefn.web.deps",
    "make_event_handler": "voicefn.web.fc_event",
    "serve": "voicefn.web.server",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'voicefn.web' has no attribute {name!r}")
    return getattr(import_module(module), name)
