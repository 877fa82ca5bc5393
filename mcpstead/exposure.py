"""Listening beyond loopback without auth: refused unless the user says it is meant, and then said loudly.

A gateway on 0.0.0.0 with `mcp.auth.mode: none` lets anyone who can reach the port call every upstream tool
(stdio servers run commands on this machine). `--allow-unauthenticated` is for a network that is itself the
boundary (a container's private network, a firewalled lab); the warning then stays in the log, /health and
the dashboard's header for as long as it is true.
"""

from __future__ import annotations

import ipaddress

from mcpstead.config import GatewayConfig

ALLOW_FLAG = "--allow-unauthenticated"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_exposed(config: GatewayConfig) -> bool:
    """Bound beyond loopback with no auth."""
    return config.mcp.auth.mode == "none" and not is_loopback_host(config.host)


def refused(config: GatewayConfig, allowed: bool) -> str | None:
    """Why this config may not run (start, or be reloaded into), unless the user allowed it; None: it may."""
    return refusal(config) if is_exposed(config) and not allowed else None


def refusal(config: GatewayConfig) -> str:
    """Why the gateway will not start (or reload into) this config, and the three ways out."""
    return (
        f"refusing to listen on {_address(config)} with mcp.auth.mode: none: anyone who can reach "
        "that address could call every upstream tool. Set mcp.auth.mode: bearer (the token in "
        f"MCPSTEAD_BEARER_TOKEN), listen on 127.0.0.1, or pass {ALLOW_FLAG} if the network is the boundary"
    )


def warning(config: GatewayConfig) -> str:
    """The standing warning while an exposed gateway runs because the user allowed it."""
    return (
        f"UNAUTHENTICATED: listening on {_address(config)} with mcp.auth.mode: none "
        f"({ALLOW_FLAG}); anyone who can reach it can call every upstream tool"
    )


def _address(config: GatewayConfig) -> str:
    host = config.host
    return f"[{host.strip('[]')}]:{config.port}" if ":" in host else f"{host}:{config.port}"
