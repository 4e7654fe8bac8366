"""The upload intake (voicefn.uploads.intake) with a fake purpose hook, on the local adapters.

Each test issues a real ticket, stores an object at its key and hands the intake the OSS event
the store would raise; the hook records what it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.voicefn.uploads.helpers import CountingStore, big_wav
from voicefn.audio.encode import encode_pcm
from voicefn.audio.pcm import tone
from voicefn.auth.principal import Principal
from voicefn.services import Services
from voicefn.uploads import hooks
from voicefn.uploads.event import build_oss_event
from voicefn.uploads.hooks import Purpose, UploadContext, UploadOutcome
from voicefn.uploads.intake import handle_event, oss_event_handler
from voicefn.uploads.limits import PROBE_BLOCK_BYTES
from voicefn.uploads.tickets import create_ticket, get_ticket_public, load_ticket

ALICE = Principal("alice")
MiB = 1024 * 1024


@dataclass
class FakeHook:
    started: list[UploadContext] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    fail_next: int = 0

    async def start(self, ctx: UploadContext) -> UploadOutcome:
        self.started.append(ctx)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the hook's backend is down")
        task_id = "task-" + ctx.event_key[-8:].lower()  # derived from the event: the same on a retry
        await ctx.services.state.create_task({"task_id": task_id, "owner": ctx.principal.user_id,
                                              "kind": "voice_enroll", "status": "PENDING"})
        return UploadOutcome(task_id=task_id)

    async def resume(self, services: Services, task_id: str) -> None:
        self.resumed.append(task_id)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> FakeHook:
    fake = FakeHook()
    monkeypatch.setitem(hooks._REGISTRY, "voice", Purpose("voice", fake.start, fake.resume))
    return fake


async def new_ticket(services: Services, size: int = 5 * MiB, principal: Principal = ALICE) -> dict[str, Any]:
    return await create_ticket(services, principal, purpose="voice", filename="me.wav", content_type="audio/wav",
                               size=size)


async def land(services: Services, key: str, data: bytes, **event: Any) -> dict[str, Any]:
    """Store ``data`` at ``key`` and return the OSS event that announces it."""
    info = await services.objects.put(key, data, "audio/wav")
    return build_oss_event(bucket=services.objects.bucket, key=key, size=info.size, etag=info.etag, **event)


async def deliver(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    outcome = await handle_event(services, event, purposes=("voice",))
    (first,) = outcome["handled"]
    return first


def sample(seconds: float = 3.0, freq: float = 300) -> bytes:
    return encode_pcm(tone(seconds, 16000, freq=freq), "wav", 16000)


async def test_a_checked_upload_reaches_its_hook_with_a_typed_context(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    event = await land(services, t["key"], sample(3.0))
    outcome = await deliver(services, event)
    (ctx,) = hook.started
    assert set(outcome) == {"task_id"} and outcome["task_id"] == "task-" + ctx.event_key[-8:].lower()
    assert ctx.principal.user_id == "alice" and ctx.key == t["key"] and ctx.upload.purpose == "voice"
    assert ctx.ticket.ticket_id == t["ticket_id"] and ctx.ticket.claimed_by == ctx.event_key
    assert (ctx.audio.format, ctx.audio.duration, ctx.audio.sample_rate) == ("wav", 3.0, 16000)
    assert ctx.event_key == f"oss:{services.objects.bucket}/{t['key']}/{event['events'][0]['oss']['object']['eTag']}"
    assert ctx.record.key == t["key"]
    view = await get_ticket_public(services, ALICE, t["ticket_id"])
    assert (view["status"], view["task_id"]) == ("PROCESSING", outcome["task_id"])
    assert (await services.state.get_event(ctx.event_key))["outcome"] == {"task_id": outcome["task_id"]}


async def test_the_same_event_three_times_starts_once(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    event = await land(services, t["key"], sample())
    first = await deliver(services, event)
    again = [await deliver(services, event) for _ in range(3)]
    assert len(hook.started) == 1
    assert again == [{"task_id": first["task_id"], "duplicate": True}] * 3
    assert hook.resumed == [first["task_id"]] * 3  # a redelivery may re-queue lost work, never start new


async def test_a_second_object_at_a_used_ticket_key_is_not_processed(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    first = await deliver(services, await land(services, t["key"], sample(3.0, 300)))
    second_event = await land(services, t["key"], sample(9.0, 500))  # other bytes, other eTag
    second = await deliver(services, second_event)
    assert second == {"skipped": "the ticket was used by an earlier upload", "task_id": first["task_id"]}
    assert len(hook.started) == 1 and hook.resumed == []
    row = await load_ticket(services.state, t["ticket_id"])
    assert row["attached_task_id"] == first["task_id"] and row["claimed_by"] == hook.started[0].event_key
    assert await deliver(services, second_event) == second  # and stays so when redelivered


async def test_a_rejected_ticket_keeps_its_first_outcome(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    junk = await land(services, t["key"], b"not audio at all, " * 100)
    rejected = await deliver(services, junk)
    assert "not a supported audio file" in rejected["rejected"]
    assert (await deliver(services, junk))["duplicate"] is True
    # a valid file written afterwards to the same key does not revive the ticket
    valid = await land(services, t["key"], sample())
    assert await deliver(services, valid) == {"skipped": "the ticket was used by an earlier upload"}
    assert hook.started == []
    view = await get_ticket_public(services, ALICE, t["ticket_id"])
    assert view["status"] == "REJECTED" and view["error"]["code"] == "INVALID_AUDIO"


async def test_an_object_larger_than_its_ticket_is_rejected_unread(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services, size=1000)  # the client declared 1000 bytes
    event = await land(services, t["key"], sample(3.0))  # 96 kB, e.g. a cloud PUT (OSS cannot sign a length)
    counting = CountingStore(services.objects)
    services.__dict__["objects"] = counting
    outcome = await deliver(services, event)
    assert "its ticket allows at most 1000" in outcome["rejected"]
    assert counting.bytes_read == 0 and hook.started == []


async def test_an_object_replaced_before_its_check_is_rejected(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    first_event = await land(services, t["key"], sample(3.0, 300))
    await services.objects.put(t["key"], sample(20.0, 700), "audio/wav")  # overwritten before the event came
    outcome = await deliver(services, first_event)
    assert outcome == {"rejected": "the upload was overwritten before it could be checked"}
    assert hook.started == []


async def test_a_large_upload_is_checked_without_reading_it_whole(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services, size=10 * MiB)
    data = big_wav(300.0)  # 9.6 MB
    event = await land(services, t["key"], data)
    counting = CountingStore(services.objects)  # its get() fails the test
    services.__dict__["objects"] = counting
    outcome = await deliver(services, event)
    assert "task_id" in outcome
    assert hook.started[0].audio.duration == 300.0 and hook.started[0].audio.size == len(data)
    assert counting.bytes_read <= PROBE_BLOCK_BYTES < len(data) // 100


async def test_a_failing_hook_is_retried_with_the_same_claim(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    event = await land(services, t["key"], sample())
    hook.fail_next = 1
    with pytest.raises(RuntimeError):  # propagates: FC retries the invocation
        await deliver(services, event)
    outcome = await deliver(services, event)
    assert "task_id" in outcome and len(hook.started) == 2
    assert hook.started[0].event_key == hook.started[1].event_key


@pytest.mark.parametrize("change, reason", [
    (lambda e, t: e["events"][0].update(eventName="ObjectRemoved:DeleteObject"), "not an ObjectCreated event"),
    (lambda e, t: e["events"][0]["oss"]["object"].update(key=t["key"].replace("voice", "asr")),
     "is not a voice upload"),
    (lambda e, t: e["events"][0]["oss"]["object"].update(key=t["key"].replace(t["ticket_id"], "f" * 32)),
     "no ticket for this upload"),
    (lambda e, t: e["events"][0]["oss"]["object"].update(key=t["key"].replace("/alice/", "/mallory/")),
     "no ticket for this upload"),
    (lambda e, t: e["events"][0]["oss"]["object"].update(key=t["key"].replace(".wav", ".mp3")),
     "no ticket for this upload"),
])
async def test_what_is_not_this_purpose_s_upload_is_skipped(services: Services, hook: FakeHook, change: Any,
                                                            reason: str) -> None:
    t = await new_ticket(services)
    event = await land(services, t["key"], sample())
    change(event, t)
    outcome = await deliver(services, event)
    assert reason in outcome["skipped"]
    assert hook.started == []
    assert (await load_ticket(services.state, t["ticket_id"]))["status"] == "PENDING"  # still unused


async def test_a_purpose_without_a_hook_is_skipped(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(hooks._REGISTRY, "voice", raising=False)
    t = await new_ticket(services)
    outcome = await deliver(services, await land(services, t["key"], sample()))
    assert "no hook" in outcome["skipped"]


async def test_the_function_handler_serves_its_purposes(services: Services, hook: FakeHook) -> None:
    t = await new_ticket(services)
    event = await land(services, t["key"], sample())
    assert (await oss_event_handler("asr")(event, None))["handled"][0]["skipped"].endswith("is not an asr upload")
    assert "task_id" in (await oss_event_handler("voice")(event, None))["handled"][0]


def test_registering_a_second_hook_for_a_purpose_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_REGISTRY", {})

    async def one(ctx: UploadContext) -> UploadOutcome:
        return UploadOutcome("a")

    async def two(ctx: UploadContext) -> UploadOutcome:
        return UploadOutcome("b")

    assert hooks.purpose("voice")(one) is one
    hooks.register_purpose("voice", one)  # the same hook again (a re-import) is fine
    with pytest.raises(ValueError):
        hooks.register_purpose("voice", two)
    with pytest.raises(ValueError):
        hooks.register_purpose("chat", one)
    assert hooks.get_purpose("voice") is not None and hooks.get_purpose("voice").start is one


async def test_a_hook_that_needs_no_task_finishes_the_ticket(services: Services,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def store_only(ctx: UploadContext) -> UploadOutcome:
        calls.append(ctx.event_key)
        return UploadOutcome(detail={"voice_id": "cosyvoice-v3-flash-me-0001"})

    monkeypatch.setitem(hooks._REGISTRY, "voice", Purpose("voice", store_only))
    t = await new_ticket(services)
    event = await land(services, t["key"], sample())
    assert await deliver(services, event) == {"done": True}
    assert await deliver(services, event) == {"done": True, "duplicate": True}
    assert len(calls) == 1
    view = await get_ticket_public(services, ALICE, t["ticket_id"])
    assert view["status"] == "DONE" and view["voice_id"] == "cosyvoice-v3-flash-me-0001" and "task_id" not in view


@pytest.mark.parametrize("status, rejected", [(400, True), (503, False)])
async def test_a_hook_refusing_the_upload_rejects_it_and_a_failing_one_is_retried(
        services: Services, monkeypatch: pytest.MonkeyPatch, status: int, rejected: bool) -> None:
    from voicefn.errors import ApiError

    async def picky(ctx: UploadContext) -> UploadOutcome:
        if status == 400:
            raise ApiError("INVALID_AUDIO", "a voice sample needs 10 to 60 s of speech")
        raise ApiError("UPSTREAM_ERROR", "enrollment is down", status=503)

    monkeypatch.setitem(hooks._REGISTRY, "voice", Purpose("voice", picky))
    t = await new_ticket(services)
    event = await land(services, t["key"], sample(3.0))
    if rejected:
        assert await deliver(services, event) == {"rejected": "a voice sample needs 10 to 60 s of speech"}
        view = await get_ticket_public(services, ALICE, t["ticket_id"])
        assert view["status"] == "REJECTED" and view["error"]["code"] == "INVALID_AUDIO"
    else:
        with pytest.raises(ApiError):
            await deliver(services, event)
        assert (await get_ticket_public(services, ALICE, t["ticket_id"]))["status"] == "PROCESSING"
