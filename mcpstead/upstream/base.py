"""What every upstream connection offers, whatever its transport, and the handshake they share."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mcpstead import __version__, jsonrpc
from mcpstead.errors import UpstreamError
from mcpstead.protocol import LATEST_VERSION

NotificationHandler = Callable[[dict[str, Any]], None]
ByteCounter = Callable[[str, int], None]
"""Told the size of every message sent ("sent") and received ("received"), for the bytes metric."""

CLIENT_INFO = {"name": "mcpstead", "version": __version__}
MAX_TOOL_PAGES = 1000
"""A bound on tools/list pages, so an upstream that repeats a cursor cannot loop the gateway forever."""

_request_ids = itertools.count(1)


def next_request_id() -> int:
    """Gateway-unique upstream request ids: no two requests in flight anywhere share one."""
    return next(_request_ids)


@dataclass(frozen=True, slots=True)
class UpstreamIdentity:
    """What the upstream told us about itself in `initialize`."""

    protocol_version: str
    server_name: str
    server_version: str
    capabilities: dict[str, Any]


class Connection(Protocol):
    """A live, initialized (or initializing) link to one upstream."""

    closed: asyncio.Event
    """Set when the link is gone for good (child exited, stream ended); `close_reason` says why."""
    close_reason: str | None

    async def open(self) -> None: ...

    async def request(self, method: str, params: dict[str, Any] | None, timeout: float) -> Any:
        """Send a request, return its `result`. Raises UpstreamRpcError for a JSON-RPC error answer and
        UpstreamError (or a subclass) for anything else that went wrong."""
        ...

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None: ...

    async def close(self) -> None: ...


async def initialize(connection: Connection, upstream: str, timeout: float) -> UpstreamIdentity:
    result = await connection.request(
        "initialize",
        {"protocolVersion": LATEST_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
        timeout,
    )
    if not isinstance(result, dict):
        raise UpstreamError(upstream, f"upstream '{upstream}' initialize returned no result object")
    info = _mapping(result.get("serverInfo"))
    capabilities = _mapping(result.get("capabilities"))
    identity = UpstreamIdentity(
        protocol_version=str(result.get("protocolVersion", LATEST_VERSION)),
        server_name=str(info.get("name", "")),
        server_version=str(info.get("version", "")),
        capabilities=capabilities,
    )
    await connection.notify("notifications/initialized")
    return identity


async def list_all_tools(connection: Connection, upstream: str, timeout: float) -> list[dict[str, Any]]:
    """Every tool of the upstream, following `nextCursor` to the end (an empty string is a valid cursor)."""
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        params = {"cursor": cursor} if cursor is not None else {}
        result = await connection.request("tools/list", params, timeout)
        page = result.get("tools") if isinstance(result, dict) else None
        if not isinstance(page, list):
            raise UpstreamError(upstream, f"upstream '{upstream}' tools/list returned no tools array")
        tools.extend(tool for tool in page if isinstance(tool, dict) and isinstance(tool.get("name"), str))
        next_cursor = result.get("nextCursor")
        if not isinstance(next_cursor, str):
            return tools
        cursor = next_cursor
    raise UpstreamError(upstream, f"upstream '{upstream}' tools/list did not end after {MAX_TOOL_PAGES} pages")


def reply_to_server_request(message: dict[str, Any]) -> dict[str, Any]:
    """The answer to a server-to-client request. Relaying them downstream is not built yet, so the upstream
    gets a prompt answer (a pong, or 'not relayed') instead of waiting forever."""
    if message["method"] == "ping":
        return jsonrpc.result_response(message["id"], {})
    return jsonrpc.error_response(
        message["id"], jsonrpc.METHOD_NOT_FOUND, f"mcpstead does not relay '{message['method']}' yet"
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def request_message(method: str, params: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """A JSON-RPC request with a fresh gateway-unique id, and that id."""
    request_id = next_request_id()
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return request_id, message


def notification_message(method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message
