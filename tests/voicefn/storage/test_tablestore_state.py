"""Tablestore-only behaviour: crash recovery of idempotency claims, provisioning, settings.

Runs the real ``tablestore`` SDK against the wire-level fake (see ots_wire_fake.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from tablestore import PK_AUTO_INCR, Condition, Row, RowExistenceExpectation

from voicefn.settings import Settings
from voicefn.storage.tablestore_state import TablestoreStateStore


@pytest.fixture
async def ots(ots_server) -> TablestoreStateStore:
    store = TablestoreStateStore(ots_server.client(), table_prefix=f"t{uuid.uuid4().hex[:10]}_",
                                 claim_stale_s=0.2)
    await asyncio.to_thread(store.create_tables)
    return store


def _leave_claim(store: TablestoreStateStore, user: str, key: str, age_s: float) -> None:
    """What a writer that died after claiming the key leaves behind."""
    store.client.put_row(store._t("history_idem"),
                         Row([("user_id", user), ("idem_key", key)],
                             [("token", "dead-writer"), ("claimed_at", int((time.time() - age_s) * 1000))]))


async def test_a_stale_claim_is_taken_over(ots: TablestoreStateStore) -> None:
    _leave_claim(ots, "u1", "req-1", age_s=60)
    record_id = await ots.add_history("u1", {"type": "tts"}, idempotency_key="req-1")
    assert await ots.add_history("u1", {"type": "tts"}, idempotency_key="req-1") == record_id
    assert (await ots.list_history("u1"))[1] == 1


async def test_a_takeover_finds_the_row_the_dead_writer_wrote(ots: TablestoreStateStore) -> None:
    _leave_claim(ots, "u1", "req-2", age_s=60)
    _, returned = ots.client.put_row(
        ots._t("history"), Row([("user_id", "u1"), ("seq", PK_AUTO_INCR)],
                               [("record", '{"type":"asr"}'), ("type", "asr"), ("idem_key", "req-2")]),
        Condition(RowExistenceExpectation.IGNORE), return_type="RT_PK")
    written = dict(returned.primary_key)["seq"]
    assert await ots.add_history("u1", {"type": "asr"}, idempotency_key="req-2") == written
    assert (await ots.list_history("u1"))[1] == 1


async def test_a_fresh_claim_is_waited_for(ots: TablestoreStateStore) -> None:
    _leave_claim(ots, "u1", "req-3", age_s=0)
    started = time.monotonic()
    await ots.add_history("u1", {"type": "tts"}, idempotency_key="req-3")
    assert time.monotonic() - started >= 0.15  # waited until the claim went stale


async def test_record_ids_are_tablestore_auto_increment_values(ots: TablestoreStateStore) -> None:
    # real auto-increment keys are large and not consecutive: nothing may assume 1, 2, 3
    first = await ots.add_history("u1", {"type": "tts"})
    second = await ots.add_history("u1", {"type": "tts"})
    assert first > 10**12 and second > first and second < 2**53  # still exact in JSON/JavaScript


async def test_create_tables_is_idempotent(ots: TablestoreStateStore) -> None:
    await asyncio.to_thread(ots.create_tables)


async def test_expected_condition_failures_are_not_logged_as_errors(
        ots: TablestoreStateStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    assert await ots.claim_event("e") is True
    assert await ots.claim_event("e") is False
    assert not [r for r in caplog.records if "OTSConditionCheckFail" in r.getMessage()]


def test_from_settings_builds_an_sts_client() -> None:
    settings = Settings(runtime="cloud", ots_endpoint="https://inst.cn-hangzhou.ots.aliyuncs.com",
                        ots_instance="inst")
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.k", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s",
           "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"}
    store = TablestoreStateStore.from_settings(settings, environ=env)
    credentials = store.client.credentials_provider.get_credentials()
    assert credentials.get_access_key_id() == "STS.k" and credentials.get_security_token() == "tok"
    with pytest.raises(RuntimeError, match="OTS_ENDPOINT"):
        TablestoreStateStore.from_settings(Settings(runtime="cloud"), environ=env)
    with pytest.raises(RuntimeError, match="ALIBABA_CLOUD"):
        TablestoreStateStore.from_settings(settings, environ={})
