"""The OSS adapter retries a transient 5xx on its (idempotent) calls, and nothing else."""

from __future__ import annotations

import oss2
import pytest

from voicefn.storage.oss_objects import OssObjectStore


def server_error(status: int) -> oss2.exceptions.ServerError:
    return oss2.exceptions.ServerError(status, {}, b"", {})


@pytest.fixture
def store() -> OssObjectStore:
    return OssObjectStore("voicefn-test", "http://127.0.0.1:1", access_key_id="ak", access_key_secret="sk")


async def test_a_transient_500_is_retried(store: OssObjectStore) -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise server_error(500)
        return "ok"

    assert await store._call(flaky) == "ok"
    assert len(calls) == 3


async def test_client_errors_and_persistent_5xx_are_raised(store: OssObjectStore) -> None:
    calls = []

    def forbidden() -> None:
        calls.append(1)
        raise server_error(403)

    with pytest.raises(oss2.exceptions.ServerError):
        await store._call(forbidden)
    assert len(calls) == 1

    def down() -> None:
        calls.append(1)
        raise server_error(503)

    with pytest.raises(oss2.exceptions.ServerError):
        await store._call(down)
    assert len(calls) == 1 + 3
