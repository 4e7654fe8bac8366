"""The playground's "use a local dev token" route: `voicefn serve` only, loopback and same-origin
only, and absent from every function app (so from every cloud deployment)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.stack import Stack


def test_mode_and_a_minted_token_that_the_api_accepts(stack: Stack) -> None:
    mode = httpx.get(f"{stack.base_url}/_local/mode", timeout=30).json()
    assert mode["data"] == {"runtime": "local", "dev_token": True, "default_user": "demo"}
    minted = httpx.post(f"{stack.base_url}/_local/dev-token", json={"user": "pg-alice"}, timeout=30)
    assert minted.status_code == 200 and minted.headers["cache-control"] == "no-store"
    data = minted.json()["data"]
    assert data["user_id"] == "pg-alice" and data["expires_in"] == 86400
    key = httpx.get(f"{stack.base_url}/api/audio/settings/api-key", timeout=30,
                    headers={"Authorization": f"Bearer {data['token']}"})
    assert key.status_code == 200 and key.json()["data"]["configured"] is False
    default = httpx.post(f"{stack.base_url}/_local/dev-token", timeout=30).json()["data"]
    assert default["user_id"] == "demo"


def test_another_site_cannot_take_a_token(stack: Stack) -> None:
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = httpx.post(f"{stack.base_url}/_local/dev-token", headers=headers, timeout=30)
        assert refused.status_code == 403, headers
        assert refused.json()["data"] is None and "eyJ" not in refused.text
    host = stack.base_url.split("://", 1)[1]
    same = httpx.post(f"{stack.base_url}/_local/dev-token", headers={"Origin": f"http://{host}"}, timeout=30)
    assert same.status_code == 200


@pytest.mark.parametrize("body", [b"{", b'{"user": ""}', b'{"user": "a b"}', b'["x"]', b'{"user": 3}'])
def test_a_bad_user_is_a_clear_400(stack: Stack, body: bytes) -> None:
    response = httpx.post(f"{stack.base_url}/_local/dev-token", content=body, timeout=30)
    assert response.status_code == 400 and response.json()["message"]


async def test_only_loopback_clients_get_an_answer(stack: Stack) -> None:
    transport = httpx.ASGITransport(app=stack.app, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.post("/_local/dev-token")).status_code == 403
        assert (await client.get("/_local/mode")).status_code == 403


def test_no_function_app_has_the_local_routes(stack: Stack) -> None:
    import importlib

    from voicefn_local.manifest import load_manifest

    manifest = load_manifest()
    assert manifest.match("/_local/dev-token") is None  # no route of the custom domain leads there
    for spec in manifest.functions.values():
        module, _, attr = spec.app_factory.partition(":")
        app = getattr(importlib.import_module(module), attr)(stack.services)
        with TestClient(app) as client:
            for method, path in (("POST", "/_local/dev-token"), ("GET", "/_local/mode")):
                response = client.request(method, path)
                assert response.status_code in (404, 405), (spec.key, path)
                assert "eyJ" not in response.text
