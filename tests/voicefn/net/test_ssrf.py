"""check_public_url: only plain http(s) to public addresses passes; no DNS or network is used."""

from __future__ import annotations

import socket

import pytest

from voicefn.net.errors import FetchError, UnsafeUrl
from voicefn.net.ssrf import (
    aresolve_public_url,
    check_public_url,
    is_public_address,
    resolve_public_url,
    system_resolver,
)

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"DNS must not be asked about {host!r}")


def dns(table: dict[str, list[str]]):
    """A resolver answering from ``table`` and recording what it was asked."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/ram/security-credentials/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:100.100.100.200]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    # numeric tricks, read as browsers read them
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0X7F000001/",
    "http://0177.0.0.1/",
    "http://0177.0000.0000.0001/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://017700000001/",
    "http://3232235777/",           # 192.168.1.1
    "http://2852039166/",           # 169.254.169.254
    "http://127.0.0.1./",
    "HTTP://127.0.0.1/",
])
def test_non_public_addresses_are_refused_without_dns(url: str) -> None:
    with pytest.raises(UnsafeUrl) as info:
        check_public_url(url, resolver=no_dns)
    assert "not a public address" in str(info.value)


def test_reasons_name_the_metadata_services() -> None:
    with pytest.raises(UnsafeUrl, match="Alibaba Cloud's instance metadata"):
        check_public_url("http://100.100.100.200/latest/meta-data/", resolver=no_dns)
    with pytest.raises(UnsafeUrl, match="metadata"):
        check_public_url("http://169.254.169.254/", resolver=no_dns)
    with pytest.raises(UnsafeUrl, match="loopback"):
        check_public_url("http://2130706433/", resolver=no_dns)
    with pytest.raises(UnsafeUrl, match=r"loopback \(inside an IPv6 address\)"):
        check_public_url("http://[::ffff:127.0.0.1]/", resolver=no_dns)


@pytest.mark.parametrize("url", ["http://localhost/", "http://LOCALHOST:8000/x",
                                 "http://localhost./", "http://api.localhost/"])
def test_localhost_is_refused_by_name(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="localhost"):
        check_public_url(url, resolver=no_dns)


def test_localhost_through_the_system_resolver_is_refused_too() -> None:
    # The name rule answers first; the address rule would refuse what getaddrinfo gives anyway.
    assert {a for a in system_resolver("127.0.0.1", 80)} == {"127.0.0.1"}
    with pytest.raises(UnsafeUrl):
        check_public_url("http://localhost/")


@pytest.mark.parametrize("answers", [
    ["127.0.0.1"], ["::1"], ["10.1.2.3"], ["169.254.169.254"], ["100.100.100.200"],
    ["::ffff:127.0.0.1"], ["fe80::1%2"],
    [PUBLIC_V4, "10.0.0.1"],        # every address must be public, not just the first
    [PUBLIC_V6, "127.0.0.1"],
])
def test_hostnames_resolving_to_non_public_addresses_are_refused(answers: list[str]) -> None:
    resolver = dns({"internal.example.com": answers})
    with pytest.raises(UnsafeUrl) as info:
        check_public_url("https://internal.example.com/a.wav", resolver=resolver)
    message = str(info.value)
    assert "internal.example.com resolves to a non-public address" in message
    for answer in answers:
        assert answer not in message  # never tell a caller what internal names resolve to
    assert resolver.asked == [("internal.example.com", 443)]


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/a.wav", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://example.com:70/", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("/relative/path.wav", "only http and https"),
    ("", "empty"),
    ("http://user:secret@example.com/a.wav", "user name or password"),
    ("http://user@93.184.216.34/", "user name or password"),
    ("http://@example.com/", "user name or password"),
    ("http://example.com\\@127.0.0.1/", "backslashes"),
    ("http://exa mple.com/", "spaces"),
    ("http://example.com/\nHost: evil", "control characters"),
    ("http:///no-host", "no host"),
    ("http://", "no host"),
    ("http://[::1/", "malformed"),
    ("http://example.com:99999/", "malformed"),
    ("http://example.com:0/", "port 0"),
    ("http://example.com:http/", "malformed"),
    ("http://1.2.3.4.5/", "malformed IPv4"),
    ("http://256.1.1.1/", "malformed IPv4"),
    ("http://1.2.3.08/", "malformed IPv4"),
    ("http://exa_mple..com/", "host name is not valid"),
    ("http://-bad-.com/", "host name is not valid"),
    ("http://%31%32%37.0.0.1/", "host name is not valid"),   # percent-encoded 127
    ("http://[fe80::1%25eth0]/", "zone identifiers"),
    ("http://" + "a" * 9000 + ".com/", "longer than"),
])
def test_malformed_or_disallowed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        check_public_url(url, resolver=no_dns)


def test_public_addresses_pass_and_are_returned_for_pinning() -> None:
    resolver = dns({"files.example.com": [PUBLIC_V4, PUBLIC_V6, PUBLIC_V4]})
    target = resolve_public_url("https://Files.Example.com:8443/audio/a.wav?sig=1#frag",
                                resolver=resolver)
    assert target.addresses == (PUBLIC_V4, PUBLIC_V6)  # order kept, duplicates dropped
    assert (target.scheme, target.host, target.port) == ("https", "files.example.com", 8443)
    assert target.target == "/audio/a.wav?sig=1"
    assert target.host_header == "files.example.com:8443"
    assert target.pinned_url(PUBLIC_V4) == f"https://{PUBLIC_V4}:8443/audio/a.wav?sig=1"
    assert target.pinned_url(PUBLIC_V6) == f"https://[{PUBLIC_V6}]:8443/audio/a.wav?sig=1"
    assert not target.literal
    assert resolver.asked == [("files.example.com", 8443)]


@pytest.mark.parametrize("url, address, header", [
    (f"http://{PUBLIC_V4}/a.wav", PUBLIC_V4, PUBLIC_V4),
    (f"http://[{PUBLIC_V6}]:8080/a.wav", PUBLIC_V6, f"[{PUBLIC_V6}]:8080"),
    ("http://[::ffff:93.184.216.34]/", "::ffff:5db8:d822", "[::ffff:5db8:d822]"),
    ("http://1572395042/", PUBLIC_V4, PUBLIC_V4),       # decimal form of a public address
    ("https://8.8.8.8:443/", "8.8.8.8", "8.8.8.8"),
])
def test_public_ip_literals_pass_without_dns(url: str, address: str, header: str) -> None:
    check_public_url(url, resolver=no_dns)
    target = resolve_public_url(url, resolver=no_dns)
    assert target.addresses == (address,) and target.literal
    assert target.host_header == header


def test_names_are_resolved_as_ascii_and_with_their_trailing_dot() -> None:
    resolver = dns({"xn--bcher-kva.example": [PUBLIC_V4], "example.com.": [PUBLIC_V4]})
    assert resolve_public_url("http://bücher.example/", resolver=resolver).host == \
        "xn--bcher-kva.example"
    target = resolve_public_url("http://example.com./x", resolver=resolver)
    assert target.host == "example.com" and target.host_header == "example.com"
    assert [host for host, _ in resolver.asked] == ["xn--bcher-kva.example", "example.com."]


def test_any_port_is_allowed_but_the_address_is_still_checked() -> None:
    check_public_url("http://93.184.216.34:22/", resolver=no_dns)
    with pytest.raises(UnsafeUrl):
        check_public_url("http://10.0.0.1:443/", resolver=no_dns)


def test_unresolvable_hosts_are_refused() -> None:
    with pytest.raises(UnsafeUrl, match="could not be resolved"):
        check_public_url("http://nowhere.example/", resolver=dns({}))
    with pytest.raises(UnsafeUrl, match="could not be resolved"):
        check_public_url("http://empty.example/", resolver=dns({"empty.example": []}))
    with pytest.raises(UnsafeUrl, match="not an address"):
        check_public_url("http://odd.example/", resolver=dns({"odd.example": ["not-an-ip"]}))


def test_unsafe_url_is_a_fetch_error_and_a_value_error() -> None:
    with pytest.raises(ValueError):
        check_public_url("http://127.0.0.1/", resolver=no_dns)
    assert issubclass(UnsafeUrl, FetchError) and issubclass(FetchError, ValueError)


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("8.8.8.8", True), (PUBLIC_V6, True), ("::ffff:8.8.8.8", True),
    ("64:ff9b::808:808", True),
    ("127.0.0.1", False), ("100.100.100.200", False), ("100.127.255.255", False),
    ("198.18.0.1", False), ("203.0.113.9", False), ("2001:db8::1", False),
    ("64:ff9b:1::1", False), ("100::1", False), ("not an address", False),
])
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_async_resolution_runs_the_same_checks() -> None:
    resolver = dns({"files.example.com": [PUBLIC_V4]})
    target = await aresolve_public_url("http://files.example.com/a", resolver=resolver)
    assert target.addresses == (PUBLIC_V4,)
    with pytest.raises(UnsafeUrl):
        await aresolve_public_url("http://0177.0.0.1/", resolver=no_dns)
