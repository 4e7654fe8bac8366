"""OSS ObjectStore (cloud): oss2 with STS credentials, every blocking call run in a thread.

``oss2`` is imported in the constructor, not at module import, because FC cold start pays for
every import and most invocations of some functions never touch OSS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from voicefn.storage import signing
from voicefn.storage.keys import InvalidObjectKey, guess_content_type, validate_key
from voicefn.storage.objects import ObjectInfo, ObjectNotFound, PostPolicy

T = TypeVar("T")

_ATTEMPTS = 3  # OSS (and moto in tests) answers the odd transient 5xx


def _with_scheme(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    return endpoint if "://" in endpoint else f"https://{endpoint}"


def _is_ip_or_localhost(host: str) -> bool:
    import oss2.utils

    return bool(oss2.utils.is_ip_or_localhost(host))


def _host_variants(host: str) -> set[str]:
    """An OSS endpoint host and its internal/public twin (objects are the same on both)."""
    host = host.lower()
    variants = {host}
    if host.startswith("oss-") and host.endswith(".aliyuncs.com"):
        region_part = host[: -len(".aliyuncs.com")]
        if region_part.endswith("-internal"):
            variants.add(region_part[: -len("-internal")] + ".aliyuncs.com")
        else:
            variants.add(region_part + "-internal.aliyuncs.com")
    return variants


class OssObjectStore:
    """ObjectStore on Alibaba Cloud OSS (v1 signatures, STS-aware)."""

    def __init__(self, bucket: str, endpoint: str, *, access_key_id: str, access_key_secret: str,
                 security_token: str | None = None, public_endpoint: str | None = None,
                 connect_timeout: float | None = None) -> None:
        import oss2

        self.bucket = bucket
        self.endpoint = _with_scheme(endpoint)
        self.public_endpoint = _with_scheme(public_endpoint) if public_endpoint else None
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._security_token = security_token
        # STS role credentials are rejected by OSS unless the token is sent too
        auth = (oss2.StsAuth(access_key_id, access_key_secret, security_token) if security_token
                else oss2.Auth(access_key_id, access_key_secret))
        self._bucket = oss2.Bucket(auth, self.endpoint, bucket, connect_timeout=connect_timeout)
        # URLs handed to clients must use the public endpoint; the function itself uses the internal one
        self._url_bucket = (oss2.Bucket(auth, self.public_endpoint, bucket)
                            if self.public_endpoint else self._bucket)

    def __repr__(self) -> str:
        return f"OssObjectStore(bucket={self.bucket!r}, endpoint={self.endpoint!r})"

    @classmethod
    def from_settings(cls, settings: Any, environ: dict[str, str] | None = None) -> "OssObjectStore":
        """Build from settings plus the STS credentials FC injects (``ALIBABA_CLOUD_*``).

        FC's role credentials expire (36 h); build a new store when they rotate rather than
        keeping one forever.
        """
        key_id, secret, token = settings.role_credentials(environ)
        if not key_id or not secret:
            raise RuntimeError("OSS needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET "
                               "(give the function a role)")
        region = settings.fc_region
        endpoint = settings.oss_endpoint or (f"https://oss-{region}-internal.aliyuncs.com" if region else None)
        if not endpoint:
            raise RuntimeError("set OSS_ENDPOINT (or FC_REGION) to use the OSS object store")
        public = settings.oss_public_endpoint or (f"https://oss-{region}.aliyuncs.com" if region else None)
        return cls(settings.oss_bucket, endpoint, access_key_id=key_id, access_key_secret=secret,
                   security_token=token, public_endpoint=public)

    # -- ObjectStore -----------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking oss2 call in a thread; an OSS 5xx is retried (every call here is
        idempotent: same key, same bytes), anything else is raised at once."""
        import oss2.exceptions

        for attempt in range(_ATTEMPTS):
            try:
                return await asyncio.to_thread(fn, *args, **kwargs)
            except oss2.exceptions.ServerError as exc:
                if exc.status < 500 or attempt == _ATTEMPTS - 1:
                    raise
            await asyncio.sleep(0.1 * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        validate_key(key)
        content_type = content_type or guess_content_type(key)
        result = await self._call(self._bucket.put_object, key, bytes(data),
                                  headers={"Content-Type": content_type})
        etag = (result.etag or hashlib.md5(data).hexdigest()).upper()
        return ObjectInfo(key=key, size=len(data), etag=etag, content_type=content_type)

    async def get(self, key: str) -> bytes:
        import oss2.exceptions

        validate_key(key)

        def _read() -> bytes:
            try:
                return bytes(self._bucket.get_object(key).read())
            except oss2.exceptions.NoSuchKey:
                raise ObjectNotFound(key) from None

        return await self._call(_read)

    async def get_range(self, key: str, start: int, length: int) -> bytes:
        import oss2.exceptions

        validate_key(key)
        if start < 0 or length <= 0:
            return b""

        def _read() -> bytes:
            try:
                # "standard" makes OSS answer 416 for a range past the end instead of the whole object
                result = self._bucket.get_object(key, byte_range=(start, start + length - 1),
                                                 headers={"x-oss-range-behavior": "standard"})
            except oss2.exceptions.NoSuchKey:
                raise ObjectNotFound(key) from None
            except oss2.exceptions.ServerError as exc:
                if exc.status == 416:
                    return b""
                raise
            chunks: list[bytes] = []
            got = 0
            try:
                # never more than asked, even from a server that ignored the range
                while got < length:
                    chunk = result.read(length - got)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    got += len(chunk)
            finally:
                result.close()
            return b"".join(chunks)

        return bytes(await self._call(_read))

    async def head(self, key: str) -> ObjectInfo | None:
        import oss2.exceptions

        validate_key(key)

        def _head() -> ObjectInfo | None:
            try:
                meta = self._bucket.head_object(key)
            except oss2.exceptions.NoSuchBucket:
                raise
            except oss2.exceptions.NotFound:  # HEAD has no error body: NotFound, not NoSuchKey
                return None
            return ObjectInfo(key=key, size=int(meta.content_length or 0),
                              etag=(meta.etag or "").upper(), content_type=meta.content_type)

        return await self._call(_head)

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._call(self._bucket.delete_object, key)

    def signed_get_url(self, key: str, expires_s: int = 3600) -> str:
        validate_key(key)
        return str(self._url_bucket.sign_url("GET", key, int(expires_s), slash_safe=True))

    def signed_put_url(self, key: str, expires_s: int = 900, content_type: str | None = None,
                       max_size: int | None = None) -> str:
        """The uploader must send exactly ``content_type`` as Content-Type (it is signed).
        ``max_size`` cannot be signed (a v1 signature does not cover the length): the upload
        intake refuses an object larger than its ticket."""
        validate_key(key)
        headers = {"Content-Type": content_type} if content_type else None
        return str(self._url_bucket.sign_url("PUT", key, int(expires_s), headers=headers, slash_safe=True))

    def post_policy(self, key: str, expires_s: int = 900, max_size: int = 10 * 1024 * 1024,
                    content_type: str | None = None) -> PostPolicy:
        """An OSS PostObject form (v1): base64 policy signed with HMAC-SHA1 under the secret."""
        validate_key(key)
        expires_at = int(time.time()) + int(expires_s)
        policy_b64 = signing.encode_policy(
            signing.build_policy(self.bucket, key, expires_at, max_size, content_type))
        digest = hmac.new(self._access_key_secret.encode("utf-8"), policy_b64.encode("ascii"),
                          hashlib.sha1).digest()
        fields = {
            "key": key,
            "policy": policy_b64,
            "OSSAccessKeyId": self._access_key_id,
            "Signature": base64.b64encode(digest).decode("ascii"),
            "success_action_status": "200",
        }
        if self._security_token:
            fields["x-oss-security-token"] = self._security_token
        if content_type:
            fields["Content-Type"] = content_type
        return PostPolicy(url=self._bucket_url(self.public_endpoint or self.endpoint), fields=fields,
                          expires_at=expires_at)

    def key_from_url(self, url: str) -> str | None:
        """Keys of ``https://{bucket}.{endpoint-host}/{key}`` (internal or public endpoint, signed
        or not), or path-style ``{endpoint}/{bucket}/{key}`` for IP/localhost endpoints."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        host = (parts.netloc or "").lower()
        raw_path = None
        for endpoint in filter(None, (self.endpoint, self.public_endpoint)):
            ep_host = urlsplit(endpoint).netloc.lower()
            if _is_ip_or_localhost(ep_host):
                if host == ep_host and parts.path.startswith(f"/{self.bucket}/"):
                    raw_path = parts.path[len(self.bucket) + 2:]
            elif host in {f"{self.bucket}.{h}" for h in _host_variants(ep_host)}:
                raw_path = parts.path[1:]
            if raw_path is not None:
                break
        if not raw_path:
            return None
        try:
            return validate_key(unquote(raw_path))
        except InvalidObjectKey:
            return None

    def signed_key_from_url(self, url: str, now: float | None = None) -> str | None:
        """The key of a valid, unexpired OSS v1 signed GET URL made with this store's
        credentials (as :meth:`signed_get_url` makes them), else None. A URL signed with
        credentials since rotated (STS) no longer verifies: it is refused, never trusted."""
        key = self.key_from_url(url)
        if key is None:
            return None
        query = signing.query_params(url)
        if query.get("OSSAccessKeyId") != self._access_key_id:
            return None
        token = query.get("security-token")
        if (token or None) != (self._security_token or None):
            return None
        expected = signing.oss_v1_url_signature(self._access_key_secret, "GET", self.bucket, key,
                                                query.get("Expires", ""), token)
        if not signing.oss_v1_signature_valid(expected, query.get("Signature"), query.get("Expires"), now):
            return None
        return key

    def _bucket_url(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if _is_ip_or_localhost(parts.netloc):
            return f"{parts.scheme}://{parts.netloc}/{self.bucket}"
        return f"{parts.scheme}://{self.bucket}.{parts.netloc}"
