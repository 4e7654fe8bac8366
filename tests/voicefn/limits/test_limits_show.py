"""Issue 12's "Show" tests: a burst against a rate limit, and a spend cap held under concurrency
(one process, then two ``voicefn serve`` processes on one data dir)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.stack import ServeProcess, Stack

pytestmark = pytest.mark.usefixtures("no_faults")

SYNTH = "/api/audio/tts/synthesize"


def _user(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _body(i: int, text: str = "限流测试第{}句。") -> dict[str, object]:
    return {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text.format(i), "format": "wav"}


def _history_bills(client: httpx.Client) -> list[Decimal]:
    items = client.get("/api/audio/history", params={"type": "tts", "page_size": 100}).json()["data"]["items"]
    return [Decimal(item["bill"]) for item in items]


def test_a_burst_of_200_against_60_per_minute(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (60, 60)})
    flooder, bystander = _user("flood"), _user("bystander")
    with stack.client(flooder) as client, ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        responses = list(pool.map(lambda i: client.post(SYNTH, json=_body(i)), range(200)))
        elapsed = time.monotonic() - started
        bills = _history_bills(client)
        usage = client.get("/api/audio/usage").json()["data"]
    admitted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(admitted) + len(refused) == 200
    # a bucket of 60 refilling one per second: 60 at once, plus what came back while the burst ran
    assert 60 <= len(admitted) <= 60 + int(elapsed) + 1, (len(admitted), elapsed)
    for r in refused:
        assert r.json()["error"] == "RATE_LIMITED" and r.json()["code"] == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert "60 tts requests per minute" in r.json()["message"]
    # nothing billed for the refused: one history record per admitted call, and the ledger agrees
    assert len(bills) == len(admitted)
    assert sum(Decimal(r.json()["data"]["bill"]) for r in admitted) == sum(bills)
    assert Decimal(usage["today"]["spent"]) == sum(bills) and usage["today"]["in_flight"] == "0"
    assert usage["rate_limits"]["tts"]["remaining"] <= 1
    with stack.client(bystander) as other:
        assert other.post(SYNTH, json=_body(0)).status_code == 200  # another user is unaffected
        assert other.get("/api/audio/usage").json()["data"]["rate_limits"]["tts"]["remaining"] == 59


def _until_refused(client: httpx.Client, prefix: str, limit: int = 60) -> tuple[list[httpx.Response], httpx.Response]:
    admitted = []
    for i in range(limit):
        r = client.post(SYNTH, json=_body(i, prefix + "{}号句子,用来测试每日的花费上限是否生效。"))
        if r.status_code != 200:
            return admitted, r
        admitted.append(r)
    raise AssertionError("never refused")


def test_a_spend_cap_of_one_cent(stack: Stack, settings_override) -> None:
    settings_override(spend_cap_daily="0.01")
    user = _user("capped")
    with stack.client(user) as client:
        admitted, refusal = _until_refused(client, "甲")
        bills = _history_bills(client)
        usage = client.get("/api/audio/usage").json()["data"]
        again = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "longanyang",
                                                      "input": "上限之后的又一个更长的请求,应当被拒绝。" * 5})
    assert len(admitted) >= 5
    assert refusal.status_code == 429 and refusal.json()["error"] == "SPEND_CAP_EXCEEDED"
    message = refusal.json()["message"]
    assert "daily spend cap of 0.01" in message and "resets at" in message and "T00:00:00+00:00 (UTC)" in message
    assert int(refusal.headers["Retry-After"]) >= 1
    largest = max(bills)
    assert sum(bills) <= Decimal("0.01") + largest  # never past the cap by more than one call's bill
    assert Decimal(usage["today"]["spent"]) == sum(bills) and usage["today"]["cap"] == "0.01"
    assert usage["today"]["in_flight"] == "0" and usage["timezone"] == "UTC"
    assert again.status_code == 429 and again.json()["error"]["code"] == "insufficient_quota"


def test_a_spend_cap_holds_across_two_serve_processes(tmp_path: Path) -> None:
    env = {"VOICEFN_SPEND_CAP_DAILY": "0.01", "VOICEFN_RATE_LIMITS": "tts=0"}
    first = ServeProcess(tmp_path, extra_env=env).start()
    second = ServeProcess(tmp_path, extra_env=env)
    try:
        second.start()
        user = _user("two-procs")
        clients = [first.client(user), second.client(user)]

        def one(i: int) -> httpx.Response:
            return clients[i % 2].post(SYNTH, json=_body(i, "乙{}号句子,两个进程同时消费同一个每日上限。"))

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(one, range(48)))
        bills = _history_bills(clients[0])
        for c in clients:
            c.close()
    finally:
        second.stop()
        first.stop()
    admitted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert admitted and refused and len(admitted) + len(refused) == 48
    assert {r.json()["error"] for r in refused} == {"SPEND_CAP_EXCEEDED"}
    assert len(bills) == len(admitted)
    assert sum(bills) <= Decimal("0.01") + max(bills)
