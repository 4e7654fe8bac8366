"""Which URLs of our own store count as a capability: valid, unexpired signed GET URLs only."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.urls import with_query

from voicefn.storage.local_objects import LocalObjectStore
from voicefn.storage.oss_objects import OssObjectStore

KEY = "audio/tts/20260101/0123456789abcdef0123456789abcdef.mp3"



def altered(sig: str) -> str:
    # a digit: a letter swapped for its other case would still be the same hex signature
    return ("0" if sig[0] != "0" else "1") + sig[1:]


@pytest.fixture(params=["local", "oss", "oss-sts"])
def store(request: pytest.FixtureRequest, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path, "vf-bucket", "http://127.0.0.1:8000", b"secret"), "expires", "signature"
    token = "sts-token/with+odd=chars" if request.param == "oss-sts" else None
    oss = OssObjectStore("vf-bucket", "https://oss-cn-beijing-internal.aliyuncs.com", access_key_id="ak",
                         access_key_secret="sk", security_token=token,
                         public_endpoint="https://oss-cn-beijing.aliyuncs.com")
    return oss, "Expires", "Signature"


def test_a_fresh_signed_url_is_a_capability(store) -> None:
    objects, _, _ = store
    assert objects.signed_key_from_url(objects.signed_get_url(KEY, 600)) == KEY


def test_stripped_altered_or_expired_signatures_are_not(store) -> None:
    objects, expires, signature = store
    url = objects.signed_get_url(KEY, 600)
    query = dict(parse_qsl(urlsplit(url).query))
    assert objects.signed_key_from_url(url.split("?", 1)[0]) is None                     # stripped
    assert objects.signed_key_from_url(with_query(url, **{signature: None})) is None     # no signature
    assert objects.signed_key_from_url(with_query(url, **{signature: altered(query[signature])})) is None
    later = str(int(query[expires]) + 3600)
    assert objects.signed_key_from_url(with_query(url, **{expires: later})) is None      # extended expiry
    other = url.replace("0123456789abcdef", "fedcba9876543210", 1)
    assert objects.signed_key_from_url(other) is None                                    # another key
    assert objects.signed_key_from_url(url, now=time.time() + 601) is None               # expired
    assert objects.signed_key_from_url(objects.signed_put_url(KEY, 600)) is None         # a PUT URL
    assert objects.signed_key_from_url("https://example.com/" + KEY) is None


def test_oss_signed_urls_of_other_credentials_do_not_verify() -> None:
    mine = OssObjectStore("vf-bucket", "https://oss-cn-beijing.aliyuncs.com", access_key_id="ak",
                          access_key_secret="sk")
    theirs = OssObjectStore("vf-bucket", "https://oss-cn-beijing.aliyuncs.com", access_key_id="ak",
                            access_key_secret="another-secret")
    assert mine.signed_key_from_url(theirs.signed_get_url(KEY, 600)) is None
