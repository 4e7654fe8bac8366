"""/docs and /redoc work without internet and describe what the API really does (issue 7)."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from tests.stack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# every name resolves to nothing except loopback: the page can only use what this server sends
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--disable-background-networking"]


def openapi(stack: Stack) -> dict:
    return httpx.get(f"{stack.base_url}/openapi.json", timeout=30).json()


def test_the_document_has_bearer_auth_and_the_errors_routes_really_return(stack: Stack) -> None:
    spec = openapi(stack)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    operations = [op for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert not [op for op in operations if "422" in op.get("responses", {})]  # never sent
    synth = spec["paths"]["/api/audio/tts/synthesize"]["post"]
    assert synth["security"] == [{"bearerAuth": []}]
    assert {"400", "401", "403", "429", "502", "504"} <= set(synth["responses"])
    assert synth["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}
    speech = spec["paths"]["/v1/audio/speech"]["post"]
    assert speech["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIError"}
    task = spec["paths"]["/api/audio/asr/task/{task_id}"]["get"]
    assert "404" in task["responses"]
    catalog = spec["paths"]["/api/audio/tts/models"]["get"]
    assert "security" not in catalog and "401" not in catalog["responses"]  # public
    assert [s["path"] for s in spec["x-websockets"]] == ["/api/audio/tts/stream", "/v1/chat/audio", "/v1/chat/vlm"]
    assert '{"type": "text", "content": "..."}' in spec["info"]["description"]


@pytest.mark.parametrize("page, asset", [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_pages_load_their_assets_from_this_server(stack: Stack, page: str, asset: str) -> None:
    html = httpx.get(f"{stack.base_url}{page}").text
    assert f"/docs/assets/{asset}" in html and "cdn.jsdelivr" not in html and "fonts.googleapis" not in html
    served = httpx.get(f"{stack.base_url}/docs/assets/{asset}")
    assert served.status_code == 200 and len(served.content) > 100_000
    assert httpx.get(f"{stack.base_url}/docs/assets/..%2Fcore.py").status_code == 404


def render(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           *NO_NETWORK, "--virtual-time-budget=10000", *extra, url],
                          capture_output=True, text=True, timeout=90)


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="headless Chromium is not installed: `make install` "
                    "installs Debian's chromium when run as root (apt-get); without it this check cannot run")
@pytest.mark.parametrize("page, marker", [("/docs", 'data-path="/api/audio/tts/synthesize"'),
                                          ("/redoc", "/api/audio/tts/synthesize")])
def test_docs_render_in_headless_chromium_without_network(stack: Stack, page: str, marker: str) -> None:
    dom = render(f"{stack.base_url}{page}", "--dump-dom").stdout
    assert marker in dom, dom[-2000:]
    if page == "/docs":
        for path in ("/api/audio/asr/transcribe", "/v1/audio/speech", "/api/tts", "/api/audio/history"):
            assert f'data-path="{path}"' in dom
        assert "Authorize" in dom
