"""Fetching everything an upstream lists: tools always, prompts, resources and templates when it offers them."""

from __future__ import annotations

from typing import Any

from mcpstead.errors import UpstreamRpcError
from mcpstead.jsonrpc import METHOD_NOT_FOUND
from mcpstead.upstream.base import Connection, list_all

KIND_CAPABILITY = {"tools": None, "prompts": "prompts", "resources": "resources", "resourceTemplates": "resources"}
"""List kind -> the server capability that offers it (tools are always asked for, as before)."""


async def fetch_lists(
    connection: Connection, upstream: str, capabilities: dict[str, Any], timeout: float, max_items: int = 10_000
) -> tuple[dict[str, tuple[dict[str, Any], ...]], dict[str, int]]:
    """Every list the upstream's capabilities offer, each cut at `max_items`, and the kinds that were cut
    (with the limit). A list answered -32601 (a server with resources but no templates, say) is empty; any
    other failure fails the refresh."""
    lists: dict[str, tuple[dict[str, Any], ...]] = {}
    cut: dict[str, int] = {}
    for kind, capability in KIND_CAPABILITY.items():
        if capability is not None and not isinstance(capabilities.get(capability), dict):
            continue
        try:
            items = await list_all(connection, upstream, kind, timeout, max_items)
            if len(items) > max_items:
                cut[kind] = max_items
            lists[kind] = tuple(items[:max_items])
        except UpstreamRpcError as exc:
            if exc.error.get("code") != METHOD_NOT_FOUND or kind == "tools":
                raise
            lists[kind] = ()
    return lists, cut
