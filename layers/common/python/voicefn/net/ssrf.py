"""The guard for URLs users hand us: plain http(s), to public addresses only (no SSRF).

A URL passes when its scheme is http or https, it has a host and no userinfo, its port is valid,
and EVERY address its host resolves to is public. Refused: loopback, private networks, link-local
(incl. the 169.254.169.254 metadata address), carrier-grade NAT 100.64/10 (incl. Alibaba Cloud's
metadata service 100.100.100.200), unspecified, multicast, broadcast, reserved and documentation
ranges, unique-local and site-local IPv6, and IPv6 forms that embed or tunnel to IPv4 (mapped,
compatible, NAT64, 6to4, Teredo) unless the embedded IPv4 itself is public and routable that way.

Hosts are read the way browsers read them (WHATWG URL): a host whose last label is a number is an
IPv4 address, so ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` all mean 127.0.0.1
and are refused without asking DNS. Names go through the resolver (``getaddrinfo`` by default;
tests inject their own). The result, :class:`PublicTarget`, carries the checked addresses so that
:mod:`voicefn.net.fetch` connects to exactly those (a DNS answer that changes between check and
connect cannot bypass the guard).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from voicefn.net.errors import UnsafeUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to, as strings ("93.184.216.34", "2606:...").
Resolver = Callable[[str, int], Iterable[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 8192

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Named first so the reason a user sees is the most specific one.
_METADATA = {
    ipaddress.ip_address("100.100.100.200"): "Alibaba Cloud's instance metadata service",
    ipaddress.ip_address("169.254.169.254"): "a cloud instance metadata service",
    ipaddress.ip_address("fd00:ec2::254"): "a cloud instance metadata service",
}

_BLOCKED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified address"),
    (_V4("10.0.0.0/8"), "a private network"),
    (_V4("100.64.0.0/10"), "a carrier-grade NAT / cloud-internal network"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "a link-local network"),
    (_V4("172.16.0.0/12"), "a private network"),
    (_V4("192.0.0.0/24"), "a reserved network"),
    (_V4("192.0.2.0/24"), "a documentation network"),
    (_V4("192.88.99.0/24"), "a reserved network"),
    (_V4("192.168.0.0/16"), "a private network"),
    (_V4("198.18.0.0/15"), "a reserved network"),
    (_V4("198.51.100.0/24"), "a documentation network"),
    (_V4("203.0.113.0/24"), "a documentation network"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "a reserved network or broadcast"),
)

_BLOCKED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "a deprecated IPv4-compatible IPv6 address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 network"),
    (_V6("100::/64"), "a discard-only network"),
    (_V6("2001::/32"), "a Teredo tunnel address"),
    (_V6("2001:db8::/32"), "a documentation network"),
    (_V6("2002::/16"), "a 6to4 tunnel address"),
    (_V6("fc00::/7"), "a private (unique-local) network"),
    (_V6("fe80::/10"), "a link-local network"),
    (_V6("fec0::/10"), "a site-local network"),
    (_V6("ff00::/8"), "multicast"),
)

# IPv6 forms whose traffic goes to the IPv4 address in their last 32 bits.
_EMBEDS_V4 = (_V6("::ffff:0:0/96"), _V6("64:ff9b::/96"))

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_ENDS_IN_NUMBER = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or None if it is."""
    address = _unscoped(address)
    blocked: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]
    if address in _METADATA:
        return _METADATA[address]
    if isinstance(address, ipaddress.IPv6Address):
        for tunnel in _EMBEDS_V4:
            if address in tunnel:
                embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
                problem = address_problem(embedded)
                return f"{problem} (inside an IPv6 address)" if problem else None
        blocked = _BLOCKED_V6
    else:
        blocked = _BLOCKED_V4
    for blocked_net, reason in blocked:
        if address in blocked_net:
            return reason
    # ipaddress's own registry covers ranges added after this list was written.
    if not address.is_global or address.is_multicast or address.is_reserved:
        return "a non-public address"
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """True if connecting to ``address`` reaches the public internet only."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    return address_problem(ip) is None


def _unscoped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class PublicTarget:
    """A checked URL: where it says to go, and the public addresses that host resolved to."""

    url: str
    scheme: str
    host: str            # ASCII, lower case, no brackets, no trailing dot: for Host and SNI
    port: int
    target: str          # path and query as sent in the request line, at least "/"
    addresses: tuple[str, ...]
    literal: bool        # the host was an IP address, not a name

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def pinned_url(self, address: str) -> str:
        """The URL with its host replaced by ``address``: a connection goes only there."""
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.target}"


@dataclass(frozen=True)
class _Parsed:
    url: str
    scheme: str
    host: str
    dns_name: str
    port: int
    target: str
    literal: IPAddress | None


def _parse(url: str) -> _Parsed:
    if not isinstance(url, str) or not url:
        raise UnsafeUrl("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _BAD_CHARS.search(url):
        raise UnsafeUrl("the URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("the URL is malformed (bad host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeUrl(f"only http and https URLs are accepted, not {scheme or 'a relative URL'}")
    if "@" in parts.netloc:
        raise UnsafeUrl("URLs with a user name or password are not accepted")
    if port == 0:
        raise UnsafeUrl("port 0 is not a valid port")
    port = port or DEFAULT_PORTS[scheme]
    raw_host = parts.hostname or ""
    if not raw_host:
        raise UnsafeUrl("the URL has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise UnsafeUrl("the URL is malformed (bad path)")
    if parts.netloc.rpartition("@")[2].startswith("["):
        literal = _ipv6_literal(raw_host)
        return _Parsed(url, scheme, str(literal), str(literal), port, target, literal)
    host = _ascii_host(raw_host)
    dns_name = host
    host = host[:-1] if host.endswith(".") else host
    v4 = _whatwg_ipv4(host)
    if v4 is not None:
        return _Parsed(url, scheme, str(v4), str(v4), port, target, v4)
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeUrl("localhost is not a public host")
    return _Parsed(url, scheme, host, dns_name, port, target, None)


def _ipv6_literal(raw: str) -> ipaddress.IPv6Address:
    if "%" in raw:
        raise UnsafeUrl("IPv6 zone identifiers are not accepted")
    try:
        return ipaddress.IPv6Address(raw)
    except ValueError:
        raise UnsafeUrl("the URL's IPv6 address is malformed") from None


def _ascii_host(host: str) -> str:
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeUrl("the URL's host name is not valid") from None
    host = host.lower()
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UnsafeUrl("the URL's host name is not valid")
    return host


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a browser reads in ``host`` (decimal, octal, hex, 1-4 parts), or None
    when the host is a name. A host whose last label is numeric but invalid is refused."""
    parts = host.split(".")
    if not _ENDS_IN_NUMBER.fullmatch(parts[-1]):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise UnsafeUrl("the URL's host is a malformed IPv4 address")
    *head, last = numbers
    assert last is not None
    if any(n > 255 for n in head if n is not None) or last >= 256 ** (5 - len(parts)):
        raise UnsafeUrl("the URL's host is a malformed IPv4 address")
    value = last
    for i, n in enumerate(head):
        value += (n or 0) << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if digits == "":
            return 0
        if not re.fullmatch(r"[0-9a-fA-F]+", digits):
            return None
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
        if not re.fullmatch(r"[0-7]+", digits):
            return None
    else:
        digits, base = part, 10
        if not re.fullmatch(r"[0-9]+", digits):
            return None
    return int(digits, base)


def _check(address: IPAddress, host: str, literal: bool) -> None:
    problem = address_problem(address)
    if problem is None:
        return
    if literal:
        raise UnsafeUrl(f"{host} is not a public address ({problem})")
    # The resolved address is not echoed: the guard must not map internal DNS for anyone.
    raise UnsafeUrl(f"the host {host} resolves to a non-public address ({problem})")


def resolve_public_url(url: str, *, resolver: Resolver = system_resolver) -> PublicTarget:
    """Check ``url`` and resolve its host; every address must be public. Raises UnsafeUrl."""
    parsed = _parse(url)
    if parsed.literal is not None:
        _check(parsed.literal, parsed.host, literal=True)
        addresses: tuple[str, ...] = (str(parsed.literal),)
    else:
        addresses = _resolve(parsed, resolver)
    return PublicTarget(url=url, scheme=parsed.scheme, host=parsed.host, port=parsed.port,
                        target=parsed.target, addresses=addresses,
                        literal=parsed.literal is not None)


def _resolve(parsed: _Parsed, resolver: Resolver) -> tuple[str, ...]:
    try:
        answers = list(resolver(parsed.dns_name, parsed.port))
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"the host {parsed.host} could not be resolved") from None
    checked: list[str] = []
    for answer in answers:
        try:
            address = _unscoped(ipaddress.ip_address(answer))
        except ValueError:
            raise UnsafeUrl(f"the host {parsed.host} resolved to something that is not an "
                            "address") from None
        _check(address, parsed.host, literal=False)
        if str(address) not in checked:
            checked.append(str(address))
    if not checked:
        raise UnsafeUrl(f"the host {parsed.host} could not be resolved")
    return tuple(checked)


def check_public_url(url: str, *, resolver: Resolver = system_resolver) -> None:
    """Raise :class:`UnsafeUrl` (a ValueError) with the reason unless ``url`` is plain http(s)
    whose host resolves only to public addresses. Blocks on DNS: from async code use
    :func:`aresolve_public_url`."""
    resolve_public_url(url, resolver=resolver)


async def aresolve_public_url(url: str, *,
                              resolver: Resolver = system_resolver) -> PublicTarget:
    """:func:`resolve_public_url` off the event loop (getaddrinfo blocks)."""
    return await asyncio.to_thread(resolve_public_url, url, resolver=resolver)


async def require_public_url(url: str, *, param: str) -> None:
    """:func:`check_public_url` for a request field: DNS off the event loop, and a refusal as a
    400 INVALID_PARAMETER naming ``param``."""
    from voicefn.net.errors import to_api_error

    try:
        await asyncio.to_thread(check_public_url, url)
    except UnsafeUrl as exc:
        raise to_api_error(exc, param) from exc
