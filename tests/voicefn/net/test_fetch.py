"""safe_fetch against a loopback "internet": pinning, redirects, limits, deadline, own store.

The ``internet`` transport (conftest.py) is safe_fetch's connection seam: it sees each request
as safe_fetch addressed it (to the pinned IP) and delivers requests for registered "public" IPs
to the real loopback ``origin`` server.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from voicefn.net.errors import FetchError, FetchFailed, FetchTimeout, TooLarge, UnsafeUrl, to_api_error
from voicefn.net.fetch import safe_fetch
from voicefn.storage.local_objects import LocalObjectStore

PUBLIC = "93.184.216.34"
OTHER_PUBLIC = "198.51.99.7"


def dns(table: dict[str, list[str] | list[list[str]]]):
    """A resolver from ``table``; a list of lists gives successive answers (DNS rebinding)."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        answers = table.get(host)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if answers and isinstance(answers[0], list):
            return answers[min(len([h for h in asked if h == host]), len(answers)) - 1]
        return answers  # type: ignore[return-value]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"DNS must not be asked about {host!r}")


async def test_public_host_is_fetched_through_the_pinned_address(origin, internet, route):
    origin.routes["/audio/a.wav"] = route(body=b"RIFF-audio")
    internet.add(PUBLIC)
    resolver = dns({"files.example.com": [PUBLIC]})
    data = await safe_fetch(f"http://files.example.com:{origin.port}/audio/a.wav?sig=abc",
                            max_bytes=1024, timeout_s=5, resolver=resolver, transport=internet)
    assert data == b"RIFF-audio"
    assert internet.dialed == [PUBLIC]                   # connected to the checked address
    target, headers = origin.requests[0]
    assert target == "/audio/a.wav?sig=abc"
    assert headers["host"] == f"files.example.com:{origin.port}"  # the server sees its name
    assert headers["accept-encoding"] == "identity"
    assert "authorization" not in headers and "cookie" not in headers
    assert resolver.asked == ["files.example.com"]


async def test_dns_rebinding_after_the_check_changes_nothing(origin, internet, route):
    origin.routes["/a.wav"] = route(body=b"ok")
    internet.add(PUBLIC)
    # First answer public, every later answer loopback: only the checked answer is ever used.
    resolver = dns({"rebind.example": [[PUBLIC], ["127.0.0.1"]]})
    data = await safe_fetch(f"http://rebind.example:{origin.port}/a.wav", max_bytes=100,
                            timeout_s=5, resolver=resolver, transport=internet)
    assert data == b"ok" and internet.dialed == [PUBLIC]
    assert resolver.asked == ["rebind.example"]


async def test_https_keeps_the_name_for_sni_and_certificate_checks():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"secure")

    data = await safe_fetch("https://cdn.example.com/a.mp3", max_bytes=100, timeout_s=5,
                            resolver=dns({"cdn.example.com": [PUBLIC]}),
                            transport=httpx.MockTransport(answer))
    assert data == b"secure"
    request = seen[0]
    assert str(request.url) == f"https://{PUBLIC}/a.mp3"  # the pinned address, default port
    assert request.headers["host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"


async def test_a_host_resolving_to_loopback_is_never_contacted(origin, internet, route):
    origin.routes["/secret"] = route(body=b"internal")
    resolver = dns({"evil.example": ["127.0.0.1"]})
    with pytest.raises(UnsafeUrl, match="non-public address"):
        await safe_fetch(f"http://evil.example:{origin.port}/secret", max_bytes=100,
                         timeout_s=5, resolver=resolver, transport=internet)
    assert internet.seen == [] and origin.requests == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/secret", "http://2130706433:{port}/secret",
                                 "http://[::ffff:127.0.0.1]:{port}/secret",
                                 "http://localhost:{port}/secret"])
async def test_loopback_urls_are_refused_before_connecting(origin, internet, route, url):
    origin.routes["/secret"] = route(body=b"internal")
    with pytest.raises(UnsafeUrl):
        await safe_fetch(url.format(port=origin.port), max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=internet)
    assert internet.seen == [] and origin.requests == []


async def test_a_redirect_to_loopback_is_refused(origin, internet, route):
    origin.routes["/start"] = route(302, headers=[
        ("Location", f"http://127.0.0.1:{origin.port}/secret")])
    origin.routes["/secret"] = route(body=b"internal")
    internet.add(PUBLIC)
    with pytest.raises(UnsafeUrl, match="127.0.0.1 is not a public address"):
        await safe_fetch(f"http://files.example.com:{origin.port}/start", max_bytes=100,
                         timeout_s=5, resolver=dns({"files.example.com": [PUBLIC]}),
                         transport=internet)
    assert origin.paths == ["/start"]          # the loopback target was never requested
    assert internet.dialed == [PUBLIC]


@pytest.mark.parametrize("location, error", [
    ("http://metadata.internal/latest", "non-public address"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[::1]/", "loopback"),
    ("//0x7f000001/x", "loopback"),            # scheme-relative, numeric host
    ("ftp://files.example.com/a.wav", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
])
async def test_redirect_targets_are_checked_like_the_first_url(origin, internet, route,
                                                               location, error):
    origin.routes["/start"] = route(301, headers=[("Location", location)])
    internet.add(PUBLIC)
    resolver = dns({"files.example.com": [PUBLIC], "metadata.internal": ["100.100.100.200"]})
    with pytest.raises(UnsafeUrl, match=error):
        await safe_fetch(f"http://files.example.com:{origin.port}/start", max_bytes=100,
                         timeout_s=5, resolver=resolver, transport=internet)
    assert origin.paths == ["/start"] and internet.dialed == [PUBLIC]


async def test_redirects_are_followed_with_each_hop_pinned(origin, internet, route):
    origin.routes["/one"] = route(302, headers=[("Location", "/two?x=1")])
    origin.routes["/two"] = route(307, headers=[
        ("Location", f"http://mirror.example.net:{origin.port}/final.wav")])
    origin.routes["/final.wav"] = route(body=b"final")
    internet.add(PUBLIC)
    internet.add(OTHER_PUBLIC)
    resolver = dns({"files.example.com": [PUBLIC], "mirror.example.net": [OTHER_PUBLIC]})
    data = await safe_fetch(f"http://files.example.com:{origin.port}/one", max_bytes=100,
                            timeout_s=5, resolver=resolver, transport=internet)
    assert data == b"final"
    assert origin.paths == ["/one", "/two", "/final.wav"]
    assert [h["host"] for _, h in origin.requests] == [
        f"files.example.com:{origin.port}", f"files.example.com:{origin.port}",
        f"mirror.example.net:{origin.port}"]
    assert internet.dialed == [PUBLIC, PUBLIC, OTHER_PUBLIC]


async def test_more_than_three_redirects_fail(origin, internet, route):
    for i in range(5):
        origin.routes[f"/r{i}"] = route(302, headers=[("Location", f"/r{i + 1}")])
    internet.add(PUBLIC)
    with pytest.raises(FetchFailed, match="redirects more than 3 times"):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/r0", max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=internet)
    assert origin.paths == ["/r0", "/r1", "/r2", "/r3"]


async def test_three_redirects_are_fine(origin, internet, route):
    for i in range(3):
        origin.routes[f"/r{i}"] = route(303, headers=[("Location", f"/r{i + 1}")])
    origin.routes["/r3"] = route(body=b"there")
    internet.add(PUBLIC)
    assert await safe_fetch(f"http://{PUBLIC}:{origin.port}/r0", max_bytes=100, timeout_s=5,
                            resolver=no_dns, transport=internet) == b"there"


@pytest.mark.parametrize("status", [404, 403, 500])
async def test_error_statuses_fail(origin, internet, route, status):
    origin.routes["/a.wav"] = route(status, body=b"nope")
    internet.add(PUBLIC)
    with pytest.raises(FetchFailed, match=f"HTTP {status}"):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/a.wav", max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=internet)


async def test_a_redirect_without_location_is_an_error(origin, internet, route):
    origin.routes["/a"] = route(302)
    internet.add(PUBLIC)
    with pytest.raises(FetchFailed, match="HTTP 302"):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/a", max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=internet)


async def test_size_limit(origin, internet, route):
    internet.add(PUBLIC)
    origin.routes["/exact"] = route(body=b"x" * 1000)
    origin.routes["/declared"] = route(body=b"x" * 1001)
    origin.routes["/chunked"] = route(body=b"x" * 50_000, chunked=True)
    base = f"http://{PUBLIC}:{origin.port}"
    assert len(await safe_fetch(base + "/exact", max_bytes=1000, timeout_s=5, resolver=no_dns,
                                transport=internet)) == 1000
    with pytest.raises(TooLarge, match="larger than the 1000 bytes limit"):
        await safe_fetch(base + "/declared", max_bytes=1000, timeout_s=5, resolver=no_dns,
                         transport=internet)
    with pytest.raises(TooLarge):
        await safe_fetch(base + "/chunked", max_bytes=10_000, timeout_s=5, resolver=no_dns,
                         transport=internet)
    assert len(await safe_fetch(base + "/chunked", max_bytes=50_000, timeout_s=5,
                                resolver=no_dns, transport=internet)) == 50_000


async def test_compressed_bodies_are_refused(origin, internet, route):
    origin.routes["/a.wav"] = route(body=b"\x1f\x8b...", headers=[("Content-Encoding", "gzip")])
    internet.add(PUBLIC)
    with pytest.raises(FetchFailed, match="compressed"):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/a.wav", max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=internet)


async def test_a_server_that_never_answers_times_out(origin, internet, route):
    origin.routes["/slow"] = route(stall=True)
    internet.add(PUBLIC)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="within 0.4 s"):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/slow", max_bytes=100, timeout_s=0.4,
                         resolver=no_dns, transport=internet)
    assert time.monotonic() - started < 2


async def test_the_deadline_covers_a_slow_body(origin, internet, route):
    origin.routes["/drip"] = route(body=b"x" * 40_000, chunked=True, drip_s=0.1)
    internet.add(PUBLIC)
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        await safe_fetch(f"http://{PUBLIC}:{origin.port}/drip", max_bytes=100_000,
                         timeout_s=0.3, resolver=no_dns, transport=internet)
    assert time.monotonic() - started < 2


async def test_a_dead_address_falls_back_to_the_next_checked_one(origin, internet, route):
    origin.routes["/a"] = route(body=b"second")
    internet.unreachable.add(OTHER_PUBLIC)
    internet.add(PUBLIC)
    resolver = dns({"multi.example": [OTHER_PUBLIC, PUBLIC]})
    assert await safe_fetch(f"http://multi.example:{origin.port}/a", max_bytes=100,
                            timeout_s=5, resolver=resolver, transport=internet) == b"second"
    assert internet.dialed == [OTHER_PUBLIC, PUBLIC]
    internet.unreachable.add(PUBLIC)
    with pytest.raises(FetchFailed, match="could not be reached"):
        await safe_fetch(f"http://multi.example:{origin.port}/a", max_bytes=100, timeout_s=5,
                         resolver=resolver, transport=internet)


# -- our own object store: read as an object, never over the network ---------------------------

@pytest.fixture
def store(tmp_path) -> LocalObjectStore:
    # The store's URLs are on loopback: fetching them over the network would be refused.
    return LocalObjectStore(tmp_path / "objects", "voicefn-test", "http://127.0.0.1:9/",
                            b"test-secret")


def refuse_network() -> httpx.MockTransport:
    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"own-store URLs must not be fetched: {request.url}")

    return httpx.MockTransport(fail)


async def test_own_store_urls_are_read_from_the_store(store):
    await store.put("uploads/asr/u1/t1.wav", b"RIFF-own")
    for url in (store.signed_get_url("uploads/asr/u1/t1.wav"),
                store.object_url("uploads/asr/u1/t1.wav")):
        data = await safe_fetch(url, max_bytes=100, timeout_s=5, objects=store,
                                resolver=no_dns, transport=refuse_network())
        assert data == b"RIFF-own"


async def test_own_store_reads_are_size_checked_and_can_be_restricted(store):
    await store.put("uploads/asr/u1/big.wav", b"x" * 101)
    await store.put("uploads/asr/u2/theirs.wav", b"x")
    kwargs = dict(timeout_s=5, objects=store, resolver=no_dns, transport=refuse_network())
    with pytest.raises(TooLarge):
        await safe_fetch(store.object_url("uploads/asr/u1/big.wav"), max_bytes=100, **kwargs)
    with pytest.raises(FetchFailed, match="does not exist"):
        await safe_fetch(store.object_url("uploads/asr/u1/missing.wav"), max_bytes=100, **kwargs)
    mine = lambda key: key.startswith("uploads/asr/u1/")  # noqa: E731
    with pytest.raises(UnsafeUrl, match="may not read"):
        await safe_fetch(store.object_url("uploads/asr/u2/theirs.wav"), max_bytes=100,
                         allow_key=mine, **kwargs)


async def test_without_the_store_its_loopback_urls_are_refused(store):
    await store.put("uploads/asr/u1/t1.wav", b"RIFF-own")
    with pytest.raises(UnsafeUrl):
        await safe_fetch(store.object_url("uploads/asr/u1/t1.wav"), max_bytes=100, timeout_s=5,
                         resolver=no_dns, transport=refuse_network())


def test_errors_render_as_api_errors():
    assert issubclass(FetchTimeout, FetchError) and issubclass(TooLarge, ValueError)
    unsafe = to_api_error(UnsafeUrl("localhost is not a public host"), "audio_url")
    assert (unsafe.code, unsafe.status, unsafe.param) == ("INVALID_PARAMETER", 400, "audio_url")
    assert unsafe.message == "audio_url: localhost is not a public host"
    assert to_api_error(TooLarge("big")).status == 413
    assert to_api_error(FetchTimeout("slow")).code == "TIMEOUT"
    assert to_api_error(FetchFailed("HTTP 404")).code == "INVALID_PARAMETER"
