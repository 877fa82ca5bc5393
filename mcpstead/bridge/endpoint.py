"""Where `mcpstead connect` finds the gateway: the URL argument, else $MCPSTEAD_URL, else the config's host and
port; and the bearer token from $MCPSTEAD_BEARER_TOKEN."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig
from mcpstead.errors import ConfigError
from mcpstead.secrets import Secret

URL_ENV = "MCPSTEAD_URL"
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a gateway listening on `host`:`port` (a wildcard address
    is reached through loopback; an IPv6 literal goes in brackets)."""
    if host in _WILDCARDS:
        host = "127.0.0.1"
    else:
        try:
            if ipaddress.ip_address(host.strip("[]")).version == 6:
                host = f"[{host.strip('[]')}]"
        except ValueError:
            pass  # a host name
    return f"http://{host}:{port}/mcp"


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: Secret | None
    auth_expected: bool
    """The config says `mcp.auth.mode: bearer` (so a missing token is worth a warning)."""


def _config_host_port(path: Path, explicit: bool) -> tuple[str, int, bool]:
    """host, port and whether bearer auth is on, read leniently: the rest of the config (its upstreams and
    their variables) is the gateway's business, and a client's environment may not have them."""
    defaults = GatewayConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if explicit:
            raise ConfigError([f"{path}: cannot read the config file: no such file"]) from None
        return defaults.host, defaults.port, False
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read host and port from it: {exc}"]) from None
    raw = raw if isinstance(raw, dict) else {}
    host, port = raw.get("host", defaults.host), raw.get("port", defaults.port)
    if not isinstance(host, str) or not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError([f"{path}: host must be a string and port a number from 1 to 65535 to connect to"])
    mcp = raw.get("mcp")
    auth = mcp.get("auth") if isinstance(mcp, dict) else None
    return host, port, isinstance(auth, dict) and auth.get("mode") == "bearer"


def resolve_endpoint(url: str | None, config_path: Path, explicit_config: bool, environ: Mapping[str, str]) -> Endpoint:
    auth_expected = False
    if not url:
        url = environ.get(URL_ENV) or None
    if not url:
        host, port, auth_expected = _config_host_port(config_path, explicit_config)
        url = client_url(host, port)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError([f"connect: '{url}' is not an http:// or https:// URL"])
    token = environ.get(BEARER_TOKEN_ENV, "").strip()
    return Endpoint(url=url, token=Secret(token) if token else None, auth_expected=auth_expected)
