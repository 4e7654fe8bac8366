"""The playground's static files (issue 11): served by the account function at / and /playground/*,
complete (every file the page references exists), self-contained (nothing from another origin),
and shipped in the account function's zip."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import httpx

from tests.stack import Stack
from voicefn_account.playground_route import ASSETS_DIR, asset_names


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_opening_the_root_gets_the_page_with_its_policy(stack: Stack) -> None:
    opened = httpx.get(f"{stack.base_url}/", headers=BROWSER, timeout=30)
    assert opened.status_code == 307 and opened.headers["location"] == "/playground/"
    page = httpx.get(f"{stack.base_url}/", headers=BROWSER, timeout=30, follow_redirects=True)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>voicefn playground</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    redirect = httpx.get(f"{stack.base_url}/playground", timeout=30)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/playground/"


def test_an_api_client_at_the_root_still_gets_seed_004s_service_information(stack: Stack) -> None:
    info = httpx.get(f"{stack.base_url}/", headers={"Accept": "application/json"}, timeout=30)
    assert info.status_code == 200 and info.json()["endpoints"]["chat"] == "/v1/chat/completions"


def test_every_file_the_page_references_is_served_and_nothing_comes_from_elsewhere(stack: Stack) -> None:
    referenced: set[str] = set()
    for name in asset_names():
        text = (ASSETS_DIR / name).read_text(encoding="utf-8")
        referenced |= set(re.findall(r"""["'](/playground/[\w./-]+)["']""", text))
        # no CDN, no web font, no absolute URL to load (the SVG's namespace is not a fetch)
        assert not re.search(r"""(src|href|import)\s*[=(]?\s*["']https?://""", text), name
        assert "//cdn" not in text and "googleapis" not in text
    assert {"/playground/main.js", "/playground/style.css", "/playground/api.js"} <= referenced
    for path in sorted(referenced):
        response = httpx.get(f"{stack.base_url}{path}", timeout=30)
        assert response.status_code == 200, path
        if path.endswith(".js"):
            assert response.headers["content-type"].startswith("text/javascript")


def test_only_the_playground_files_are_served(stack: Stack) -> None:
    for path in ("/playground/nope.js", "/playground/../app.py", "/playground/%2e%2e/app.py",
                 "/playground/playground_route.py", "/playground/index"):
        response = httpx.get(f"{stack.base_url}{path}", timeout=30)
        assert response.status_code == 404, path
        assert response.json()["code"] == 404


def test_the_account_zip_carries_the_page(tmp_path: Path) -> None:
    from voicefn_local.manifest import load_manifest
    from voicefn_local.package import build_function_zip

    artifact = build_function_zip(load_manifest().functions["account"], tmp_path)
    names = set(zipfile.ZipFile(artifact.path).namelist())
    assert {f"voicefn_account/playground/{name}" for name in asset_names()} <= names
    assert "voicefn_account/playground/index.html" in names
    assert not [n for n in names if "voicefn_local" in n or "dev_token" in n]
