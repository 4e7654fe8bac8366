"""Filesystem ObjectStore: OSS on a laptop (``voicefn serve``, tests).

Objects live at ``root/bucket/key``; a JSON sidecar at ``root/.meta/bucket/key`` keeps the
content type, size and etag so that ``head`` answers what OSS would. Writes go to a temp file in
``root/.tmp`` and are renamed into place, so a reader never sees half an object. Signed URLs point
at the local dev server (``voicefn_local.object_server``), which checks them with the ``verify_*``
helpers here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterable, Awaitable, Callable, Mapping
from urllib.parse import quote, unquote, urlsplit

from voicefn.storage import signing
from voicefn.storage.keys import InvalidObjectKey, guess_content_type, validate_key
from voicefn.storage.objects import ObjectInfo, ObjectNotFound, PostPolicy

OnCreated = Callable[[ObjectInfo], Awaitable[None]]


class ObjectTooLarge(signing.ObjectAccessError):
    """A streamed upload went past the size it was allowed (what OSS answers: EntityTooLarge)."""

    code = "EntityTooLarge"
    status = 400

log = logging.getLogger(__name__)

_META_DIR = ".meta"
_TMP_DIR = ".tmp"


def derive_object_secret(master_key: bytes) -> bytes:
    """The local URL-signing secret, derived from the master key so there is one secret to keep."""
    return hashlib.sha256(b"voicefn/local-object-urls/v1\x00" + master_key).digest()


class LocalObjectStore:
    """ObjectStore on the filesystem with HMAC-signed URLs served by the local dev server."""

    def __init__(self, root: Path, bucket: str, base_url: str, secret: bytes,
                 on_created: OnCreated | None = None) -> None:
        if not secret:
            raise ValueError("LocalObjectStore needs a non-empty signing secret")
        if not bucket or "/" in bucket or bucket.startswith("."):
            raise ValueError(f"invalid bucket name {bucket!r}")
        self.root = Path(root)
        self.bucket = bucket
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        # called after every successful put (the local runtime turns it into OSS events)
        self.on_created: OnCreated | None = on_created

    def __repr__(self) -> str:
        return f"LocalObjectStore(root={str(self.root)!r}, bucket={self.bucket!r}, base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Any, master_key: bytes | None = None) -> "LocalObjectStore":
        """Build from :class:`voicefn.settings.Settings` (objects under ``data_dir/objects``)."""
        if master_key is None:
            from voicefn.secrets import load_master_key

            master_key = load_master_key(settings)
        return cls(settings.objects_dir, settings.oss_bucket, settings.public_base_url,
                   derive_object_secret(master_key))

    # -- paths --------------------------------------------------------------------------------

    def _bucket_dir(self) -> Path:
        return self.root / self.bucket

    def path_for(self, key: str) -> Path:
        """The file holding ``key`` (validated; never outside the bucket directory)."""
        validate_key(key)
        bucket_dir = self._bucket_dir().resolve()
        path = (bucket_dir / key).resolve()
        if bucket_dir not in path.parents:
            raise InvalidObjectKey("object key escapes the bucket")
        return path

    def _meta_path(self, key: str) -> Path:
        # a mirror of the data tree: it cannot clash where the data tree does not
        return self.root / _META_DIR / self.bucket / key

    # -- sync core (run in a thread) -----------------------------------------------------------

    def _write_atomic(self, target: Path, data: bytes) -> None:
        tmp_dir = self.root / _TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp_name, target)
        except BaseException:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
            raise

    def _put_sync(self, key: str, data: bytes, content_type: str | None) -> ObjectInfo:
        path = self.path_for(key)
        content_type = content_type or guess_content_type(key)
        etag = hashlib.md5(data).hexdigest().upper()  # OSS's etag for a simple upload
        try:
            if path.is_dir():
                raise IsADirectoryError(key)
            self._write_atomic(path, data)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            # OSS can hold both "a" and "a/b"; a filesystem cannot
            raise InvalidObjectKey(f"{key!r} clashes with another object's path in the local store") from None
        return self._write_meta(key, path, len(data), etag, content_type)

    def _write_meta(self, key: str, path: Path, size: int, etag: str, content_type: str) -> ObjectInfo:
        stat = path.stat()
        meta = {"content_type": content_type, "etag": etag, "size": size, "mtime_ns": stat.st_mtime_ns}
        self._write_atomic(self._meta_path(key), json.dumps(meta).encode("utf-8"))
        return ObjectInfo(key=key, size=size, etag=etag, content_type=content_type)

    def _install_sync(self, key: str, tmp_name: str, size: int, etag: str, content_type: str) -> ObjectInfo:
        """Rename a fully written temp file into place as ``key`` (readers never see half of it)."""
        path = self.path_for(key)
        try:
            if path.is_dir():
                raise IsADirectoryError(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, path)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            raise InvalidObjectKey(f"{key!r} clashes with another object's path in the local store") from None
        return self._write_meta(key, path, size, etag, content_type)

    def _head_sync(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        try:
            meta = json.loads(self._meta_path(key).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            meta = {}
        content_type = meta.get("content_type")
        etag = meta.get("etag")
        # a sidecar from another (racing or interrupted) write does not describe this file
        if meta.get("size") != stat.st_size or meta.get("mtime_ns") != stat.st_mtime_ns or not etag:
            etag = _md5_file(path)
        return ObjectInfo(key=key, size=stat.st_size, etag=etag, content_type=content_type)

    def _get_sync(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def _get_range_sync(self, key: str, start: int, length: int) -> bytes:
        path = self.path_for(key)
        try:
            with path.open("rb") as fh:
                if start < 0 or length <= 0:
                    return b""
                fh.seek(start)
                return fh.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def _delete_sync(self, key: str) -> None:
        path = self.path_for(key)
        for target in (path, self._meta_path(key)):
            try:
                target.unlink()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                pass

    # -- ObjectStore -----------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        info = await asyncio.to_thread(self._put_sync, key, bytes(data), content_type)
        await self._created(info)
        return info

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None,
                         max_size: int | None = None) -> ObjectInfo:
        """Store a body as it arrives (the object server's uploads): chunks go to a temp file in the
        store's directory, counted and hashed on the way, and the file is renamed into place when
        the body is complete. Past ``max_size`` bytes it stops reading and raises
        :class:`ObjectTooLarge`; nothing is stored then. Memory stays at one chunk."""
        self.path_for(key)  # refuse a bad key before reading a byte
        content_type = content_type or guess_content_type(key)
        tmp_dir = self.root / _TMP_DIR
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        digest = hashlib.md5()
        size = 0
        installed = False
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise ObjectTooLarge(f"your upload exceeds the maximum allowed size ({max_size} bytes)")
                    digest.update(chunk)
                    await asyncio.to_thread(fh.write, chunk)
            info = await asyncio.to_thread(self._install_sync, key, tmp_name, size, digest.hexdigest().upper(),
                                           content_type)
            installed = True
        finally:
            if not installed:
                try:
                    os.unlink(tmp_name)
                except FileNotFoundError:
                    pass
        await self._created(info)
        return info

    async def _created(self, info: ObjectInfo) -> None:
        if self.on_created is not None:
            try:
                await self.on_created(info)
            except Exception:  # as with OSS, a failed event delivery does not fail the upload
                log.exception("on_created hook failed for %s", info.key)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get_sync, key)

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        return await asyncio.to_thread(self._get_range_sync, key, int(start), int(length))

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head_sync, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete_sync, key)

    # -- URLs ----------------------------------------------------------------------------------

    def object_url(self, key: str) -> str:
        """The unsigned URL of ``key`` on the local object server."""
        validate_key(key)
        return f"{self.base_url}/_objects/{self.bucket}/{quote(key, safe='/')}"

    def _signed(self, method: str, key: str, expires_s: int, content_type: str | None,
                max_size: int | None = None) -> str:
        expires = int(time.time()) + int(expires_s)
        sig = signing.url_signature(self._secret, method, self.bucket, key, expires, content_type, max_size)
        limit = "" if max_size is None else f"&max_size={int(max_size)}"
        return f"{self.object_url(key)}?expires={expires}{limit}&signature={sig}"

    def signed_get_url(self, key: str, expires_s: int = 3600) -> str:
        return self._signed("GET", key, expires_s, None)

    def signed_put_url(self, key: str, expires_s: int = 900, content_type: str | None = None,
                       max_size: int | None = None) -> str:
        """The uploader must send exactly ``content_type`` as Content-Type (none if None), as OSS;
        ``max_size`` is signed into the URL and the object server refuses a larger body."""
        return self._signed("PUT", key, expires_s, content_type, max_size)

    def post_policy(self, key: str, expires_s: int = 900, max_size: int = 10 * 1024 * 1024,
                    content_type: str | None = None) -> PostPolicy:
        validate_key(key)
        expires_at = int(time.time()) + int(expires_s)
        policy_b64 = signing.encode_policy(
            signing.build_policy(self.bucket, key, expires_at, max_size, content_type))
        fields = {
            "key": key,
            "policy": policy_b64,
            "OSSAccessKeyId": signing.LOCAL_ACCESS_KEY_ID,
            "Signature": signing.policy_signature(self._secret, policy_b64),
            "success_action_status": "200",
        }
        if content_type:
            fields["Content-Type"] = content_type
        return PostPolicy(url=f"{self.base_url}/_objects/{self.bucket}", fields=fields,
                          expires_at=expires_at)

    def key_from_url(self, url: str) -> str | None:
        """``{base_url}/_objects/{bucket}/{key}`` (signed or not) -> key; anything else -> None."""
        try:
            parts = urlsplit(url)
            base = urlsplit(self.base_url)
        except ValueError:
            return None
        if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
            return None
        prefix = f"{base.path.rstrip('/')}/_objects/{self.bucket}/"
        if not parts.path.startswith(prefix):
            return None
        key = unquote(parts.path[len(prefix):])
        try:
            return validate_key(key)
        except InvalidObjectKey:
            return None

    def signed_key_from_url(self, url: str, now: float | None = None) -> str | None:
        """The key of a valid, unexpired signed GET URL of this store, else None."""
        key = self.key_from_url(url)
        if key is None:
            return None
        query = signing.query_params(url)
        try:
            self.verify_get(key, query.get("expires"), query.get("signature"), now)
        except (signing.UrlSignatureError, InvalidObjectKey):
            return None
        return key

    # -- verification (used by the object server) --------------------------------------------

    def verify_get(self, key: str, expires: str | int | None, signature: str | None,
                   now: float | None = None) -> None:
        """Raise :class:`~voicefn.storage.signing.UrlSignatureError` unless the GET URL is valid."""
        validate_key(key)
        signing.check_url_signature(self._secret, "GET", self.bucket, key, expires, signature, None, now)

    def verify_put(self, key: str, expires: str | int | None, signature: str | None,
                   content_type: str | None = None, now: float | None = None,
                   max_size: str | int | None = None) -> None:
        """As :meth:`verify_get`; ``content_type`` is the request's Content-Type header and
        ``max_size`` the URL's ``max_size`` parameter (signed too, so it cannot be raised)."""
        validate_key(key)
        signing.check_url_signature(self._secret, "PUT", self.bucket, key, expires, signature,
                                    content_type or None, now, max_size)

    def verify_post_form(self, fields: Mapping[str, str], file_size: int,
                         content_type: str | None = None, now: float | None = None) -> str:
        """Check a PostObject form against its policy; return the key. Raises
        :class:`~voicefn.storage.signing.PostPolicyError` or :class:`InvalidObjectKey`."""
        key = signing.check_post_form(self._secret, self.bucket, fields, file_size, content_type, now)
        return validate_key(key)


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest().upper()
