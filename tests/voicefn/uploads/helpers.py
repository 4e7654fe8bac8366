"""Helpers of the upload tests: a store that counts what is read, large audio made cheaply."""

from __future__ import annotations

from voicefn.audio import wav
from voicefn.storage.local_objects import LocalObjectStore
from voicefn.storage.objects import ObjectInfo


class CountingStore:
    """A store that counts what is read through it (and refuses whole-object reads)."""

    def __init__(self, inner: LocalObjectStore) -> None:
        self.inner = inner
        self.bucket = inner.bucket
        self.bytes_read = 0
        self.ranges: list[tuple[int, int]] = []

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        return await self.inner.put(key, data, content_type)

    async def head(self, key: str) -> ObjectInfo | None:
        return await self.inner.head(key)

    async def get(self, key: str) -> bytes:
        raise AssertionError("the check read the whole object")

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        data = await self.inner.get_range(key, start, length)
        self.bytes_read += len(data)
        self.ranges.append((start, len(data)))
        return data


def big_wav(seconds: float, rate: int = 16000) -> bytes:
    samples = int(seconds * rate) * 2
    return wav.header(wav.pcm16_fmt(rate), samples) + bytes(samples)
