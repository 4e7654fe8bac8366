"""ObjectStore port: what every function needs of OSS, and what the filesystem adapter mimics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str | None = None


@dataclass(frozen=True)
class PostPolicy:
    """A signed browser/mini-program upload form (OSS PostObject): POST ``fields`` + file to ``url``."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)
    expires_at: int = 0  # unix seconds


@runtime_checkable
class ObjectStore(Protocol):
    bucket: str

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo: ...

    async def get(self, key: str) -> bytes:
        """Raise :class:`ObjectNotFound` when missing."""
        ...

    async def head(self, key: str) -> ObjectInfo | None: ...

    async def delete(self, key: str) -> None:
        """Deleting a missing key is not an error."""
        ...

    def signed_get_url(self, key: str, expires_s: int = 3600) -> str: ...

    def signed_put_url(self, key: str, expires_s: int = 900, content_type: str | None = None) -> str: ...

    def post_policy(self, key: str, expires_s: int = 900, max_size: int = 10 * 1024 * 1024,
                    content_type: str | None = None) -> PostPolicy: ...

    def key_from_url(self, url: str) -> str | None:
        """If ``url`` points into this store (its bucket, or the local object server), the key."""
        ...
