"""A loopback "internet" for the URL guard's tests: no DNS, no network beyond 127.0.0.1.

- ``origin``: a real HTTP/1.1 server on 127.0.0.1 whose routes each test sets (status, headers,
  body, chunked, stall), recording every request it receives (target and headers).
- ``internet``: an ``httpx`` transport for ``safe_fetch``'s connection seam. It plays the public
  internet: a request addressed to a "public" IP the test registered is delivered to the origin
  server (Host header untouched); a request to 127.0.0.1 goes to the origin as is (so a guard that
  let it through would show up in ``origin.requests``); anything else cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False      # no Content-Length: the body comes in chunks
    stall: bool = False        # never answer
    drip_s: float = 0.0        # pause between body chunks


@dataclass
class Origin:
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _tasks: set[asyncio.Task] = field(default_factory=set)

    @property
    def paths(self) -> list[str]:
        return [target.split("?", 1)[0] for target, _ in self.requests]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            line = (await reader.readline()).decode("latin-1").strip()
            if not line:
                return
            _method, target, _version = line.split(" ", 2)
            headers: dict[str, str] = {}
            while (raw := (await reader.readline()).decode("latin-1").strip()):
                name, _, value = raw.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.requests.append((target, headers))
            route = self.routes.get(target.split("?", 1)[0], Route(404, b"not found"))
            if route.stall:
                await asyncio.sleep(60)
                return
            head = [f"HTTP/1.1 {route.status} X", "Connection: close", *(
                f"{k}: {v}" for k, v in route.headers)]
            head.append("Transfer-Encoding: chunked" if route.chunked
                        else f"Content-Length: {len(route.body)}")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            if route.chunked:
                for i in range(0, len(route.body), 4096):
                    piece = route.body[i:i + 4096]
                    writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    await writer.drain()
                    if route.drip_s:
                        await asyncio.sleep(route.drip_s)
                writer.write(b"0\r\n\r\n")
            else:
                writer.write(route.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Internet(httpx.AsyncBaseTransport):
    """The connection seam: delivers requests for registered public IPs to the origin."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.hosts: dict[str, int] = {}          # public IP -> origin port
        self.unreachable: set[str] = set()       # public IPs that refuse connections
        self.seen: list[str] = []                # every request URL, as addressed by safe_fetch
        self._inner = httpx.AsyncHTTPTransport(retries=0)

    def add(self, ip: str) -> None:
        self.hosts[ip] = self.origin.port

    @property
    def dialed(self) -> list[str]:
        return [httpx.URL(url).host for url in self.seen]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        host = request.url.host
        if host in self.unreachable:
            raise httpx.ConnectError(f"{host} refused the connection", request=request)
        if host in self.hosts:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.hosts[host])
        elif host != "127.0.0.1":
            raise httpx.ConnectError(f"{host} is not reachable in this test", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server_origin = Origin()
    server = await asyncio.start_server(server_origin.handle, "127.0.0.1", 0)
    server_origin.port = server.sockets[0].getsockname()[1]
    try:
        yield server_origin
    finally:
        server.close()
        await server_origin.stop()
        await server.wait_closed()


@pytest.fixture
async def internet(origin: Origin) -> AsyncIterator[Internet]:
    net = Internet(origin)
    try:
        yield net
    finally:
        await net.aclose()


@pytest.fixture
def route() -> type[Route]:
    """The Route class, for tests to build routes with (fixtures, not imports: any import mode)."""
    return Route
