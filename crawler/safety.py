"""Crawl safety rules: which URLs and addresses may be fetched, which canonical links are trusted, clean text."""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract
from scrapy.exceptions import IgnoreRequest

WEB_SCHEMES = ("http", "https")
# Addresses a crawl must not reach unless the source itself lives there (cloud metadata services included).
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
# ESC-introduced terminal sequences (CSI, OSC, other two-byte escapes), then remaining C0/C1 controls except \t \n.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)  # bundled suffix list, never fetched


class Refused(IgnoreRequest):
    """A request the crawl refuses on purpose; `kind` is the error kind counted for the source."""

    kind = "refused"


class RefusedAddress(Refused):
    """The URL's host is loopback, private, link-local or a metadata address (and not the source's own host)."""

    kind = "refused address"


class RefusedScheme(Refused):
    """The URL is not http(s)."""

    kind = "refused scheme"


class RedirectLoop(Refused):
    """A redirect leads back to a URL already visited in the same chain."""

    kind = "redirect loop"


class HostDown(Refused):
    """The host failed to connect too many times in a row this run."""

    kind = "host down"


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def netloc(url: str) -> str:
    """Lower-case host[:port] of a URL ('' when it has none)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return f"{host}:{port}" if port else host


def internal_address(address: str) -> bool:
    """True for loopback, private, link-local, reserved, unspecified, multicast and metadata addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip in _METADATA
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_multicast
        or not ip.is_global
    )


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    """Addresses of a host name (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(sorted({str(info[4][0]) for info in infos}))


def host_is_internal(host: str, resolve: bool = True) -> bool:
    """True when the host is, or resolves to, an internal address (any of its addresses)."""
    host = host.strip("[]").lower()
    if not host:
        return False
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return internal_address(host)
    except ValueError:
        pass
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    return resolve and any(internal_address(a) for a in _resolve(host))


def check_url(url: str, own: frozenset[str] | set[str], resolve: bool = True) -> None:
    """Raise RefusedScheme / RefusedAddress unless the URL may be fetched by a source whose own hosts are `own`."""
    if not is_web_url(url):
        raise RefusedScheme(f"not an http(s) URL: {url[:200]}")
    location = netloc(url)
    if location in own:
        return
    host = urlsplit(url.strip()).hostname or ""
    if host_is_internal(host, resolve):
        raise RefusedAddress(f"internal address refused: {location}")


def site_key(url: str) -> str:
    """What makes two URLs 'the same site': the registrable domain; host:port for IP addresses and bare names."""
    location = netloc(url)
    host = location.rsplit(":", 1)[0] if location.count(":") == 1 else location
    try:
        ipaddress.ip_address(host.strip("[]"))
        return location
    except ValueError:
        pass
    parts = _EXTRACT(host)
    if not parts.suffix or not parts.domain:
        return location
    return f"{parts.domain}.{parts.suffix}"


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on the same registrable domain (same host and port for IPs)."""
    key = site_key(a)
    return bool(key) and key == site_key(b)


def clean_text(value: str) -> str:
    """Drop terminal escape sequences, control characters (tab and newline kept) and bidi overrides."""
    if not value:
        return value
    return _CONTROLS.sub("", _ESCAPES.sub("", value))
