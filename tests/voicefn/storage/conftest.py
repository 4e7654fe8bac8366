"""Servers the storage contract suites run against: moto (S3, spoken to by oss2) and the
wire-level fake Tablestore. Both listen on 127.0.0.1 only and live for the whole session."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest


def _load_fake() -> Any:
    """Import ots_wire_fake.py by path: works under any pytest import mode."""
    name = "voicefn_tests_ots_wire_fake"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("ots_wire_fake.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server (oss2 uses path-style URLs for an IP)."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ots_server() -> Iterator[Any]:
    """A FakeTablestoreServer; ``.client()`` gives a real OTSClient pointed at it."""
    # a tiny range page so every scan must follow next_start_primary_key, as with big tables
    server = _load_fake().FakeTablestoreServer(max_rows_per_range=3).start()
    try:
        yield server
    finally:
        server.stop()
