"""MCP method routing for one downstream session, independent of HTTP."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mcpstead import __version__, jsonrpc
from mcpstead.errors import RpcError
from mcpstead.gateway import Gateway
from mcpstead.sessions import DownstreamSession

TOOLS_PAGE_SIZE = 1000
KNOWN_METHODS = frozenset(
    {"initialize", "ping", "tools/list", "tools/call", "notifications/initialized", "notifications/cancelled"}
)
INSTRUCTIONS = (
    "mcpstead is a gateway: tools from several MCP servers appear here as '<server>__<tool>', "
    "and each description starts with '[<server>]'."
)


def initialize_result(protocol_version: str) -> dict[str, Any]:
    return {
        "protocolVersion": protocol_version,
        "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": {"name": "mcpstead", "version": __version__},
        "instructions": INSTRUCTIONS,
    }


async def dispatch(
    gateway: Gateway, session: DownstreamSession, message: dict[str, Any], received_at: float | None = None
) -> dict[str, Any] | None:
    """Answer one JSON-RPC request, or return None for a notification. `received_at`: when the HTTP
    request arrived (monotonic), for the call record's timing split."""
    method: str = message["method"]
    label = method if method in KNOWN_METHODS else "unknown"
    if "id" not in message:
        gateway.metrics.request(label, True)
        return None
    msg_id = message["id"]
    params = message.get("params")
    started = gateway.clock.monotonic()
    try:
        if method == "ping":
            result: Any = {}
        elif method == "tools/list":
            result = list_tools(gateway, params, TOOLS_PAGE_SIZE)
        elif method == "tools/call":
            result = await gateway.route_tool_call(params, session=session, received_at=received_at)

        elif method == "initialize":
            raise RpcError(jsonrpc.INVALID_REQUEST, "this session is already initialized")
        else:
            raise RpcError(jsonrpc.METHOD_NOT_FOUND, f"method '{method}' not found")
    except RpcError as exc:
        gateway.metrics.request(label, False, gateway.clock.monotonic() - started)
        return jsonrpc.error_response(msg_id, exc.code, exc.message, exc.data)
    gateway.metrics.request(label, True, gateway.clock.monotonic() - started)
    return jsonrpc.result_response(msg_id, result)


def list_tools(gateway: Gateway, params: Any, page_size: int) -> dict[str, Any]:
    """The merged tool list, one page at a time behind an opaque cursor."""
    tools = gateway.tool_definitions()
    cursor = params.get("cursor") if isinstance(params, dict) else None
    offset = 0 if cursor is None else decode_cursor(cursor)
    page = tools[offset : offset + page_size]
    result: dict[str, Any] = {"tools": list(page)}
    if offset + page_size < len(tools):
        result["nextCursor"] = encode_cursor(offset + page_size)
    return result


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"tools:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(str(cursor).encode()).decode().partition(":")
        offset = int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RpcError(jsonrpc.INVALID_PARAMS, "invalid cursor") from None
    if kind != "tools" or offset < 0:
        raise RpcError(jsonrpc.INVALID_PARAMS, "invalid cursor")
    return offset
