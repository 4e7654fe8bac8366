"""Local OSS events: uploads to the dev server reach the functions whose s.yaml triggers match.

The functions here are throwaway packages written to a temporary directory and declared in a
test s.yaml next to the real account function (which hands out the upload tickets), so these
tests do not depend on the asr function.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stack import free_port, isolated_env
from voicefn.storage.objects import ObjectInfo
from voicefn_local.manifest import Manifest, load_manifest
from voicefn_local.oss_events import OssEventDispatcher, build_oss_event
from voicefn_local.runtime import LocalApp

SAMPLE = Path(__file__).resolve().parents[1] / "voicefn" / "web" / "fc3_events" / "event-oss.json"

# probe: async handler, records every delivery and fails the first FAIL_TIMES of them
PROBE = '''
import asyncio
import threading

CALLS = []
FAIL_TIMES = 0
LOCK = threading.Lock()


async def on_oss_event(event, context):
    global FAIL_TIMES
    await asyncio.sleep(0)
    with LOCK:
        CALLS.append((event, context))
        if FAIL_TIMES > 0:
            FAIL_TIMES -= 1
            raise RuntimeError("probe told to fail")
    return {"ok": True}
'''

# other: a plain (sync) handler, run off the event loop
OTHER = '''
import threading

CALLS = []


def on_oss_event(event, context):
    CALLS.append((event, context, threading.current_thread().name))
'''

S_YAML = """
edition: 3.0.0
name: oss-events-test
vars:
  region: cn-hangzhou
  bucket: cloud-bucket
resources:
  account:
    component: fc3
    props: {functionName: t-account, runtime: python3.12, code: ./dist/account.zip, handler: index.handler,
            triggers: [{triggerName: http, triggerType: http, triggerConfig: {methods: [GET, POST]}}]}
  ossprobe:
    component: fc3
    props:
      functionName: t-probe
      runtime: python3.12
      code: ./dist/ossprobe.zip
      handler: index.handler
      triggers:
        - triggerName: oss-asr
          triggerType: oss
          sourceArn: acs:oss:${vars.region}:123:${vars.bucket}
          triggerConfig:
            events: [oss:ObjectCreated:PutObject, oss:ObjectCreated:PostObject]
            filter: {key: {prefix: uploads/asr/, suffix: ''}}
  ossother:
    component: fc3
    props:
      functionName: t-other
      runtime: python3.12
      code: ./dist/ossother.zip
      handler: index.handler
      triggers:
        - triggerName: oss-voice
          triggerType: oss
          sourceArn: acs:oss:${vars.region}:123:${vars.bucket}
          triggerConfig:
            events: ['oss:ObjectCreated:*']
            filter: {key: {prefix: uploads/voice/, suffix: .wav}}
  broken:
    component: fc3
    props:
      functionName: t-broken
      runtime: python3.12
      code: ./dist/ossbroken.zip
      handler: index.handler
      triggers:
        - triggerName: oss-broken
          triggerType: oss
          sourceArn: acs:oss:${vars.region}:123:${vars.bucket}
          triggerConfig:
            events: [oss:ObjectCreated:PutObject]
            filter: {key: {prefix: broken/, suffix: ''}}
  domain:
    component: fc3-domain
    props:
      routeConfig:
        routes:
          - {path: /api/audio/uploads, functionName: t-account}
          - {path: /api/audio/uploads/*, functionName: t-account}
"""


@dataclass
class Server:
    base_url: str
    app: LocalApp
    probe: Any
    other: Any

    def headers(self, user: str) -> dict[str, str]:
        from voicefn.auth.jwt import issue_token, local_jwt_secret

        return {"Authorization": f"Bearer {issue_token(user, local_jwt_secret(self.app.services.settings))}"}

    def ticket(self, user: str, **body: Any) -> dict[str, Any]:
        payload = {"purpose": "asr", "filename": "a.wav", "content_type": "audio/wav", "size": 64, **body}
        response = httpx.post(f"{self.base_url}/api/audio/uploads", json=payload, headers=self.headers(user))
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def wait(self) -> None:
        self.app.oss_events.wait_idle(30)


def _write_package(root: Path, name: str, events_source: str) -> Path:
    package = root / "functions" / name / f"voicefn_{name}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "events.py").write_text(textwrap.dedent(events_source))
    return package.parent


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="voicefn-oss-events-") as tmp:
        root = Path(tmp)
        paths = [str(_write_package(root, "ossprobe", PROBE)), str(_write_package(root, "ossother", OTHER))]
        (root / "s.yaml").write_text(S_YAML)
        sys.path[:0] = paths
        try:
            yield root
        finally:
            for path in paths:
                sys.path.remove(path)
            for name in [m for m in sys.modules if m.startswith(("voicefn_ossprobe", "voicefn_ossother"))]:
                del sys.modules[name]


@pytest.fixture(scope="module")
def manifest(root: Path) -> Manifest:
    return load_manifest(root / "s.yaml", env={})


@pytest.fixture(scope="module")
def server(root: Path, manifest: Manifest) -> Iterator[Server]:
    """The test s.yaml served like `voicefn serve` would, with its own data dir and settings."""
    from voicefn.services import Services
    from voicefn_local.runtime import build_local_app, local_settings
    from voicefn_local.servers import run_in_thread

    with isolated_env(clear=True):
        port = free_port()
        services = Services(local_settings("127.0.0.1", port, root / "data"))
        app = build_local_app(manifest, services=services, mount_dashscope=False)
        app.oss_events.backoff_s = 0.01
        handle = run_in_thread(app, port=port)
        try:
            yield Server(handle.base_url, app, importlib.import_module("voicefn_ossprobe.events"),
                         importlib.import_module("voicefn_ossother.events"))
        finally:
            handle.stop()


@pytest.fixture
def clean(server: Server) -> Server:
    server.wait()
    server.probe.CALLS.clear()
    server.probe.FAIL_TIMES = 0
    server.other.CALLS.clear()
    return server


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, recursively."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


# ---- the event JSON ---------------------------------------------------------------------------

def test_the_event_has_the_sample_s_structure_key_for_key() -> None:
    sample = json.loads(SAMPLE.read_text())
    event = build_oss_event(bucket="voicefn-audio", key="uploads/asr/u1/x.wav", size=122539,
                            etag="688A7BF4F233DC9C88A80BF985AB7329", region="cn-shanghai", account_id="123456789")
    assert _shape(event) == _shape(sample)
    (record,) = event["events"]
    assert record["eventName"] == "ObjectCreated:PutObject" and record["eventSource"] == "acs:oss"
    assert record["oss"]["bucket"] == {"arn": "acs:oss:cn-shanghai:123456789:voicefn-audio", "name": "voicefn-audio",
                                       "ownerIdentity": "123456789", "virtualBucket": ""}
    assert record["oss"]["object"] == {"deltaSize": 122539, "eTag": "688A7BF4F233DC9C88A80BF985AB7329",
                                       "key": "uploads/asr/u1/x.wav", "size": 122539}
    assert (record["eventVersion"], record["oss"]["ossSchemaVersion"]) == ("1.0", "1.0")
    assert record["region"] == "cn-shanghai" and record["userIdentity"] == {"principalId": "123456789"}
    # the sample's time format: milliseconds and Z
    assert len(record["eventTime"]) == len(sample["events"][0]["eventTime"]) and record["eventTime"].endswith("Z")
    # trigger configs write the event with oss:, the event itself never does
    assert build_oss_event(bucket="b", key="k", size=1, etag="E",
                           event_name="oss:ObjectCreated:PostObject")["events"][0]["eventName"] == \
        "ObjectCreated:PostObject"


def test_the_fc_event_entry_recognizes_a_local_event() -> None:
    from voicefn.web.fc3_http import is_oss_event

    assert is_oss_event(build_oss_event(bucket="b", key="k", size=1, etag="E"))


# ---- uploads to the running server ------------------------------------------------------------

def test_a_put_upload_reaches_the_matching_function(clean: Server) -> None:
    ticket = clean.ticket("putter")
    data = b"RIFF" + bytes(60)
    response = httpx.put(ticket["put_url"], content=data, headers=ticket["put_headers"])
    assert response.status_code == 200, response.text
    clean.wait()
    (event, context), = clean.probe.CALLS
    (record,) = event["events"]
    assert record["eventName"] == "ObjectCreated:PutObject"
    assert record["oss"]["object"] == {"deltaSize": 64, "eTag": hashlib.md5(data).hexdigest().upper(),
                                       "key": ticket["key"], "size": 64}
    assert record["oss"]["bucket"]["name"] == clean.app.services.settings.oss_bucket  # the local store's bucket
    assert context.request_id and context.function.name == "t-probe" and context.attempt == 1
    assert clean.other.CALLS == []  # uploads/voice/ is another function's prefix


def test_a_post_form_upload_is_a_post_object_event(clean: Server) -> None:
    ticket = clean.ticket("poster")
    response = httpx.post(ticket["post"]["url"], data=ticket["post"]["fields"],
                          files={"file": ("a.wav", b"x" * 64, "audio/wav")})
    assert response.status_code == 200, response.text
    clean.wait()
    (event, _), = clean.probe.CALLS
    assert event["events"][0]["eventName"] == "ObjectCreated:PostObject"
    assert event["events"][0]["oss"]["object"]["key"] == ticket["key"]


def test_other_prefixes_and_suffixes_go_elsewhere_or_nowhere(clean: Server) -> None:
    voice = clean.ticket("voicer", purpose="voice")
    assert httpx.put(voice["put_url"], content=b"v" * 64, headers=voice["put_headers"]).status_code == 200
    # an object outside every trigger's prefix (what tts stores), and one with the wrong suffix
    store = clean.app.services.objects
    for key, content_type in (("audio/tts/20250101/x.mp3", "audio/mpeg"), ("uploads/voice/u/x.mp3", "audio/mpeg")):
        url = store.signed_put_url(key, 60, content_type)
        assert httpx.put(url, content=b"a", headers={"Content-Type": content_type}).status_code == 200
    clean.wait()
    assert clean.probe.CALLS == []
    (event, context, thread), = clean.other.CALLS
    assert event["events"][0]["oss"]["object"]["key"] == voice["key"]
    assert context.function.name == "t-other"
    assert thread != threading.main_thread().name and not thread.startswith("uvicorn")  # off the loop


def test_a_refused_upload_raises_no_event(clean: Server) -> None:
    ticket = clean.ticket("refused", size=10)
    too_big = httpx.post(ticket["post"]["url"], data=ticket["post"]["fields"],
                         files={"file": ("a.wav", b"x" * 11, "audio/wav")})
    wrong_type = httpx.put(ticket["put_url"], content=b"x", headers={"Content-Type": "audio/mpeg"})
    assert too_big.status_code >= 400 and wrong_type.status_code == 403
    clean.wait()
    assert clean.probe.CALLS == []


def test_a_failing_handler_is_retried_with_the_same_event(clean: Server) -> None:
    clean.probe.FAIL_TIMES = 2
    ticket = clean.ticket("flaky")
    assert httpx.put(ticket["put_url"], content=b"x" * 64, headers=ticket["put_headers"]).status_code == 200
    clean.wait()
    calls = clean.probe.CALLS
    assert len(calls) == 3
    assert [c.attempt for _, c in calls] == [1, 2, 3]
    assert calls[0][0] == calls[1][0] == calls[2][0]       # the same event every time
    assert calls[0][0] is not calls[1][0]                   # as a fresh copy, as a queue delivers it
    assert len({c.request_id for _, c in calls}) == 1      # one invocation, retried


def test_a_handler_that_keeps_failing_is_given_up_after_three_attempts(clean: Server) -> None:
    clean.probe.FAIL_TIMES = 10
    ticket = clean.ticket("hopeless")
    assert httpx.put(ticket["put_url"], content=b"x" * 64, headers=ticket["put_headers"]).status_code == 200
    clean.wait()
    assert len(clean.probe.CALLS) == 3


# ---- the dispatcher on its own ----------------------------------------------------------------

async def test_drain_waits_for_every_delivery_and_redeliver_repeats_one(root: Path, manifest: Manifest,
                                                                        server: Server) -> None:
    server.wait()
    probe = server.probe
    probe.CALLS.clear()
    probe.FAIL_TIMES = 0
    dispatcher = OssEventDispatcher(manifest, "my-bucket", backoff_s=0.01)
    info = ObjectInfo(key="uploads/asr/u/" + "a" * 32 + ".wav", size=5, etag="ETAG", content_type="audio/wav")
    assert await dispatcher.on_created(info) == ["ossprobe"]
    assert dispatcher.pending == 1
    await dispatcher.drain()
    assert dispatcher.pending == 0
    (event, _), = probe.CALLS
    assert event["events"][0]["oss"]["bucket"]["name"] == "my-bucket"
    assert await dispatcher.redeliver(event) == ["ossprobe"]
    await dispatcher.drain()
    assert len(probe.CALLS) == 2 and probe.CALLS[1][0] == event
    # nothing matches: nothing is queued
    assert await dispatcher.on_created(ObjectInfo("somewhere/else.wav", 1, "E")) == []
    assert await dispatcher.on_created(info, "ObjectCreated:CopyObject") == []
    assert dispatcher.pending == 0


async def test_a_function_without_an_events_module_is_logged_not_retried(manifest: Manifest,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = OssEventDispatcher(manifest, "b", backoff_s=0.01)
    assert await dispatcher.on_created(ObjectInfo("broken/x.wav", 1, "E")) == ["broken"]
    await dispatcher.drain()
    assert any("voicefn_ossbroken" in r.getMessage() for r in caplog.records)


async def test_close_cancels_pending_deliveries(manifest: Manifest, server: Server) -> None:
    server.wait()
    server.probe.FAIL_TIMES = 10
    dispatcher = OssEventDispatcher(manifest, "b", backoff_s=30)  # the retry would wait long
    try:
        await dispatcher.on_created(ObjectInfo("uploads/asr/u/x.wav", 1, "E"))
        for _ in range(100):
            if server.probe.CALLS:
                break
            await asyncio.sleep(0.01)
        await dispatcher.close()
        assert dispatcher.pending == 0
    finally:
        server.probe.FAIL_TIMES = 0
        server.probe.CALLS.clear()
