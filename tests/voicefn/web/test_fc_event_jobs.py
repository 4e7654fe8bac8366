"""The FC event entry's third kind of event: the function's own async jobs (voicefn.jobs payloads)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from voicefn.jobs import sign_job, verify_job
from voicefn.services import Services, get_services, reset_services
from voicefn.web.app import build_app
from voicefn.web.deps import ServicesDep  # module level: FastAPI resolves the route's annotations here
from voicefn.web.fc_event import NoJobHandlerError, is_job_payload, make_event_handler
from voicefn.web.routing import plain_router

REF = Path(__file__).parent / "fc3_events"
OSS_EVENT = json.loads((REF / "event-oss.json").read_text())
HTTP_EVENT = json.loads((REF / "event-http.json").read_text())


def ctx() -> SimpleNamespace:
    return SimpleNamespace(request_id="fc-job-1")


@pytest.fixture
def services(env):  # noqa: ANN001 - env: the local-runtime settings fixture of conftest.py
    reset_services()
    yield get_services()
    reset_services()


def test_a_signed_job_goes_to_on_job_as_sent(app_factory, services) -> None:
    received: list[dict[str, Any]] = []
    built: list[int] = []

    def on_job(payload: dict[str, Any]) -> None:
        received.append(payload)
        verify_job(services, payload)  # what a function's handle_job does first

    payload = sign_job(services, "asr_advance", task_id="t-1", round=2)
    h = make_event_handler(lambda: built.append(1) or app_factory(), on_job=on_job)
    try:
        # FC hands an async invocation's body over as bytes
        assert h(json.dumps(payload).encode(), ctx()) == {"status": "done"}
        assert h(json.dumps(payload), ctx()) == {"status": "done"}
        assert received == [payload, payload]
        assert built == []  # no web app for jobs
    finally:
        h.close()


def test_async_on_job_runs_on_the_instance_loop(app_factory, services) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def on_job(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        loops.append(asyncio.get_running_loop())

    async def on_oss(event: dict[str, Any], context: Any) -> None:
        loops.append(asyncio.get_running_loop())

    h = make_event_handler(app_factory, on_oss_event=on_oss, on_job=on_job)
    try:
        h(sign_job(services, "x", task_id="a"), ctx())
        h(OSS_EVENT, ctx())
        h(sign_job(services, "x", task_id="b"), ctx())
        assert len(loops) == 3 and loops[0] is loops[1] is loops[2]
    finally:
        h.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failing_job_raises_so_that_fc_retries(app_factory, services, kind: str) -> None:
    def fail_sync(payload: dict[str, Any]) -> None:
        raise RuntimeError("upstream down")

    async def fail_async(payload: dict[str, Any]) -> None:
        raise RuntimeError("upstream down")

    h = make_event_handler(app_factory, on_job=fail_sync if kind == "sync" else fail_async)
    try:
        with pytest.raises(RuntimeError, match="upstream down"):
            h(sign_job(services, "x", task_id="t"), ctx())
        # the loop survives a failed job
        assert h(HTTP_EVENT, ctx())["statusCode"] in (200, 404)
    finally:
        h.close()


def test_a_forged_job_is_refused_by_the_handler_and_retried_harmlessly(app_factory, services) -> None:
    def on_job(payload: dict[str, Any]) -> None:
        verify_job(services, payload)

    forged = {**sign_job(services, "x", task_id="t"), "task_id": "someone-else"}
    h = make_event_handler(app_factory, on_job=on_job)
    try:
        with pytest.raises(Exception, match="signature"):
            h(forged, ctx())
    finally:
        h.close()


def test_a_job_without_on_job_is_a_clear_error(app_factory, services) -> None:
    h = make_event_handler(app_factory)
    try:
        with pytest.raises(NoJobHandlerError, match="no job handler"):
            h(sign_job(services, "x", task_id="t"), ctx())
    finally:
        h.close()


def test_what_counts_as_a_job_payload() -> None:
    assert is_job_payload({"job": "asr_advance", "task_id": "t", "sig": "00"})
    assert not is_job_payload({"job": 3})
    assert not is_job_payload({"task_id": "t"})
    assert not is_job_payload(OSS_EVENT) and not is_job_payload(HTTP_EVENT)
    # an HTTP event whose body happens to carry "job" is still an HTTP event
    assert not is_job_payload({**HTTP_EVENT, "job": "x"})


def test_other_objects_are_still_unrecognized(app_factory) -> None:
    h = make_event_handler(app_factory, on_job=lambda payload: None)
    try:
        out = h({"hello": "world"}, ctx())
        assert out["statusCode"] == 400
        assert json.loads(out["body"])["error"] == "INVALID_PARAMETER"
    finally:
        h.close()


def test_a_declared_job_runs_through_the_fc_entry_once(app_factory, services) -> None:
    """index.py's ``on_job`` is the job runner's dispatcher: a redelivered event after the task
    finished runs nothing."""
    import uuid

    from voicefn import jobs
    from voicefn.tasks import create_task, succeed_task

    name = f"fc_entry_job_{uuid.uuid4().hex[:6]}"
    runs: list[int] = []

    @jobs.job(name, function="fcfn", deadline_s=60)
    async def run(ctx: jobs.JobContext) -> None:
        runs.append(ctx.attempt)
        await succeed_task(ctx.services.state, ctx.task_id, {"done": True})

    async def make() -> str:
        task = await create_task(services.state, owner="u1", kind=name, request={})
        return str(task["task_id"])

    task_id = asyncio.run(make())
    h = make_event_handler(app_factory, on_job=jobs.dispatcher("fcfn"))
    try:
        payload = json.dumps(jobs.sign_job(services, name, task_id=task_id, round=0)).encode()
        assert h(payload, ctx()) == {"status": "done"}
        assert h(payload, ctx()) == {"status": "done"}
        with pytest.raises(Exception, match="unknown job"):  # another function's job
            h(json.dumps(jobs.sign_job(services, "asr_advance", task_id=task_id, round=0)).encode(), ctx())
    finally:
        h.close()
    assert runs == [1]
    assert asyncio.run(services.state.get_task(task_id))["result"] == {"done": True}


def test_the_entry_builds_one_services_and_hands_it_to_every_event(app_factory, env, tmp_path) -> None:
    """One FC instance, one Services: the app's routes and the job handler see the same adapters."""
    mine = Services(replace(env, data_dir=tmp_path / "instance"))
    seen: list[Services] = []
    router = plain_router()

    @router.get("/api/audio/which")
    async def which(services: ServicesDep) -> dict[str, str]:
        seen.append(services)
        return {"data_dir": str(services.settings.data_dir)}

    def on_job(payload: dict[str, Any]) -> None:
        seen.append(get_services())

    h = make_event_handler(lambda: build_app(title="t", routers=[router]), on_job=on_job, services=mine)
    try:
        event = json.loads(json.dumps(HTTP_EVENT))
        event["rawPath"] = "/api/audio/which"
        event["requestContext"]["http"].update(path="/api/audio/which", method="GET")
        event["body"], event["isBase64Encoded"] = "", False
        response = h(json.dumps(event), ctx())
        assert response["statusCode"] == 200, response
        assert json.loads(response["body"]) == {"data_dir": str(tmp_path / "instance")}
        h(json.dumps(sign_job(mine, "asr_advance", task_id="t")), ctx())
        assert seen == [mine, mine] and h.services is mine
    finally:
        h.close()
