"""Upload tickets (voicefn.uploads.tickets): what a ticket allows, how its key reads, how it moves on."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.services import Services
from voicefn.storage.keys import validate_key
from voicefn.storage.signing import ObjectAccessError
from voicefn.uploads import (
    MAX_SIZE, TICKET_TTL_S, Ticket, UploadKey, attach_task, claim_ticket, create_ticket, decode_user_segment,
    encode_user_segment, get_ticket_public, load_ticket, mark_ticket, parse_upload_key, reject_ticket, upload_key,
)

ALICE = Principal("alice")
MiB = 1024 * 1024
PUBLIC_HOOK = "https://93.184.216.34/hooks/asr"  # an IP literal: the SSRF check needs no DNS


async def ticket(services: Services, principal: Principal = ALICE, **fields) -> dict:
    args = {"purpose": "asr", "filename": "meeting.mp3", "content_type": "audio/mpeg", "size": 5 * MiB, **fields}
    return await create_ticket(services, principal, **args)


async def test_a_ticket_has_a_key_a_post_form_and_a_put_url(services: Services) -> None:
    before = int(time.time())
    t = await ticket(services)
    assert set(t) == {"ticket_id", "key", "post", "put_url", "put_headers", "expires_at"}
    assert t["key"] == f"uploads/asr/alice/{t['ticket_id']}.mp3"
    # the form is what OSS PostObject takes: exactly this key, at most the declared size, this type
    fields = t["post"]["fields"]
    assert t["post"]["url"] == f"http://127.0.0.1:8123/_objects/{services.objects.bucket}"
    assert fields["key"] == t["key"] and fields["Content-Type"] == "audio/mpeg"
    assert {"policy", "OSSAccessKeyId", "Signature", "success_action_status"} <= set(fields)
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["eq", "$key", t["key"]] in policy["conditions"]
    assert ["content-length-range", 0, 5 * MiB] in policy["conditions"]
    # the PUT URL is signed for this key and content type, and says which header to send
    put = urlsplit(t["put_url"])
    assert put.path == f"/_objects/{services.objects.bucket}/{t['key']}"
    query = parse_qs(put.query)
    assert query["max_size"] == [str(5 * MiB)]  # the declared size is signed into the URL too
    services.objects.verify_put(t["key"], query["expires"][0], query["signature"][0], "audio/mpeg",
                                max_size=query["max_size"][0])
    with pytest.raises(ObjectAccessError):  # and cannot be raised by editing the URL
        services.objects.verify_put(t["key"], query["expires"][0], query["signature"][0], "audio/mpeg",
                                    max_size=str(300 * MiB))
    assert t["put_headers"] == {"Content-Type": "audio/mpeg"}
    expires = datetime.fromisoformat(t["expires_at"].replace("Z", "+00:00")).timestamp()
    assert before + TICKET_TTL_S <= expires <= time.time() + TICKET_TTL_S + 1
    # the row: a WAITING ticket in the tasks table
    row = await load_ticket(services.state, t["ticket_id"])
    assert row["owner"] == "alice" and row["kind"] == "upload:asr" and row["phase"] == "WAITING"
    assert row["request"] == {"key": t["key"], "content_type": "audio/mpeg", "size": 5 * MiB,
                              "filename": "meeting.mp3"}


@pytest.mark.parametrize("purpose,content_type,ext", [
    ("asr", "audio/wav", "wav"), ("asr", "audio/x-wav", "wav"), ("asr", "audio/mp3", "mp3"),
    ("asr", "audio/ogg", "ogg"), ("asr", "audio/opus", "opus"), ("asr", "audio/flac", "flac"),
    ("asr", "audio/mp4", "m4a"), ("asr", "audio/x-m4a", "m4a"), ("asr", "audio/aac", "aac"),
    ("asr", "audio/webm;codecs=opus", "webm"), ("asr", "Audio/WAV", "wav"),
    ("voice", "audio/wav", "wav"), ("voice", "audio/mpeg", "mp3"), ("voice", "audio/mp4", "m4a"),
])
async def test_the_extension_comes_from_the_content_type(services: Services, purpose: str, content_type: str,
                                                         ext: str) -> None:
    # the filename claims .exe: it is a label, never the key's extension
    t = await ticket(services, purpose=purpose, content_type=content_type, filename="../../evil.exe", size=1000)
    assert t["key"].startswith(f"uploads/{purpose}/alice/") and t["key"].endswith(f".{ext}")
    assert t["put_headers"] == {"Content-Type": content_type}  # signed as declared: the client sends it so
    assert (await load_ticket(services.state, t["ticket_id"]))["request"]["filename"] == "evil.exe"


@pytest.mark.parametrize("purpose,content_type", [
    ("asr", "video/mp4"), ("asr", "application/octet-stream"), ("asr", "text/plain"),
    ("voice", "audio/ogg"), ("voice", "audio/webm"), ("voice", "audio/flac"),
])
async def test_content_types_outside_the_purpose_are_refused(services: Services, purpose: str,
                                                             content_type: str) -> None:
    with pytest.raises(ApiError) as err:
        await ticket(services, purpose=purpose, content_type=content_type, size=1000)
    assert (err.value.code, err.value.status, err.value.param) == ("INVALID_AUDIO", 400, "content_type")


@pytest.mark.parametrize("content_type", ["", "audio", "audio/", "audio/wav\r\nX-Evil: 1", "audio/wav\u00e9",
                                          "a" * 130 + "/wav"])
async def test_malformed_content_types_are_refused(services: Services, content_type: str) -> None:
    with pytest.raises(ApiError) as err:
        await ticket(services, content_type=content_type)
    assert err.value.code == "INVALID_PARAMETER" and err.value.param == "content_type"


async def test_size_limits_per_purpose(services: Services) -> None:
    assert MAX_SIZE == {"asr": 200 * MiB, "voice": 10 * MiB}
    await ticket(services, size=200 * MiB)
    await ticket(services, purpose="voice", content_type="audio/wav", size=10 * MiB)
    for purpose, size in (("asr", 200 * MiB + 1), ("voice", 10 * MiB + 1), ("asr", 0), ("asr", -5)):
        with pytest.raises(ApiError) as err:
            await ticket(services, purpose=purpose, content_type="audio/wav", size=size)
        assert (err.value.code, err.value.status, err.value.param) == ("INVALID_PARAMETER", 400, "size")
    with pytest.raises(ApiError, match="MiB limit"):
        await ticket(services, size=300 * MiB)


async def test_unknown_purpose_is_refused(services: Services) -> None:
    with pytest.raises(ApiError) as err:
        await ticket(services, purpose="chat")
    assert err.value.code == "INVALID_PARAMETER" and err.value.param == "purpose"


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://169.254.169.254/latest", "ftp://93.184.216.34/x",
                                 "http://10.0.0.8/x", "not a url", "http://[::1]/x"])
async def test_callback_url_must_be_public_http(services: Services, url: str) -> None:
    with pytest.raises(ApiError) as err:
        await ticket(services, callback_url=url)
    assert (err.value.code, err.value.param) == ("INVALID_PARAMETER", "callback_url")


async def test_a_public_callback_url_is_kept_on_the_ticket(services: Services) -> None:
    t = await ticket(services, callback_url=PUBLIC_HOOK)
    assert (await load_ticket(services.state, t["ticket_id"]))["request"]["callback_url"] == PUBLIC_HOOK


@pytest.mark.parametrize("user_id,segment", [
    ("alice", "alice"), ("u-1_2.3", "u-1_2.3"), ("service:billing", "service~3abilling"),
    ("a@b.c", "a~40b.c"), (".", "~2e"), ("..", "~2e."), (".hidden", "~2ehidden"),
])
def test_user_ids_become_one_safe_key_segment(user_id: str, segment: str) -> None:
    assert encode_user_segment(user_id) == segment
    assert decode_user_segment(segment) == user_id
    key = upload_key("asr", user_id, "0" * 32, "wav")
    assert validate_key(key) == key and key.count("/") == 3
    assert parse_upload_key(key) == UploadKey("asr", user_id, "0" * 32, "wav")


@pytest.mark.parametrize("key", [
    "uploads/asr/alice/" + "a" * 31 + ".wav",     # not a ticket id
    "uploads/asr/alice/" + "A" * 32 + ".wav",
    "uploads/chat/alice/" + "a" * 32 + ".wav",    # not a purpose
    "uploads/asr/" + "a" * 32 + ".wav",           # no user
    "uploads/asr/al/ice/" + "a" * 32 + ".wav",
    "uploads/asr/alice/" + "a" * 32,              # no extension
    "uploads/asr/service:x/" + "a" * 32 + ".wav",  # not the canonical spelling of service:x
    "uploads/asr/~zz/" + "a" * 32 + ".wav",
    "audio/tts/20250101/x.mp3", "",
])
def test_other_keys_are_not_uploads(key: str) -> None:
    assert parse_upload_key(key) is None


async def test_status_follows_the_ticket_and_its_task(services: Services) -> None:
    state = services.state
    t = await ticket(services)
    tid = t["ticket_id"]

    async def public() -> dict:
        return await get_ticket_public(services, ALICE, tid)

    first = await public()
    assert first["status"] == "WAITING" and first["purpose"] == "asr" and first["key"] == t["key"]
    assert first["expires_at"] == t["expires_at"] and "task_id" not in first and "error" not in first
    assert await mark_ticket(state, tid, "UPLOADED") and (await public())["status"] == "UPLOADED"
    assert await mark_ticket(state, tid, "UPLOADED")  # a redelivery may say it again
    assert await mark_ticket(state, tid, "PROCESSING") and (await public())["status"] == "PROCESSING"
    assert not await mark_ticket(state, tid, "UPLOADED")  # never backwards

    await state.create_task({"task_id": "task-1", "owner": "alice", "kind": "asr_filetrans", "status": "RUNNING"})
    assert await attach_task(state, tid, "task-1")
    assert await attach_task(state, tid, "task-1")       # idempotent
    assert not await attach_task(state, tid, "task-2")   # but never replaced
    view = await public()
    assert (view["status"], view["task_id"], view["task_status"]) == ("PROCESSING", "task-1", "RUNNING")
    # once the task is over, so is the upload's part of the work
    await state.update_task("task-1", {"status": "SUCCEEDED"})
    assert (await public())["status"] == "DONE"
    assert await mark_ticket(state, tid, "DONE") and (await public())["status"] == "DONE"
    assert not await mark_ticket(state, tid, "PROCESSING") and not await reject_ticket(state, tid, "late")


async def test_attach_task_straight_from_waiting(services: Services) -> None:
    tid = (await ticket(services))["ticket_id"]
    assert await attach_task(services.state, tid, "task-9")
    view = await get_ticket_public(services, ALICE, tid)
    assert (view["status"], view["task_id"]) == ("PROCESSING", "task-9")
    assert "task_status" not in view  # no such task row (yet)


async def test_a_rejected_upload_says_why(services: Services) -> None:
    tid = (await ticket(services))["ticket_id"]
    assert await reject_ticket(services.state, tid, "not audio")
    view = await get_ticket_public(services, ALICE, tid)
    assert view["status"] == "REJECTED"
    assert view["error"] == {"code": "INVALID_AUDIO", "message": "not audio"}
    assert not await mark_ticket(services.state, tid, "PROCESSING")
    assert not await attach_task(services.state, tid, "task-x")


async def test_helpers_ignore_what_is_not_a_ticket(services: Services) -> None:
    state = services.state
    await state.create_task({"task_id": "plain-task", "owner": "alice", "kind": "tts_long", "status": "PENDING"})
    for ticket_id in ("plain-task", "f" * 32):
        assert await load_ticket(state, ticket_id) is None
        assert not await mark_ticket(state, ticket_id, "UPLOADED")
        assert not await attach_task(state, ticket_id, "t")
        assert not await reject_ticket(state, ticket_id, "x")
    assert (await state.get_task("plain-task"))["status"] == "PENDING"
    with pytest.raises(ValueError):
        await mark_ticket(state, "f" * 32, "WAITING")


async def test_only_the_owner_sees_a_ticket(services: Services) -> None:
    tid = (await ticket(services))["ticket_id"]
    for principal, ticket_id in ((Principal("bob"), tid), (ALICE, "f" * 32), (ALICE, "plain-task"),
                                 (ALICE, "../" + tid)):
        with pytest.raises(ApiError) as err:
            await get_ticket_public(services, principal, ticket_id)
        assert (err.value.code, err.value.status) == ("NOT_FOUND", 404)
    # a service acting for alice is alice
    assert (await get_ticket_public(services, Principal("alice", "service", "billing"), tid))["ticket_id"] == tid


async def test_a_service_principal_s_key_is_safe(services: Services) -> None:
    t = await ticket(services, Principal("service:billing", "service", "billing"))
    assert t["key"].startswith("uploads/asr/service~3abilling/")
    assert parse_upload_key(t["key"]).user_id == "service:billing"


async def test_a_ticket_is_claimed_by_one_upload_only(services: Services) -> None:
    state = services.state
    tid = (await ticket(services))["ticket_id"]
    first = await claim_ticket(state, tid, "oss:b/k/AAA")
    assert first is not None and first.claimed_by == "oss:b/k/AAA" and first.status == "RUNNING"
    assert (await get_ticket_public(services, ALICE, tid))["status"] == "PROCESSING"
    again = await claim_ticket(state, tid, "oss:b/k/AAA")      # the same event, redelivered: its own claim
    other = await claim_ticket(state, tid, "oss:b/k/BBB")      # another object at the key: someone else's
    assert again is not None and again.claimed_by == "oss:b/k/AAA"
    assert other is not None and other.claimed_by == "oss:b/k/AAA"
    assert await claim_ticket(state, "f" * 32, "oss:b/k/AAA") is None


async def test_racing_claims_leave_one_winner(services: Services) -> None:
    import asyncio

    tid = (await ticket(services))["ticket_id"]
    results = await asyncio.gather(*(claim_ticket(services.state, tid, f"oss:b/k/{i}") for i in range(8)))
    winners = {r.claimed_by for r in results if r is not None}
    assert len(winners) == 1


async def test_the_typed_ticket_reads_its_row(services: Services) -> None:
    t = await ticket(services, callback_url=PUBLIC_HOOK)
    row = await load_ticket(services.state, t["ticket_id"])
    typed = Ticket.from_row(row)
    assert (typed.ticket_id, typed.owner, typed.purpose, typed.key) == (t["ticket_id"], "alice", "asr", t["key"])
    assert (typed.content_type, typed.size, typed.filename, typed.callback_url) == \
        ("audio/mpeg", 5 * MiB, "meeting.mp3", PUBLIC_HOOK)
    assert (typed.status, typed.phase, typed.claimed_by, typed.attached_task_id) == ("PENDING", "WAITING", None, None)
