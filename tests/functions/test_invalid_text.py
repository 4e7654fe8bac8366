"""Text that is not valid Unicode is refused with the route's 400, never a 500 (issue 7).

Two ways to send it: a JSON escape of a lone surrogate ("a\\ud800b"), and raw bytes that are not
UTF-8 (ED A0 80 is a surrogate encoded as if it were a character).
"""

from __future__ import annotations

import pytest

from tests.stack import Stack

LONE = '"a\\ud800b"'            # JSON text: a lone surrogate escape
RAW = b'"a\xed\xa0\x80b"'         # bytes: a UTF-8-encoded surrogate (invalid UTF-8)

CASES = [
    # path, JSON body with TEXT where the text goes, the field a client must fix, error format
    ("/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": TEXT}', "envelope"),
    ("/api/audio/tts/synthesize", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "hi", '
                                  '"stream": true, "instruction": TEXT}', "envelope"),
    ("/api/audio/tts/synthesize-long", '{"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": TEXT}',
     "envelope"),
    ("/v1/audio/speech", '{"model": "tts-1", "voice": "alloy", "input": TEXT}', "openai"),
    ("/v1/audio/speech", '{"model": TEXT, "voice": "alloy", "input": "hello"}', "openai"),
    ("/api/tts", '{"text": TEXT}', "seed000"),
    ("/api/tts", '{"text": "你好", "voice": TEXT}', "seed000"),
    ("/api/audio/asr/transcribe", '{"model": "qwen3-asr-flash-filetrans", '
                                  '"file_url": "http://93.184.216.34/a.wav", "language": TEXT}', "envelope"),
    ("/api/audio/asr/recognize", '{"model": "qwen3-asr-flash", "audio_base64": "AAAA", "language": TEXT}',
     "envelope"),
]


def assert_refused(response, fmt: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    if fmt == "envelope":
        assert body["code"] == 400 and body["error"] == "INVALID_PARAMETER" and body["data"] is None
    elif fmt == "openai":
        assert body["error"]["type"] == "invalid_request_error"
    else:
        assert body["code"] == "InvalidParameter" and body["message"]


@pytest.mark.parametrize("path, template, fmt", CASES)
@pytest.mark.parametrize("how", ["escape", "raw"])
def test_invalid_unicode_is_a_400_in_the_routes_format(stack: Stack, path: str, template: str, fmt: str,
                                                       how: str) -> None:
    if how == "escape":
        content = template.replace("TEXT", LONE).encode()
    else:
        head, _, tail = template.partition("TEXT")
        content = head.encode() + RAW + tail.encode()
    with stack.client("bad-unicode") as client:
        response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert_refused(response, fmt)
