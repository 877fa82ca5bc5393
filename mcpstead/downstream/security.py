"""DNS-rebinding protection: foreign Origin headers, and foreign Host headers when bound to loopback."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from mcpstead.exposure import is_loopback_host

_HOST = re.compile(r"^(?P<name>\[[0-9a-f:.]+\]|[^\[\]:/@\s]+)(?::(?P<port>\d{1,5}))?$")
"""RFC 9110 Host: a bracketed IPv6 literal or a name, then an optional port, and nothing else."""


def _hostname(host_header: str) -> str | None:
    """`example.com:8766` -> `example.com`, `[::1]:8766` -> `[::1]`; None for anything malformed
    (`[::1].evil.com`, `a:b:c`, an empty name)."""
    match = _HOST.match(host_header)
    return match.group("name") if match else None


class RequestGuard:
    def __init__(self, bind_host: str, allowed_hosts: Iterable[str], allowed_origins: Iterable[str]) -> None:
        self._check_host = is_loopback_host(bind_host)
        self._allowed_hosts = {host.lower() for host in allowed_hosts}
        self._allowed_origins = {origin.lower().rstrip("/") for origin in allowed_origins}

    def host_allowed(self, host_header: str | None) -> bool:
        if host_header is None or not self._check_host:
            return True
        host = host_header.strip().lower()
        name = _hostname(host)
        if name is None:
            return False
        # An allowed entry without a port allows that name on any port.
        return host in self._allowed_hosts or name in self._allowed_hosts or is_loopback_host(name)

    def origin_allowed(self, origin: str | None) -> bool:
        if origin is None:
            return True  # not a browser: nothing to rebind
        origin = origin.lower().rstrip("/")
        if origin in self._allowed_origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname or "")


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str | None:
    """Who a request is from, for per-client limits: the peer, or, when the peer is a trusted proxy, the
    address that proxy appended last to X-Forwarded-For (earlier entries are the client's to forge)."""
    if peer is None or not forwarded_for or not _in_networks(peer, trusted_proxies):
        return peer
    last = forwarded_for.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return peer


def _in_networks(address: str, networks: Iterable[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in _network(network) for network in networks)


@functools.lru_cache(maxsize=256)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A trusted_proxies entry, parsed once (the config checked it parses)."""
    return ipaddress.ip_network(text, strict=False)
