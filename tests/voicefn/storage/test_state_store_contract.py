"""The StateStore contract, run against both adapters.

- ``sqlite``: SqliteStateStore on a temp file.
- ``tablestore``: TablestoreStateStore driving the real ``tablestore`` SDK (``OTSClient``) over
  HTTP against the wire-level fake in ``ots_wire_fake.py``, which decodes the SDK's own protobuf
  and PlainBuffer encoding, checks request signatures and CRCs, and answers with Tablestore's
  semantics and error codes. This is the first option DESIGN.md §3 asks for (a wire-level fake
  reusing the SDK's codecs), not a fake client object. The fake pages range reads at 3 rows so
  every scan must follow ``next_start_primary_key``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, AsyncIterator

import pytest

from voicefn.storage.sqlite_state import SqliteStateStore
from voicefn.storage.state import StateStore
from voicefn.storage.tablestore_state import TablestoreStateStore


@pytest.fixture(params=["sqlite", "tablestore"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "state.sqlite3")
        yield sqlite
        sqlite.close()
    else:
        server = request.getfixturevalue("ots_server")
        ots = TablestoreStateStore(server.client(), table_prefix=f"t{uuid.uuid4().hex[:10]}_")
        await asyncio.to_thread(ots.create_tables)
        yield ots


def _task(task_id: str, **extra: Any) -> dict[str, Any]:
    return {"task_id": task_id, "owner": "u1", "kind": "asr", "status": "PENDING", **extra}


def _voice(voice_id: str, **extra: Any) -> dict[str, Any]:
    return {"voice_id": voice_id, "owner": "u1", "target_model": "cosyvoice-v3-plus", "prefix": "myvoice",
            "status": "DEPLOYING", **extra}


async def test_satisfies_the_protocol(store: Any) -> None:
    assert isinstance(store, StateStore)


# -- history ----------------------------------------------------------------------------------------

async def test_add_history_returns_increasing_ids_and_stores_the_record(store: Any) -> None:
    first = await store.add_history("u1", {"type": "tts", "model_name": "cosyvoice-v3-flash",
                                           "input_data": '{"text": "你好"}', "bill": "0.0021",
                                           "duration": 3.5})
    second = await store.add_history("u1", {"type": "asr", "output_text": "hi"})
    assert isinstance(first, int) and second > first
    got = await store.get_history("u1", first)
    assert got is not None
    assert got["id"] == first
    assert got["input_data"] == '{"text": "你好"}' and got["bill"] == "0.0021" and got["duration"] == 3.5
    assert got["created_at"].endswith("Z")
    assert await store.get_history("u2", first) is None  # another user's record is not found
    assert await store.get_history("u1", second + 1_000_000) is None


async def test_add_history_is_idempotent_per_user_and_key(store: Any) -> None:
    first = await store.add_history("u1", {"type": "tts", "bill": "0.1"}, idempotency_key="req-1")
    again = await store.add_history("u1", {"type": "tts", "bill": "0.1"}, idempotency_key="req-1")
    other_user = await store.add_history("u2", {"type": "tts"}, idempotency_key="req-1")
    assert again == first
    assert other_user != first
    items, total = await store.list_history("u1")
    assert total == 1 and [i["id"] for i in items] == [first]


async def test_concurrent_deliveries_with_one_key_write_one_row(store: Any) -> None:
    ids = await asyncio.gather(*[
        store.add_history("u1", {"type": "asr"}, idempotency_key="oss:bucket/uploads/a.wav/ETAG")
        for _ in range(10)])
    assert len(set(ids)) == 1
    _, total = await store.list_history("u1")
    assert total == 1


async def test_list_history_is_newest_first_with_pagination_and_type_filter(store: Any) -> None:
    ids = []
    for i in range(7):
        ids.append(await store.add_history("u1", {"type": "tts" if i % 2 == 0 else "asr", "n": i}))
    await store.add_history("u2", {"type": "tts"})

    page1, total = await store.list_history("u1", page=1, page_size=3)
    page3, _ = await store.list_history("u1", page=3, page_size=3)
    assert total == 7
    assert [i["id"] for i in page1] == ids[::-1][:3]
    assert [i["n"] for i in page1] == [6, 5, 4]
    assert [i["id"] for i in page3] == [ids[0]]
    beyond, total_beyond = await store.list_history("u1", page=4, page_size=3)
    assert beyond == [] and total_beyond == 7

    tts, tts_total = await store.list_history("u1", type="tts", page=1, page_size=2)
    assert tts_total == 4
    assert [i["n"] for i in tts] == [6, 4]
    tts2, _ = await store.list_history("u1", type="tts", page=2, page_size=2)
    assert [i["n"] for i in tts2] == [2, 0]
    assert await store.list_history("u1", type="voice") == ([], 0)
    assert await store.list_history("nobody") == ([], 0)


async def test_update_history_merges_fields_and_none_deletes(store: Any) -> None:
    record_id = await store.add_history("u1", {"type": "asr", "model_name": "qwen3-asr-flash-filetrans",
                                               "status": "PENDING", "bill": "0", "task_id": "t1"})
    before = await store.get_history("u1", record_id)
    assert await store.update_history("u1", record_id, {
        "status": "SUCCEEDED", "bill": "0.0016", "output_text": "今天天气还行吧。", "duration": 4,
        "task_id": None, "missing_field": None}) is True
    got = await store.get_history("u1", record_id)
    assert got == {"id": record_id, "type": "asr", "model_name": "qwen3-asr-flash-filetrans",
                   "status": "SUCCEEDED", "bill": "0.0016", "output_text": "今天天气还行吧。",
                   "duration": 4, "created_at": before["created_at"]}
    items, total = await store.list_history("u1", type="asr")
    assert total == 1 and items == [got]  # lists see the update too
    assert await store.update_history("u1", record_id, {}) is True
    assert await store.get_history("u1", record_id) == got


async def test_update_history_never_creates_and_stays_within_the_user(store: Any) -> None:
    record_id = await store.add_history("u1", {"type": "tts", "bill": "0.1"})
    assert await store.update_history("u2", record_id, {"bill": "9"}) is False
    assert await store.update_history("u1", record_id + 1_000_000, {"bill": "9"}) is False
    assert await store.update_history("nobody", 1, {"type": "tts"}) is False
    assert (await store.get_history("u1", record_id))["bill"] == "0.1"
    assert await store.get_history("u2", record_id) is None
    assert await store.list_history("u2") == ([], 0)
    assert (await store.list_history("u1"))[1] == 1


async def test_update_history_moves_the_record_between_type_filters(store: Any) -> None:
    record_id = await store.add_history("u1", {"type": "asr", "n": 1})
    assert await store.update_history("u1", record_id, {"type": "voice"})
    assert await store.list_history("u1", type="asr") == ([], 0)
    assert [i["id"] for i in (await store.list_history("u1", type="voice"))[0]] == [record_id]
    assert await store.update_history("u1", record_id, {"type": None})
    assert await store.list_history("u1", type="voice") == ([], 0)
    got = await store.get_history("u1", record_id)
    assert got is not None and set(got) == {"id", "n", "created_at"}
    assert (await store.list_history("u1"))[0] == [got]


async def test_update_history_rejects_changing_the_id(store: Any) -> None:
    record_id = await store.add_history("u1", {"type": "tts"})
    with pytest.raises(ValueError):
        await store.update_history("u1", record_id, {"id": 5})
    with pytest.raises(ValueError):
        await store.update_history("u1", record_id, {"": 5})
    assert (await store.get_history("u1", record_id))["id"] == record_id


async def test_concurrent_history_updates_of_different_fields_all_survive(store: Any) -> None:
    record_id = await store.add_history("u1", {"type": "asr"})
    results = await asyncio.gather(*[
        store.update_history("u1", record_id, {f"f{i}": i}) for i in range(8)])
    assert results == [True] * 8
    got = await store.get_history("u1", record_id)
    assert {k: got[k] for k in got if k.startswith("f")} == {f"f{i}": i for i in range(8)}


async def test_list_history_rejects_bad_pages(store: Any) -> None:
    with pytest.raises(ValueError):
        await store.list_history("u1", page=0)
    with pytest.raises(ValueError):
        await store.list_history("u1", page_size=0)


# -- tasks ------------------------------------------------------------------------------------------

async def test_create_task_once(store: Any) -> None:
    assert await store.create_task(_task("t1", result=None, params={"model": "qwen3-asr-flash"})) is True
    assert await store.create_task(_task("t1", status="RUNNING")) is False
    task = await store.get_task("t1")
    assert task is not None
    assert task["status"] == "PENDING" and task["owner"] == "u1" and task["kind"] == "asr"
    assert task["params"] == {"model": "qwen3-asr-flash"}
    assert "result" not in task  # None fields are not stored
    assert task["created_at"] and task["updated_at"]
    assert await store.get_task("missing") is None


async def test_create_task_validates(store: Any) -> None:
    with pytest.raises(ValueError):
        await store.create_task({"task_id": "t", "owner": "u1", "kind": "asr"})  # no status
    with pytest.raises(ValueError):
        await store.create_task(_task("t", status="DONE"))
    with pytest.raises(ValueError):
        await store.create_task(_task("t", **{"bad-name": 1}))


async def test_conditional_update_succeeds_only_from_the_expected_status(store: Any) -> None:
    await store.create_task(_task("t1", attempts=0))
    assert await store.update_task("t1", {"status": "RUNNING", "attempts": 1}, expect_status="PENDING")
    # a second worker racing for the same task loses
    assert not await store.update_task("t1", {"status": "RUNNING"}, expect_status="PENDING")
    assert await store.update_task("t1", {"status": "SUCCEEDED", "result": {"text": "好", "seconds": 4},
                                          "progress": 100}, expect_status=("RUNNING", "PENDING"))
    assert not await store.update_task("t1", {"status": "FAILED"}, expect_status=("PENDING", "RUNNING"))
    task = await store.get_task("t1")
    assert task["status"] == "SUCCEEDED" and task["attempts"] == 1
    assert task["result"] == {"text": "好", "seconds": 4} and task["progress"] == 100


async def test_update_task_without_condition_and_field_deletion(store: Any) -> None:
    await store.create_task(_task("t1", error="boom"))
    assert await store.update_task("t1", {"error": None, "progress": 50})
    task = await store.get_task("t1")
    assert "error" not in task and task["progress"] == 50
    assert task["updated_at"] >= task["created_at"]
    assert not await store.update_task("missing", {"progress": 1})
    assert not await store.update_task("missing", {"progress": 1}, expect_status="PENDING")
    assert not await store.get_task("missing")
    with pytest.raises(ValueError):
        await store.update_task("t1", {"owner": "someone-else"})


async def test_concurrent_claims_of_a_task_have_one_winner(store: Any) -> None:
    await store.create_task(_task("t1"))
    results = await asyncio.gather(*[
        store.update_task("t1", {"status": "RUNNING", "worker": i}, expect_status="PENDING") for i in range(10)])
    assert results.count(True) == 1


async def test_update_task_compares_other_fields_in_the_same_write(store: Any) -> None:
    """Compare-and-swap on a lease token: the job runner's takeover of an expired lease."""
    await store.create_task(_task("t1"))
    # None: the field must be absent
    assert await store.update_task("t1", {"status": "RUNNING", "lease_token": "a", "attempts": 1},
                                   expect_status="PENDING", expect_fields={"lease_token": None})
    assert not await store.update_task("t1", {"lease_token": "b"}, expect_fields={"lease_token": None})
    assert not await store.update_task("t1", {"lease_token": "b"}, expect_fields={"lease_token": "x"})
    # a number is not the string of its digits, nor True the number 1
    assert not await store.update_task("t1", {"lease_token": "b"}, expect_fields={"attempts": "1"})
    assert not await store.update_task("t1", {"lease_token": "b"}, expect_fields={"attempts": True})
    # every condition must hold, the status one too
    assert not await store.update_task("t1", {"lease_token": "b"}, expect_status="PENDING",
                                       expect_fields={"lease_token": "a"})
    assert await store.update_task("t1", {"lease_token": "b"}, expect_status="RUNNING",
                                   expect_fields={"lease_token": "a", "attempts": 1, "kind": "asr"})
    assert (await store.get_task("t1"))["lease_token"] == "b"
    assert not await store.update_task("missing", {"x": 1}, expect_fields={"lease_token": None})
    with pytest.raises(ValueError):
        await store.update_task("t1", {"x": 1}, expect_fields={"lease": {"nested": 1}})


async def test_concurrent_takeovers_of_one_lease_have_one_winner(store: Any) -> None:
    await store.create_task(_task("t1", status="RUNNING", lease_token="old"))
    results = await asyncio.gather(*[
        store.update_task("t1", {"lease_token": f"new-{i}"}, expect_fields={"lease_token": "old"})
        for i in range(8)])
    assert results.count(True) == 1


async def test_list_tasks_filters(store: Any) -> None:
    await store.create_task(_task("a", created_at="2025-01-01T00:00:01.000Z"))
    await store.create_task(_task("b", status="RUNNING", created_at="2025-01-01T00:00:02.000Z"))
    await store.create_task(_task("c", kind="voice", created_at="2025-01-01T00:00:03.000Z"))
    await store.create_task(_task("d", owner="u2", status="FAILED", created_at="2025-01-01T00:00:04.000Z"))
    await store.create_task(_task("e", status="SUCCEEDED", created_at="2025-01-01T00:00:00.000Z"))

    def ids(tasks: list[dict[str, Any]]) -> list[str]:
        return [t["task_id"] for t in tasks]

    assert ids(await store.list_tasks()) == ["e", "a", "b", "c", "d"]  # oldest first
    assert ids(await store.list_tasks(owner="u1")) == ["e", "a", "b", "c"]
    assert ids(await store.list_tasks(owner="u1", kind="asr")) == ["e", "a", "b"]
    assert ids(await store.list_tasks(statuses=("PENDING", "RUNNING"))) == ["a", "b", "c"]
    assert ids(await store.list_tasks(owner="u1", kind="asr", statuses=("PENDING",))) == ["a"]
    assert ids(await store.list_tasks(limit=2)) == ["e", "a"]
    assert await store.list_tasks(statuses=()) == []
    assert await store.list_tasks(owner="nobody") == []


# -- voices -----------------------------------------------------------------------------------------

async def test_voice_crud(store: Any) -> None:
    voice = _voice("cosyvoice-v3-plus-myvoice-1", name="我的声音", public=False,
                   sample_key="uploads/voice/u1/a.wav", language_hints=["zh"])
    await store.put_voice(voice)
    got = await store.get_voice("cosyvoice-v3-plus-myvoice-1")
    assert got is not None
    for field in ("voice_id", "owner", "target_model", "prefix", "status", "name", "public", "sample_key",
                  "language_hints"):
        assert got[field] == voice[field]
    created = got["created_at"]

    await store.put_voice({**got, "status": "OK"})
    updated = await store.get_voice("cosyvoice-v3-plus-myvoice-1")
    assert updated["status"] == "OK" and updated["created_at"] == created

    # a put without created_at keeps the first one
    await store.put_voice(_voice("cosyvoice-v3-plus-myvoice-1", status="UNDEPLOYED"))
    assert (await store.get_voice("cosyvoice-v3-plus-myvoice-1"))["created_at"] == created

    assert await store.delete_voice("cosyvoice-v3-plus-myvoice-1") is True
    assert await store.get_voice("cosyvoice-v3-plus-myvoice-1") is None
    assert await store.delete_voice("cosyvoice-v3-plus-myvoice-1") is False
    assert await store.list_voices("u1") == ([], 0)


async def test_list_voices_filters_and_pages_from_zero(store: Any) -> None:
    for i in range(5):
        await store.put_voice(_voice(f"v{i}", target_model="cosyvoice-v3-plus" if i < 3 else "cosyvoice-v3-flash",
                                     prefix="alpha" if i % 2 == 0 else "beta",
                                     created_at=f"2025-01-01T00:00:0{i}.000Z"))
    await store.put_voice(_voice("other", owner="u2"))

    page0, total = await store.list_voices("u1", page=0, page_size=2)
    page2, _ = await store.list_voices("u1", page=2, page_size=2)
    assert total == 5
    assert [v["voice_id"] for v in page0] == ["v0", "v1"]
    assert [v["voice_id"] for v in page2] == ["v4"]
    plus, plus_total = await store.list_voices("u1", model="cosyvoice-v3-plus")
    assert plus_total == 3 and [v["voice_id"] for v in plus] == ["v0", "v1", "v2"]
    alpha_plus, n = await store.list_voices("u1", model="cosyvoice-v3-plus", prefix="alpha")
    assert n == 2 and [v["voice_id"] for v in alpha_plus] == ["v0", "v2"]
    assert await store.list_voices("u1", prefix="gamma") == ([], 0)
    with pytest.raises(ValueError):
        await store.list_voices("u1", page=-1)


async def test_visible_voices_are_own_and_public_filtered_by_gender(store: Any) -> None:
    await store.put_voice(_voice("mine-f", gender="female", created_at="2025-01-01T00:00:01.000Z"))
    await store.put_voice(_voice("mine-m", gender="male", public=True, created_at="2025-01-01T00:00:02.000Z"))
    await store.put_voice(_voice("theirs-pub", owner="u2", gender="female", public=True,
                                 created_at="2025-01-01T00:00:03.000Z"))
    await store.put_voice(_voice("theirs-priv", owner="u2", gender="female", created_at="2025-01-01T00:00:04.000Z"))

    seen, total = await store.list_visible_voices("u1")
    assert total == 3 and [v["voice_id"] for v in seen] == ["mine-f", "mine-m", "theirs-pub"]
    female, n = await store.list_visible_voices("u1", gender="female")
    assert n == 2 and [v["voice_id"] for v in female] == ["mine-f", "theirs-pub"]
    own, n = await store.list_visible_voices("u1", include_public=False)
    assert n == 2 and [v["voice_id"] for v in own] == ["mine-f", "mine-m"]
    page1, n = await store.list_visible_voices("u2", page=1, page_size=2)
    assert n == 3 and [v["voice_id"] for v in page1] == ["theirs-priv"]
    with pytest.raises(ValueError):
        await store.list_visible_voices("u1", page_size=0)


async def test_count_voices_by_owner_and_enrolling_key(store: Any) -> None:
    assert await store.count_voices() == 0
    await store.put_voice(_voice("a", enrolled_by="platform"))
    await store.put_voice(_voice("b", enrolled_by="user"))
    await store.put_voice(_voice("c", owner="u2", enrolled_by="platform"))
    assert await store.count_voices() == 3
    assert await store.count_voices(owner="u1") == 2
    assert await store.count_voices(enrolled_by="platform") == 2
    assert await store.count_voices(owner="u2", enrolled_by="user") == 0


async def test_voice_changing_owner_moves_it(store: Any) -> None:
    await store.put_voice(_voice("v1"))
    await store.put_voice(_voice("v1", owner="u2"))
    assert (await store.get_voice("v1"))["owner"] == "u2"
    assert await store.list_voices("u1") == ([], 0)
    assert (await store.list_voices("u2"))[1] == 1


# -- settings ---------------------------------------------------------------------------------------

async def test_user_settings_merge_and_none_deletes(store: Any) -> None:
    assert await store.get_user_settings("u1") is None
    await store.put_user_settings("u1", {"dashscope_key": "v1.token", "preferences": {"voice": "longanyang"}})
    await store.put_user_settings("u1", {"default_model": "cosyvoice-v3-flash"})
    assert await store.get_user_settings("u1") == {"dashscope_key": "v1.token", "default_model": "cosyvoice-v3-flash",
                                                   "preferences": {"voice": "longanyang"}}
    await store.put_user_settings("u1", {"dashscope_key": None, "never_set": None})
    assert await store.get_user_settings("u1") == {"default_model": "cosyvoice-v3-flash",
                                                   "preferences": {"voice": "longanyang"}}
    await store.put_user_settings("u1", {"default_model": None, "preferences": None})
    assert await store.get_user_settings("u1") == {}
    assert await store.get_user_settings("u2") is None


# -- events -----------------------------------------------------------------------------------------

async def test_claim_event_exactly_once_under_a_race(store: Any) -> None:
    results = await asyncio.gather(*[store.claim_event("voicefn-bucket/uploads/asr/u1/a.wav/ETAG", owner=f"w{i}")
                                     for i in range(20)])
    assert results.count(True) == 1
    event = await store.get_event("voicefn-bucket/uploads/asr/u1/a.wav/ETAG")
    assert event["owner"] == f"w{results.index(True)}"
    assert event["first_seen"] and event["outcome"] is None
    assert await store.claim_event("voicefn-bucket/uploads/asr/u1/a.wav/ETAG") is False
    assert await store.claim_event("voicefn-bucket/uploads/asr/u1/a.wav/ETAG2") is True


async def test_event_outcome(store: Any) -> None:
    assert await store.get_event("e1") is None
    await store.claim_event("e1", owner="asr")
    await store.set_event_outcome("e1", {"task_id": "t1", "record_id": 7})
    event = await store.get_event("e1")
    assert event["outcome"] == {"task_id": "t1", "record_id": 7} and event["owner"] == "asr"
    assert event["outcome_at"]
    # an outcome for an event never claimed still records it (and it can no longer be claimed)
    await store.set_event_outcome("e2", {"skipped": True})
    assert (await store.get_event("e2"))["outcome"] == {"skipped": True}
    assert await store.claim_event("e2") is False


# -- cache ------------------------------------------------------------------------------------------

async def test_cache_get_put(store: Any) -> None:
    assert await store.get_cache("sha256:abc") is None
    await store.put_cache("sha256:abc", {"key": "audio/tts/cache/abc.mp3", "duration": 1.5, "format": "mp3"})
    assert await store.get_cache("sha256:abc") == {"key": "audio/tts/cache/abc.mp3", "duration": 1.5, "format": "mp3"}
    await store.put_cache("sha256:abc", {"key": "audio/tts/cache/abc2.mp3"})
    assert await store.get_cache("sha256:abc") == {"key": "audio/tts/cache/abc2.mp3"}


async def test_cache_entries_and_clear(store: Any) -> None:
    await store.clear_cache()
    for n in range(3):
        await store.put_cache(f"tts:{n}", {"object_key": f"audio/{n}.mp3", "bytes": 10 * n})
    entries = dict(await store.cache_entries())
    assert entries == {f"tts:{n}": {"object_key": f"audio/{n}.mp3", "bytes": 10 * n} for n in range(3)}
    assert await store.clear_cache() == 3
    assert await store.cache_entries() == [] and await store.get_cache("tts:1") is None
