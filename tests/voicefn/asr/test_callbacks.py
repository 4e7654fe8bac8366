"""Finished-task callbacks: a signed POST a receiver can verify, pinned to a checked public
address; private addresses refused."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from fastapi import FastAPI, Request

from voicefn.asr import callbacks
from voicefn.services import Services
from voicefn.settings import Settings

PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def services(tmp_path) -> Services:
    return Services(Settings(data_dir=tmp_path, callback_secret="shared-with-the-receiver"))


@pytest.fixture
def receiver():
    """The customer's server, reached through the fetcher's transport seam (no public network
    here): it records each request and the address the connection was pinned to."""
    seen: list[tuple[str, dict, bytes]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict:
        seen.append((str(request.url), dict(request.headers), await request.body()))
        return {"ok": True}

    class Pinned(httpx.ASGITransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen_urls.append(str(request.url))  # where the connection really goes
            return await super().handle_async_request(request)

    seen_urls: list[str] = []
    transport = Pinned(app=app)
    transport.urls = seen_urls
    return transport, seen


def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_IP] if host == "hooks.example.com" else ["127.0.0.1"]


async def test_a_delivered_callback_verifies_with_the_shared_secret(services, receiver) -> None:
    transport, seen = receiver
    payload = {"task_id": "t-1", "task_status": "SUCCEEDED", "bill": "0.0001"}
    delivered = await callbacks.deliver_callback(services, "http://hooks.example.com/hook", payload,
                                                 resolver=public_resolver, transport=transport)
    assert delivered is True
    _, headers, body = seen[0]
    assert transport.urls == [f"http://{PUBLIC_IP}/hook"]  # pinned to the checked address
    assert headers["host"] == "hooks.example.com"
    assert json.loads(body) == payload
    stamp, signature = dict(part.split("=", 1) for part in headers["x-voicefn-signature"].split(",")).values()
    expected = hmac.new(b"shared-with-the-receiver", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://169.254.169.254/hook",
                                 "http://rebinds-to-loopback.example.com/hook"])
async def test_callbacks_to_private_addresses_are_not_sent(services, receiver, url) -> None:
    transport, seen = receiver
    assert await callbacks.deliver_callback(services, url, {"task_id": "t-2"},
                                            resolver=public_resolver, transport=transport) is False
    assert seen == []
