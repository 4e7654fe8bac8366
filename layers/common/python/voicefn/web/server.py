"""Web-function entry (FC custom runtime): uvicorn on 0.0.0.0:$FC_CUSTOM_LISTEN_PORT (9000).

``python -m voicefn.web.server voicefn_tts.app:create_app``. Streaming, SSE and WebSocket routes
need this: FC event functions cannot stream.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from voicefn.logging import configure_logging
from voicefn.services import Services, set_services
from voicefn.settings import load_settings

__all__ = ["serve", "main", "listen_port"]

DEFAULT_PORT = 9000


def listen_port() -> int:
    """FC's ``FC_CUSTOM_LISTEN_PORT`` (read by the settings module), else 9000."""
    return load_settings().listen_port


def serve(app_factory_path: str, *, host: str = "0.0.0.0", port: int | None = None,
          health_first: bool | None = None) -> None:
    """Run ``module:factory`` under uvicorn until stopped. FC requires 0.0.0.0 (127.0.0.1 fails).

    ``health_first`` (default: ``VOICEFN_HEALTH_FIRST``, which s.yaml sets): listen at once and
    answer ``GET /health`` while the app is imported and built in a worker thread
    (:mod:`voicefn.web.deferred`); other requests wait for it (issue 13).
    """
    import uvicorn

    # read and checked once, here: a bad setting stops the instance before it listens; the
    # factory's app gets these Services (get_services() returns them)
    settings = load_settings()
    set_services(Services(settings))
    configure_logging(settings.log_level)
    if health_first is None:
        health_first = settings.health_first
    app: Any = app_factory_path
    if health_first:
        from voicefn.web.deferred import DeferredApp

        app = DeferredApp(lambda: _build(app_factory_path))
    uvicorn.run(
        app,
        factory=not health_first,
        host=host,
        port=port if port is not None else settings.listen_port,
        proxy_headers=True,
        forwarded_allow_ips="*",  # only FC's front end can reach the instance port
        access_log=False,         # RequestIdMiddleware writes one JSON line per request
        log_config=None,          # keep our JSON handler instead of uvicorn's formatters
        # websockets' sans-I/O protocol: the legacy one (ws="websockets") is deprecated in both
        # uvicorn and websockets and warns at every cold start
        ws="websockets-sansio",
        lifespan="auto",
        timeout_graceful_shutdown=5,
    )


def _build(app_factory_path: str) -> Any:
    """``module:factory``, imported and called (in the deferred app's worker thread)."""
    module_name, _, attr = app_factory_path.partition(":")
    return getattr(importlib.import_module(module_name), attr)()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m voicefn.web.server",
                                     description="Serve a voicefn function's ASGI app (FC web function).")
    parser.add_argument("factory", help="app factory as module:callable, e.g. voicefn_tts.app:create_app")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=None, help="default: $FC_CUSTOM_LISTEN_PORT or 9000")
    parser.add_argument("--health-first", action="store_true", default=None,
                        help="answer GET /health while the app is still being imported and built "
                             "(default: $VOICEFN_HEALTH_FIRST)")
    args = parser.parse_args(argv)
    if ":" not in args.factory:
        parser.error("factory must look like module:callable")
    serve(args.factory, host=args.host, port=args.port, health_first=args.health_first)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
