"""What a reload changes: which upstreams to add, remove, restart or update in place, and which settings
need a process restart (kept at their running values, with a warning)."""

from __future__ import annotations

from dataclasses import dataclass

from mcpstead.config import GatewayConfig, ServerConfig

RESTART_FIELDS = frozenset(
    {
        "url",
        "command",
        "args",
        "env",
        "cwd",
        "protocol",
        "tls_skip_verify",
        "auth",
        "headers",
        "session",
        "max_sessions",
    }
)
"""Fields that define the connection itself (or its upstream sessions): a change means a new connection.
Naming and filters (`prefix`, `tools`, `prompts`, `resources`) apply in place: the catalog is rebuilt."""


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    restarted: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    ignored: tuple[str, ...]
    """Settings that changed but only take effect after a process restart."""


def _needs_restart(old: ServerConfig, new: ServerConfig) -> bool:
    if old.auth.token != new.auth.token:  # the same token_env may now hold another value
        return True
    return any(getattr(old, field) != getattr(new, field) for field in RESTART_FIELDS)


def diff_configs(old: GatewayConfig, new: GatewayConfig) -> ConfigDiff:
    old_servers = {server.name: server for server in old.servers}
    new_servers = {server.name: server for server in new.servers}
    restarted, updated, unchanged = [], [], []
    for name, server in new_servers.items():
        previous = old_servers.get(name)
        if previous is None:
            continue
        if _needs_restart(previous, server):
            restarted.append(name)
        elif previous != server:
            updated.append(name)
        else:
            unchanged.append(name)
    ignored = []
    if (old.host, old.port) != (new.host, new.port):
        ignored.append("host/port")
    if old.instance_id != new.instance_id:  # the prefix of the session ids issued so far, and nginx's map
        ignored.append("instance_id")
    if old.logging != new.logging:
        ignored.append("logging")
    if old.mcp.session != new.mcp.session:
        ignored.append("mcp.session")
    if old.dashboard.capture != new.dashboard.capture:
        ignored.append("dashboard.capture")
    return ConfigDiff(
        added=tuple(name for name in new_servers if name not in old_servers),
        removed=tuple(name for name in old_servers if name not in new_servers),
        restarted=tuple(restarted),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        ignored=tuple(ignored),
    )


def effective_config(old: GatewayConfig, new: GatewayConfig) -> GatewayConfig:
    """The new config with the settings that need a restart kept at their running values."""
    merged = new.model_copy(
        update={
            "host": old.host,
            "port": old.port,
            "instance_id": old.instance_id,
            "logging": old.logging,
            "mcp": new.mcp.model_copy(update={"session": old.mcp.session}),
            "dashboard": new.dashboard.model_copy(update={"capture": old.dashboard.capture}),
        }
    )
    return merged
