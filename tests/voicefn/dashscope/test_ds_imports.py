"""Importing the DashScope client is cheap: no SDK, and no websockets until a WS session opens."""

from __future__ import annotations

import subprocess
import sys


def test_http_users_do_not_load_websockets_or_the_sdk():
    code = ("import sys, voicefn.dashscope as d; d.DashScopeClient; d.qwen_tts; d.to_api_error; "
            "import voicefn.dashscope.client, voicefn.dashscope.tts_ws; "
            "loaded = [m for m in ('websockets', 'dashscope') if m in sys.modules]; "
            "print(','.join(loaded))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
