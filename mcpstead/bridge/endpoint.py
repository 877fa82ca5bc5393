"""Where `mcpstead connect` finds the gateway: the URL argument, else $MCPSTEAD_URL, else the config's host and
port; and the bearer token from $MCPSTEAD_BEARER_TOKEN."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig, shown_value, type_name
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


@dataclass(frozen=True)
class ListenSettings:
    """What a client needs from the gateway's config: where it listens and whether it wants a token."""

    host: str
    port: int
    bearer: bool
    path: Path


def read_listen_settings(path: Path, explicit: bool) -> ListenSettings:
    """host, port and whether bearer auth is on, read leniently: the rest of the config (its upstreams and
    their variables) is the gateway's business, and a client's environment need not have them. A missing
    file means the defaults, unless it was named."""
    defaults = GatewayConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if explicit:
            raise ConfigError([f"{path}: cannot read the config file: no such file"]) from None
        return ListenSettings(defaults.host, defaults.port, False, path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read host and port from it: {exc}"]) from None
    raw = raw if isinstance(raw, dict) else {}
    host, port = raw.get("host", defaults.host), raw.get("port", defaults.port)
    if not isinstance(host, str):
        raise ConfigError([f"{path}: host: expected a string, got {type_name(host)}"])
    if port == 0:
        raise ConfigError(
            [
                f"{path}: port: 0 takes a free port at every start, so no client can be pointed at it; "
                "set a fixed port (8766 by default)"
            ]
        )
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(
            [f"{path}: port: expected a number from 1 to 65535, got {shown_value(port) or type_name(port)}"]
        )
    mcp = raw.get("mcp")
    auth = mcp.get("auth") if isinstance(mcp, dict) else None
    return ListenSettings(host, port, isinstance(auth, dict) and auth.get("mode") == "bearer", path)


def resolve_endpoint(url: str | None, config_path: Path, explicit_config: bool, environ: Mapping[str, str]) -> Endpoint:
    auth_expected = False
    if not url:
        url = environ.get(URL_ENV) or None
    if not url:
        settings = read_listen_settings(config_path, explicit_config)
        url, auth_expected = client_url(settings.host, settings.port), settings.bearer
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError([f"connect: '{url}' is not an http:// or https:// URL"])
    token = environ.get(BEARER_TOKEN_ENV, "").strip()
    return Endpoint(url=url, token=Secret(token) if token else None, auth_expected=auth_expected)
