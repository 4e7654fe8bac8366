"""Download a user-supplied URL without letting it reach anything but the public internet.

:func:`safe_fetch`:

- A URL of our own object store is read from the store (size checked first), never over the
  network: in local mode the store is on loopback, and in the cloud OSS's internal endpoint is
  not public either.
- Any other URL is checked by :mod:`voicefn.net.ssrf`, then the request is sent to one of the
  *checked* addresses (the URL's host is replaced by the IP; ``Host`` and TLS SNI/certificate
  checks keep the original name), so DNS rebinding between check and connect changes nothing.
- Redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each target checked again.
- The body is streamed against a hard byte limit, and the whole fetch has one deadline.

The connection is injectable (``transport``: any ``httpx.AsyncBaseTransport``; it receives the
request addressed to the pinned IP), as is the resolver, so tests play "the internet" on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from voicefn.net.errors import FetchFailed, FetchTimeout, TooLarge, UnsafeUrl
from voicefn.net.ssrf import PublicTarget, Resolver, aresolve_public_url, system_resolver

if TYPE_CHECKING:
    import httpx

    from voicefn.storage.objects import ObjectStore

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_USER_AGENT = "voicefn-fetch/1"


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return f"{n} bytes"


def _too_large(max_bytes: int) -> TooLarge:
    return TooLarge(f"the file is larger than the {_size(max_bytes)} limit")


async def safe_fetch(url: str, *, max_bytes: int, timeout_s: float,
                     objects: ObjectStore | None = None,
                     resolver: Resolver = system_resolver,
                     transport: httpx.AsyncBaseTransport | None = None,
                     allow_key: Callable[[str], bool] | None = None) -> bytes:
    """The bytes at ``url``, at most ``max_bytes`` of them, within ``timeout_s`` seconds.

    ``allow_key``: for URLs of our own store, whether this caller may read that object key
    (e.g. only under the user's own upload prefix); None allows any key.
    Raises a :class:`~voicefn.net.errors.FetchError`: UnsafeUrl, TooLarge, FetchTimeout or
    FetchFailed.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    try:
        return await asyncio.wait_for(
            _fetch(url, max_bytes, timeout_s, objects, resolver, transport, allow_key),
            timeout_s)
    except asyncio.TimeoutError:
        raise FetchTimeout(f"the URL did not deliver the file within {timeout_s:g} s") from None


async def _fetch(url: str, max_bytes: int, timeout_s: float, objects: ObjectStore | None,
                 resolver: Resolver, transport: httpx.AsyncBaseTransport | None,
                 allow_key: Callable[[str], bool] | None) -> bytes:
    if objects is not None and isinstance(url, str):
        key = objects.key_from_url(url)
        if key is not None:
            return await _read_own_object(objects, key, max_bytes, allow_key)

    import httpx  # here, not at import: the guard alone must stay cheap to import

    owned = transport is None
    # trust_env=False: an HTTP(S)_PROXY from the environment would connect for us, unpinned.
    client = httpx.AsyncClient(transport=transport or httpx.AsyncHTTPTransport(retries=0),
                               trust_env=False, follow_redirects=False,
                               timeout=httpx.Timeout(timeout_s))
    try:
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            target = await aresolve_public_url(current, resolver=resolver)
            response = await _open(client, target)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    if hop == MAX_REDIRECTS:
                        raise FetchFailed(f"the URL redirects more than {MAX_REDIRECTS} times")
                    # Relative to the URL as the user's server sees it, never to the pinned IP.
                    current = urljoin(target.url, location.strip())
                    continue
                if not response.is_success:
                    raise FetchFailed(f"the URL answered HTTP {response.status_code}")
                return await _read_body(response, max_bytes)
            finally:
                await response.aclose()
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        if owned:
            await client.aclose()


async def safe_post(url: str, *, content: bytes, headers: dict[str, str], timeout_s: float,
                    resolver: Resolver = system_resolver,
                    transport: httpx.AsyncBaseTransport | None = None) -> int:
    """POST ``content`` to a public URL over a connection pinned to its checked address (for
    callbacks); a redirect is not followed. Returns the HTTP status; raises a FetchError."""
    import httpx

    async def post() -> int:
        target = await aresolve_public_url(url, resolver=resolver)
        async with httpx.AsyncClient(transport=transport or httpx.AsyncHTTPTransport(retries=0),
                                     trust_env=False, follow_redirects=False,
                                     timeout=httpx.Timeout(timeout_s)) as client:
            response = await _open(client, target, method="POST", content=content, extra_headers=headers)
            await response.aclose()
            return response.status_code

    try:
        return await asyncio.wait_for(post(), timeout_s)
    except asyncio.TimeoutError:
        raise FetchTimeout(f"the URL did not answer within {timeout_s:g} s") from None


async def _open(client: httpx.AsyncClient, target: PublicTarget, *, method: str = "GET",
                content: bytes | None = None, extra_headers: dict[str, str] | None = None) -> httpx.Response:
    """Send to the target at its checked addresses in turn (the next one only if connecting
    failed); the response is open for streaming."""
    import httpx

    extensions = {}
    if target.scheme == "https" and not target.literal:
        extensions["sni_hostname"] = target.host  # TLS talks to, and verifies, the real name
    headers = {"Host": target.host_header, "User-Agent": _USER_AGENT, "Accept": "*/*",
               # a compressed body could inflate far past max_bytes before we can count it
               "Accept-Encoding": "identity", **(extra_headers or {})}
    for address in target.addresses:
        request = client.build_request(method, target.pinned_url(address), headers=headers,
                                       content=content, extensions=extensions)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError:
            continue  # try the host's next address
        except httpx.TimeoutException:
            raise FetchTimeout("the URL's server did not answer in time") from None
        except httpx.TransportError:
            raise FetchFailed("the connection to the URL's server failed") from None
    raise FetchFailed(f"the server of {target.host} could not be reached")


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    import httpx

    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchFailed(f"the server sent a compressed body ({encoding}); serve the file as is")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():  # identity only (checked above): raw bytes
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            parts.append(chunk)
    except httpx.TimeoutException:
        raise FetchTimeout("the URL's server stopped sending in time") from None
    except httpx.TransportError:
        raise FetchFailed("the connection broke while downloading the file") from None
    return b"".join(parts)


async def _read_own_object(objects: ObjectStore, key: str, max_bytes: int,
                           allow_key: Callable[[str], bool] | None) -> bytes:
    from voicefn.storage.objects import ObjectNotFound

    if allow_key is not None and not allow_key(key):
        raise UnsafeUrl("the URL points to a stored file this request may not read")
    info = await objects.head(key)
    if info is None:
        raise FetchFailed("the file at the URL does not exist (or has expired)")
    if info.size > max_bytes:
        raise _too_large(max_bytes)
    try:
        data = await objects.get(key)
    except ObjectNotFound:
        raise FetchFailed("the file at the URL does not exist (or has expired)") from None
    if len(data) > max_bytes:  # replaced between head and get
        raise _too_large(max_bytes)
    return data
