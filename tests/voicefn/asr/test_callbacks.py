"""Finished-task callbacks: a signed POST a receiver can verify; private addresses refused."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from fastapi import FastAPI, Request

from voicefn.asr import callbacks
from voicefn.services import Services
from voicefn.settings import Settings
from voicefn_local.servers import run_in_thread


@pytest.fixture
def services(tmp_path) -> Services:
    return Services(Settings(data_dir=tmp_path, callback_secret="shared-with-the-receiver"))


@pytest.fixture
def receiver():
    seen: list[tuple[dict, bytes]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict:
        seen.append((dict(request.headers), await request.body()))
        return {"ok": True}

    with run_in_thread(app) as handle:
        yield handle.base_url + "/hook", seen


async def test_a_delivered_callback_verifies_with_the_shared_secret(services, receiver, monkeypatch) -> None:
    url, seen = receiver
    # the receiver runs on loopback, which the guard refuses: let this one test through
    monkeypatch.setattr("voicefn.net.ssrf.check_public_url", lambda url, **kw: None)
    payload = {"task_id": "t-1", "task_status": "SUCCEEDED", "bill": "0.0001"}
    assert await callbacks.deliver_callback(services, url, payload) is True
    headers, body = seen[0]
    assert json.loads(body) == payload
    stamp, signature = dict(part.split("=", 1) for part in headers["x-voicefn-signature"].split(",")).values()
    expected = hmac.new(b"shared-with-the-receiver", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)


async def test_callbacks_to_private_addresses_are_not_sent(services, receiver) -> None:
    url, seen = receiver
    assert await callbacks.deliver_callback(services, url, {"task_id": "t-2"}) is False
    assert seen == []
