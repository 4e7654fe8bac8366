"""Cold start: importing the ports and the local adapters must not pull in cloud SDKs."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("oss2", "tablestore", "alibabacloud_fc20230330", "alibabacloud_tea_openapi", "cryptography")


@pytest.mark.parametrize("module", [
    "voicefn.storage.objects", "voicefn.storage.state", "voicefn.storage.local_objects",
    "voicefn.storage.sqlite_state", "voicefn.storage.oss_objects", "voicefn.storage.tablestore_state",
    "voicefn.storage.factory", "voicefn.invoke.inprocess", "voicefn.invoke.fc", "voicefn.secrets",
])
def test_importing_does_not_load_cloud_sdks(module: str) -> None:
    code = (f"import sys, {module}\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imported {out.stdout.strip()}"
