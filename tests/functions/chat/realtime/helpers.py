"""A plain WebSocket client for seed 002's sockets (the ``websockets`` library, not voicefn's code)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.stack import Stack

PACKET = 8 * 1024


def open_socket(stack: Stack, path: str, user: str | None, *, header: bool = False,
                receive_buffer: int | None = None) -> ClientConnection:
    """``receive_buffer``: a small fixed kernel buffer (no autotuning up to tens of MB), so a
    stalled reader is felt by the server at once, as over a real network."""
    url = f"{stack.ws_url}{path}"
    sock = None
    if receive_buffer is not None:
        host, port = stack.ws_url.split("//", 1)[1].split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect((host, int(port)))
    headers = {}
    if user is not None and header:
        headers["Authorization"] = f"Bearer {stack.token(user)}"
    elif user is not None:
        url += f"?token={stack.token(user)}"
    return connect(url, open_timeout=10, additional_headers=headers, max_size=None, sock=sock, max_queue=4)


def packets(data: bytes, size: int = PACKET, **extra: Any) -> list[dict[str, Any]]:
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return [{"seq": n, "total": len(pieces), **extra, "data": base64.b64encode(p).decode()}
            for n, p in enumerate(pieces, 1)]


def recv(ws: ClientConnection, timeout: float = 30) -> tuple[str, dict[str, Any]]:
    message = json.loads(ws.recv(timeout=timeout))
    assert isinstance(message, dict) and len(message) == 1, message
    (name, data), = message.items()
    return name, data


def send_all(ws: ClientConnection, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send each packet and read its ack."""
    acks = []
    for item in items:
        ws.send(json.dumps(item))
        name, data = recv(ws)
        assert name == "packet_ack", (name, data)
        acks.append(data)
    return acks


def until(ws: ClientConnection, last: str, timeout: float = 60) -> list[tuple[str, dict[str, Any]]]:
    """Every event up to and including ``last``."""
    events = []
    while True:
        events.append(recv(ws, timeout))
        if events[-1][0] == last:
            return events
        assert events[-1][0] != "error", events[-1]


def audio_of(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(base64.b64decode(d["data"]) for n, d in events if n == "audio_stream" and d["event"] == "data")


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Event names with runs of repeats collapsed (chat_chunk…, audio_stream data…)."""
    out: list[str] = []
    for name, data in events:
        label = f"{name}:{data['event']}" if name == "audio_stream" else name
        if not out or out[-1] != label:
            out.append(label)
    return out
