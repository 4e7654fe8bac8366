"""The adapters of this process, built once per instance from settings (DESIGN.md §3, §3a).

The FC entry (``voicefn.web.fc_event``), the web-function server and the local runtime each build
one :class:`Services` at startup and hand it to the apps they serve (``app.state.services``,
reached in routes through ``voicefn.web.deps.ServicesDep``). Code that runs outside a request
(jobs, OSS events) calls :func:`get_services`: the Services bound to the current context (the
local runtime binds its own per request, and tasks started there inherit it), else the one this
instance installed with :func:`set_services`, else one built from the environment on first use.

Each adapter is created on first use, so a function that never touches Tablestore never imports
it: cold start pays only for what the request needs. Tests pass their own adapters to the
constructor instead of steering the factories through environment variables.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cached_property
from typing import TYPE_CHECKING

from voicefn.settings import Settings, get_settings

if TYPE_CHECKING:
    from voicefn.dashscope.client import DashScopeClient
    from voicefn.invoke.base import Invoker
    from voicefn.llm.client import ChatClient
    from voicefn.secrets import KeyVault
    from voicefn.storage.objects import ObjectStore
    from voicefn.storage.state import StateStore

__all__ = ["Services", "get_services", "set_services", "reset_services", "bind_services",
           "unbind_services", "using_services"]


class Services:
    """One instance's adapters. Pass ``objects=``, ``state=``… to use given ones (tests)."""

    def __init__(self, settings: Settings, *, objects: ObjectStore | None = None,
                 state: StateStore | None = None, invoker: Invoker | None = None,
                 dashscope: DashScopeClient | None = None) -> None:
        self.settings = settings
        # cached_property keeps its value in the instance dict: a given adapter is simply pre-set
        for name, given in (("objects", objects), ("state", state), ("invoker", invoker),
                            ("dashscope", dashscope)):
            if given is not None:
                self.__dict__[name] = given

    def __repr__(self) -> str:
        built = sorted(k for k in ("objects", "state", "invoker", "dashscope", "vault") if k in self.__dict__)
        return f"Services(runtime={self.settings.runtime!r}, data_dir={str(self.settings.data_dir)!r}, built={built})"

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

    @cached_property
    def llm(self) -> ChatClient:
        """The OpenAI-compatible chat client (issue 9); where each call goes is per request."""
        from voicefn.llm.client import ChatClient

        return ChatClient(timeout_s=self.settings.llm_timeout_s)


_bound: ContextVar[Services | None] = ContextVar("voicefn_services", default=None)
_instance: Services | None = None


def get_services() -> Services:
    """This context's Services: the bound one, else the instance's (built on first use)."""
    bound = _bound.get()
    if bound is not None:
        return bound
    global _instance
    if _instance is None:
        _instance = Services(get_settings())
    return _instance


def set_services(services: Services | None) -> None:
    """Make ``services`` this instance's Services (the FC entry and the local runtime call it)."""
    global _instance
    _instance = services


def reset_services() -> None:
    """Forget the instance's Services (tests switch data dirs and settings)."""
    set_services(None)


def bind_services(services: Services) -> Token[Services | None]:
    """Bind ``services`` to the current context (and tasks started from it) until unbound."""
    return _bound.set(services)


def unbind_services(token: Token[Services | None]) -> None:
    _bound.reset(token)


@contextmanager
def using_services(services: Services) -> Iterator[Services]:
    """``with using_services(s):`` code inside (and tasks it starts) sees ``s`` in get_services()."""
    token = bind_services(services)
    try:
        yield services
    finally:
        unbind_services(token)
