"""ObjectStore port: what every function needs of OSS, and what the filesystem adapter mimics.

Adapters: :class:`voicefn.storage.local_objects.LocalObjectStore` (filesystem, signed URLs served
by the local dev server) and :class:`voicefn.storage.oss_objects.OssObjectStore` (oss2). Both
accept the same keys (:func:`voicefn.storage.keys.validate_key`; anything else raises
:class:`voicefn.storage.keys.InvalidObjectKey`) and both default a missing content type from the
key's extension, as OSS does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


@dataclass(frozen=True)
class ObjectInfo:
    """``etag`` is upper-case hex as OSS sends it (the MD5 of the content for a simple upload)."""

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

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Store ``data`` (replacing any object at ``key``); content type defaults by extension."""
        ...

    async def get(self, key: str) -> bytes:
        """Raise :class:`ObjectNotFound` when missing."""
        ...

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from offset ``start`` (fewer at the end, ``b""`` from or past
        it): a ranged GET, so checking a 200 MB upload never downloads it. Raise
        :class:`ObjectNotFound` when missing."""
        ...

    async def head(self, key: str) -> ObjectInfo | None: ...

    async def delete(self, key: str) -> None:
        """Deleting a missing key is not an error."""
        ...

    def signed_get_url(self, key: str, expires_s: int = 3600) -> str:
        """A URL anyone can GET for ``expires_s`` seconds (OSS: on the public endpoint)."""
        ...

    def signed_put_url(self, key: str, expires_s: int = 900, content_type: str | None = None,
                       max_size: int | None = None) -> str:
        """A URL to PUT the object to; the uploader must send exactly ``content_type`` as its
        Content-Type header (none when None), because it is part of the signature. ``max_size``
        bounds the body where the store can sign it (the local store); an OSS v1 signature cannot
        bind a length, so whoever reads the object checks its size too."""
        ...

    def post_policy(self, key: str, expires_s: int = 900, max_size: int = 10 * 1024 * 1024,
                    content_type: str | None = None) -> PostPolicy:
        """A PostObject form (OSS field names: ``key``, ``policy``, ``OSSAccessKeyId``,
        ``Signature``, ``success_action_status`` = "200", ``x-oss-security-token`` with STS,
        ``Content-Type`` when given) allowing exactly ``key``, at most ``max_size`` bytes. The
        file part must come last in the form."""
        ...

    def key_from_url(self, url: str) -> str | None:
        """If ``url`` points into this store (its bucket, or the local object server), the key."""
        ...

    def signed_key_from_url(self, url: str, now: float | None = None) -> str | None:
        """The key, if ``url`` is a GET URL of this store whose signature is valid and unexpired
        (a capability anyone holding it may use); None for any other URL."""
        ...
