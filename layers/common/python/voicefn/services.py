"""The adapters of this process, built once per instance from settings (DESIGN.md §3).

Each adapter is created on first use, so a function that never touches Tablestore never imports
it: cold start pays only for what the request needs.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cached_property
from typing import TYPE_CHECKING

from voicefn.settings import Settings, get_settings

if TYPE_CHECKING:
    from voicefn.dashscope.client import DashScopeClient
    from voicefn.invoke.base import Invoker
    from voicefn.secrets import KeyVault
    from voicefn.storage.objects import ObjectStore
    from voicefn.storage.state import StateStore


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def master_key(self) -> bytes:
        from voicefn.secrets import load_master_key

        return load_master_key(self.settings)

    def derived_secret(self, purpose: str) -> bytes:
        """A per-purpose key derived from the master key (URL signing, job signing…)."""
        return hmac.new(self.master_key, purpose.encode(), hashlib.sha256).digest()

    @cached_property
    def vault(self) -> KeyVault:
        from voicefn.secrets import KeyVault

        return KeyVault(self.master_key)

    @cached_property
    def objects(self) -> ObjectStore:
        from voicefn.storage.factory import object_store_from_settings

        return object_store_from_settings(self.settings)

    @cached_property
    def state(self) -> StateStore:
        from voicefn.storage.factory import state_store_from_settings

        return state_store_from_settings(self.settings)

    @cached_property
    def invoker(self) -> Invoker:
        s = self.settings
        if s.invoker == "fc":
            from voicefn.invoke.fc import FcInvoker

            return FcInvoker.from_settings(s)
        from voicefn.invoke.inprocess import InProcessInvoker, server_loop
        from voicefn.jobs import handler_for

        # every function's declared jobs, registered once: no caller registers on submit
        return InProcessInvoker(resolve=handler_for, server_loop=server_loop)

    @cached_property
    def dashscope(self) -> DashScopeClient:
        from voicefn.dashscope.client import DashScopeClient

        return DashScopeClient.from_settings(self.settings)


_services: Services | None = None


def get_services() -> Services:
    global _services
    if _services is None:
        _services = Services(get_settings())
    return _services


def reset_services() -> None:
    """Forget every adapter (tests switch data dirs and settings)."""
    global _services
    _services = None
