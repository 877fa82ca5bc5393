"""How a supervisor makes an upstream connection: the real transports, or a fake in tests (`connect=`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcpstead.config import ServerConfig
from mcpstead.protocol import Era
from mcpstead.relay import UpstreamInbound
from mcpstead.state import TransportKind
from mcpstead.upstream.base import DEFAULT_LIMIT, Connection, MessageLimit, WireHook
from mcpstead.upstream.http import StreamableHttpConnection
from mcpstead.upstream.modern import ModernHttpConnection, ModernStdioConnection
from mcpstead.upstream.stdio import StdioConnection


@dataclass(frozen=True, slots=True)
class ConnectionHooks:
    """What a connection reports back to its supervisor."""

    inbound: UpstreamInbound
    """Where notifications and server-to-client requests go (one per upstream session)."""
    on_wire: WireHook
    count_session_reset: Callable[[str], None]
    """Streamable HTTP: the upstream session was re-initialized, and why."""
    stderr: deque[str]
    """stdio: the ring the child's stderr lines go to ..."""
    stderr_written: Callable[[], None]
    """... and told after each line."""
    limit: MessageLimit = DEFAULT_LIMIT
    """The largest message the upstream may send."""
    era: Era = "legacy"
    """The protocol era to speak, over Streamable HTTP or stdio (the supervisor detects it, or the config
    pins it)."""
    tool_schema: Callable[[str], Any] = lambda name: None
    """2026-07-28: a tool's input schema, for the Mcp-Param-* headers of its calls."""


Connect = Callable[[ServerConfig, TransportKind, ConnectionHooks], Connection]
"""Makes the (unopened) connection for an upstream over one transport; tests pass a fake."""


def connect_transport(config: ServerConfig, transport: TransportKind, hooks: ConnectionHooks) -> Connection:
    """The real transports."""
    if transport == "stdio":
        kind = ModernStdioConnection if hooks.era == "modern" else StdioConnection
        return kind(config, hooks.inbound, hooks.stderr, hooks.stderr_written, hooks.on_wire, hooks.limit)
    if transport == "sse":
        from mcpstead.upstream.sse import SseConnection  # httpx is only loaded for legacy SSE upstreams

        return SseConnection(config, hooks.inbound, hooks.on_wire, hooks.limit)
    if hooks.era == "modern":
        return ModernHttpConnection(config, hooks.inbound, hooks.on_wire, hooks.limit, hooks.tool_schema)
    return StreamableHttpConnection(config, hooks.inbound, hooks.count_session_reset, hooks.on_wire, hooks.limit)
