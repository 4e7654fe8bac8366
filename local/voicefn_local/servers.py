"""Run an ASGI app on a real socket in a background thread (tests, benchmarks, `voicefn serve`).

Official SDKs (dashscope, openai, oss2) talk plain HTTP/WebSocket and cannot be pointed at an
in-process ASGI transport, so the apps they test against must listen on a real loopback port.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

_START_TIMEOUT_S = 15.0


class ServerHandle:
    """A uvicorn server running in a daemon thread; stop it with :meth:`stop` or ``with``."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int) -> None:
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_base_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def app(self) -> Any:
        """The ASGI app being served."""
        return self._server.config.app

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to shut down (runs lifespan shutdown) and wait for the thread."""
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            # Graceful shutdown waits on open connections (a stuck WebSocket); force it.
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerHandle({self.base_url}, running={self.running})"


def _bind(host: str, port: int) -> socket.socket:
    # Bind ourselves so port=0 yields the real port before uvicorn starts (no race, no guessing).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    # server.run makes a fresh event loop in this thread (the caller may be inside its own loop);
    # uvicorn skips signal handlers off the main thread.
    try:
        server.run(sockets=[sock])
    except SystemExit:
        pass  # uvicorn exits this way when lifespan startup fails; run_in_thread reports it
    finally:
        sock.close()


def run_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> ServerHandle:
    """Serve ``app`` with uvicorn (WebSockets on, lifespan on) until the handle is stopped.

    Returns once the server accepts connections. Extra keyword arguments go to
    :class:`uvicorn.Config` (e.g. ``ws_ping_interval``).
    """
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    options: dict[str, Any] = {"lifespan": "on", "log_level": "warning", "ws": "websockets-sansio"}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=_serve, args=(server, sock), name=f"uvicorn-{actual_port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server thread exited during startup (lifespan startup failed?)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"server on {host}:{actual_port} did not start in {_START_TIMEOUT_S}s")
        time.sleep(0.01)
    _wait_accepting(host, actual_port, deadline)
    return ServerHandle(server, thread, host, actual_port)


def _wait_accepting(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
