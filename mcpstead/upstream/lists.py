"""Fetching everything an upstream lists: tools always, prompts, resources and templates when it offers them."""

from __future__ import annotations

from typing import Any

from mcpstead.errors import UpstreamRpcError
from mcpstead.jsonrpc import METHOD_NOT_FOUND
from mcpstead.upstream.base import Connection, list_all

KIND_CAPABILITY = {"tools": None, "prompts": "prompts", "resources": "resources", "resourceTemplates": "resources"}
"""List kind -> the server capability that offers it (tools are always asked for, as before)."""


async def fetch_lists(
    connection: Connection, upstream: str, capabilities: dict[str, Any], timeout: float
) -> dict[str, tuple[dict[str, Any], ...]]:
    """Every list the upstream's capabilities offer. A list answered -32601 (a server with resources but no
    templates, say) is empty; any other failure fails the refresh."""
    lists: dict[str, tuple[dict[str, Any], ...]] = {}
    for kind, capability in KIND_CAPABILITY.items():
        if capability is not None and not isinstance(capabilities.get(capability), dict):
            continue
        try:
            lists[kind] = tuple(await list_all(connection, upstream, kind, timeout))
        except UpstreamRpcError as exc:
            if exc.error.get("code") != METHOD_NOT_FOUND or kind == "tools":
                raise
            lists[kind] = ()
    return lists
